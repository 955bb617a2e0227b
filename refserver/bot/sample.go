package bot

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The sample tenant: a shopping app's customer service in Chinese and
// English. The files live in sample/ beside this file; the tests guarantee
// they load, so the Sample functions panic only on a broken build.

//go:embed sample/shopping.yaml
var sampleEntries string

//go:embed sample/menu.yaml
var sampleMenu string

//go:embed sample/heldout.yaml
var sampleHeldout string

// SampleEntries returns the sample knowledge base: 116 Chinese and 116
// English FAQ entries of a shopping app (orders, delivery, returns, refunds,
// payment, coupons, membership, account, products, app problems), with 3 to
// 5 question variants each, and the bilingual answers of the sample menu.
// Each call returns a fresh copy.
func SampleEntries() []Entry {
	es, err := LoadEntries(strings.NewReader(sampleEntries), "sample/shopping.yaml")
	if err != nil {
		panic(err)
	}
	return es
}

// SampleMenu returns the sample tenant's bilingual navigation menu; its
// "talk to a person" item hands off to skill group "general".
func SampleMenu() Menu {
	m, err := LoadMenu(strings.NewReader(sampleMenu), "sample/menu.yaml")
	if err != nil {
		panic(err)
	}
	return m
}

// Probe is a question with the entry that should answer it; Expect is ""
// for an off-topic question the bot should not answer.
type Probe struct {
	Question string `yaml:"question"`
	Expect   string `yaml:"expect"`
}

// SampleHeldout returns the held-out probes of the sample knowledge base:
// paraphrases that are not among its indexed question variants, in Chinese
// and English, and off-topic questions. The tests measure the bot's
// accuracy and threshold on them; the load generator uses them as its
// question corpus.
func SampleHeldout() []Probe {
	ps, err := LoadProbes(strings.NewReader(sampleHeldout), "sample/heldout.yaml")
	if err != nil {
		panic(err)
	}
	return ps
}

// LoadProbes reads a probe file: a YAML list of {question, expect}, decoded
// strictly. name is used in errors only.
func LoadProbes(r io.Reader, name string) ([]Probe, error) {
	var ps []Probe
	root, err := decodeStrict(r, name, &ps)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, p := range ps {
		if strings.TrimSpace(p.Question) == "" {
			line, field := locate(root, problem{index: i, field: "question"})
			errs = append(errs, &FileError{File: name, Line: line, Field: field, Msg: fmt.Sprintf("probe %d: empty question", i), Err: ErrSyntax})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ps, nil
}
