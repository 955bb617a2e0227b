package scenario

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
)

// SampleCorpus names the built-in question corpus: the held-out probes of
// the sample knowledge base (bot.SampleHeldout), paraphrases the demo
// tenant's bot should answer and off-topic questions it should not.
const SampleCorpus = "sample"

// Corpus is the question corpus customers ask the bot from, split into the
// questions the bot should answer (Expect names the entry) and off-topic
// ones (Expect is "").
type Corpus struct {
	// Answerable are the questions labelled with the entry that answers
	// them.
	Answerable []bot.Probe
	// OffTopic are the questions no entry answers.
	OffTopic []bot.Probe
}

// NewCorpus splits probes into a Corpus.
func NewCorpus(probes []bot.Probe) *Corpus {
	c := &Corpus{}
	for _, p := range probes {
		if p.Expect == "" {
			c.OffTopic = append(c.OffTopic, p)
		} else {
			c.Answerable = append(c.Answerable, p)
		}
	}
	return c
}

// Draw picks a question: with probability answerable one the bot should
// answer, otherwise an off-topic one, uniformly within each set. When a
// set is empty the other is used. It panics if the corpus is empty.
func (c *Corpus) Draw(r *rand.Rand, answerable float64) bot.Probe {
	set := c.OffTopic
	if len(c.OffTopic) == 0 || len(c.Answerable) > 0 && r.Float64() < answerable {
		set = c.Answerable
	}
	return set[r.IntN(len(set))]
}

// Corpus returns the scenario's question corpus (customers.corpus), loading
// it on first use: the sample, or a probe file relative to the scenario
// file. Parse and Load load it, so a parsed scenario's corpus is ready.
// The corpus is shared (by clones, and the sample by every scenario): do
// not modify it.
func (s *Scenario) Corpus() (*Corpus, error) {
	if s.corpus != nil && s.corpus.name == s.Customers.Corpus {
		return s.corpus.Corpus, nil
	}
	var probes []bot.Probe
	switch name := s.Customers.Corpus; {
	case name == SampleCorpus:
		c := sampleCorpus()
		s.corpus = &loadedCorpus{name: name, Corpus: c}
		return c, nil
	case s.dir == "" && s.file != "":
		return nil, &FieldError{Field: "customers.corpus", Msg: fmt.Sprintf("%q: a scenario not read from a file cannot name a corpus file; use %q or load the scenario from a file", name, SampleCorpus), Err: ErrInvalid}
	default:
		path := s.Path(name)
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("load corpus: %w", err)
		}
		defer f.Close()
		probes, err = bot.LoadProbes(f, path)
		if err != nil {
			return nil, fmt.Errorf("load corpus: %w", err)
		}
	}
	c := NewCorpus(probes)
	s.corpus = &loadedCorpus{name: s.Customers.Corpus, Corpus: c}
	return c, nil
}

// sampleCorpus is the sample corpus, split once and shared by every
// scenario.
var sampleCorpus = sync.OnceValue(func() *Corpus { return NewCorpus(bot.SampleHeldout()) })

// loadedCorpus is a corpus with the name it was loaded from, so a changed
// customers.corpus loads again.
type loadedCorpus struct {
	name string
	*Corpus
}
