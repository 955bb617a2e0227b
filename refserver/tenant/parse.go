package tenant

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
)

// FieldError is one problem in a tenant document: where it is and what is
// wrong, formatted as "file:line: field: message". Validate leaves File and
// Line empty (a Config does not remember where it came from); Parse and
// Load fill them in. Err is ErrSyntax, ErrUnknownField, ErrInvalid or
// ErrKnowledge.
type FieldError = strictyaml.Error

// Errors classifying what is wrong with a tenant document; match them with
// errors.Is. Each problem is a *FieldError wrapping one of them, and Parse,
// Load and Validate join every problem they find.
var (
	// ErrSyntax means the document is not YAML, or not of the shape of a
	// tenant document (a list where a mapping belongs, a word where a
	// number belongs, ...).
	ErrSyntax = errors.New("tenant: syntax error")
	// ErrUnknownField means the document has a key no tenant field has: a
	// misspelling that would otherwise be silently ignored.
	ErrUnknownField = errors.New("tenant: unknown field")
	// ErrInvalid means a field's value breaks a constraint (format, range,
	// reference to a group or entry that does not exist).
	ErrInvalid = errors.New("tenant: invalid config")
	// ErrKnowledge means knowledge_file could not be loaded.
	ErrKnowledge = errors.New("tenant: cannot load knowledge")
)

// sampleShopping names bot.SampleEntries as a knowledge_file.
const sampleShopping = "sample:shopping"

// Parse decodes a tenant document, applies defaults and validates the
// result. name is used in errors only. Decoding is strict: an unknown key
// or a value of the wrong type is an error naming the file, line and field.
// Every problem found is returned, joined.
//
// A document given to Parse has no directory, so its knowledge_file can
// only be "sample:shopping"; other knowledge must be inline. Load resolves
// knowledge files relative to the tenant file.
func Parse(data []byte, name string) (Config, error) {
	return parse(data, name, "")
}

// Load reads and parses the tenant file at path, as Parse does, loading its
// knowledge_file relative to the file's directory.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load tenant %s: %w", path, err)
	}
	return parse(data, path, filepath.Dir(path))
}

// parse implements Parse and Load. dir is the directory knowledge files are
// relative to; "" allows none.
func parse(data []byte, name, dir string) (Config, error) {
	c := Default()
	root, ps := strictyaml.Decode(data, name, &c, strictyaml.Options{Syntax: ErrSyntax, UnknownField: ErrUnknownField})
	if len(ps) > 0 {
		return Config{}, strictyaml.Join(ps)
	}
	c.applyDefaults()
	loadFailed := false
	switch {
	case c.KnowledgeFile != "" && len(c.Knowledge) > 0:
		ps = append(ps, &FieldError{Field: "knowledge_file", Msg: "give knowledge or knowledge_file, not both", Err: ErrInvalid})
	case c.KnowledgeFile != "":
		entries, err := loadKnowledge(c.KnowledgeFile, dir)
		if err != nil {
			loadFailed = true
			ps = append(ps, &FieldError{Field: "knowledge_file", Msg: err.Error(), Err: fmt.Errorf("%w: %w", ErrKnowledge, err)})
		}
		c.Knowledge = entries
	}
	for _, p := range c.problems() {
		if loadFailed && p.Field == "knowledge" {
			continue // knowledge_file failed: its error says more than "no entries"
		}
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		for _, p := range ps {
			p.File = name
			if c.KnowledgeFile != "" && strings.HasPrefix(p.Field, "knowledge") {
				p.Line = strictyaml.Line(root, "knowledge_file") // the entries are in another file
			} else {
				p.Line = strictyaml.Line(root, p.Field)
			}
		}
		return Config{}, strictyaml.Join(ps)
	}
	return c, nil
}

// loadKnowledge loads a knowledge_file: a sample, or a file relative to dir.
func loadKnowledge(file, dir string) ([]bot.Entry, error) {
	if rest, ok := strings.CutPrefix(file, "sample:"); ok {
		if file != sampleShopping {
			return nil, fmt.Errorf("unknown sample %q (known: %s)", rest, sampleShopping)
		}
		return bot.SampleEntries(), nil
	}
	if dir == "" {
		return nil, fmt.Errorf("%q: a document not read from a file cannot refer to knowledge files; give the entries inline or use %s", file, sampleShopping)
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := bot.LoadEntries(f, path)
	if err != nil {
		return nil, fmt.Errorf("load knowledge %s: %w", path, err)
	}
	return entries, nil
}

// fieldsOf returns the YAML keys of the struct type named typ (e.g.
// "tenant.Group") reachable from Config, for checking that FORMAT.md
// documents each.
func fieldsOf(typ string) []string {
	return strictyaml.Keys(reflect.TypeFor[Config](), typ)
}
