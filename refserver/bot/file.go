package bot

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
)

// Knowledge-base and menu files.
//
// A knowledge-base file is a YAML list of entries:
//
//	- id: en-refund-time
//	  questions:
//	    - How long does a refund take?
//	    - When will I get my money back?
//	  answer: Refunds reach the original payment method within 1-3 business days.
//	  link: "2"            # optional: the menu item this answer points to
//
// A menu file is one mapping:
//
//	title: How can we help?
//	items:
//	  - {id: "1", label: Order status, answer: en-order-status}
//	  - {id: "9", label: Talk to a person, handoff: general}
//
// Decoding is strict: an unknown key is an error, so a misspelt "anwser"
// cannot silently drop an answer. Every error names the file, the line and,
// where there is one, the field.

// Errors of reading a file that is not what the loaders expect, each in a
// *FileError saying where; match them with errors.Is.
var (
	// ErrSyntax means a file is not YAML of the expected shape.
	ErrSyntax = errors.New("bot: syntax error")
	// ErrUnknownField means a file has a key the bot does not know.
	ErrUnknownField = errors.New("bot: unknown field")
)

// Errors of checking knowledge bases and menus, reported by the loaders in
// a *FileError and by NewKnowledgeBase and New naming the entry or item;
// match them with errors.Is.
var (
	// ErrInvalidEntry means a knowledge-base entry is missing something it
	// needs or repeats another entry's id.
	ErrInvalidEntry = errors.New("bot: invalid entry")
	// ErrInvalidMenu means a menu item is incomplete, repeats an id or
	// refers to an entry the knowledge base does not have.
	ErrInvalidMenu = errors.New("bot: invalid menu")
)

// FileError is a problem at one place of a knowledge-base, menu or probe
// file. Err is the sentinel that classifies it (ErrSyntax, ErrUnknownField,
// ErrInvalidEntry, ErrInvalidMenu). It has the fields of a
// strictyaml.Error, but names the key concerned rather than its path: the
// line already says which entry or item.
type FileError struct {
	File  string // the name given to the loader
	Line  int    // 1-based line; 0 when the parser did not say
	Field string // the key concerned; "" when the problem is not about one key
	Msg   string // what is wrong
	Err   error
}

// Error formats the problem as "file:line: field key: message", as
// compilers do, so editors can jump to it.
func (e *FileError) Error() string {
	se := strictyaml.Error(*e)
	if se.Field != "" {
		se.Field = "field " + se.Field
	}
	return se.Error()
}

// Unwrap returns the sentinel that classifies the problem.
func (e *FileError) Unwrap() error { return e.Err }

// LoadEntries reads a knowledge-base file: a YAML list of entries, decoded
// strictly. name is used in errors only. It also checks what
// NewKnowledgeBase checks, so a broken file is reported with line numbers
// rather than entry positions. Every problem found is returned, joined.
func LoadEntries(r io.Reader, name string) ([]Entry, error) {
	var entries []Entry
	root, err := decodeStrict(r, name, &entries)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, &FileError{File: name, Line: root.Line, Msg: "no entries", Err: ErrInvalidEntry}
	}
	var errs []error
	for _, p := range entryProblems(entries) {
		line, field := locate(root, p)
		errs = append(errs, &FileError{File: name, Line: line, Field: field, Msg: p.msg, Err: ErrInvalidEntry})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return entries, nil
}

// LoadMenu reads a menu file, decoded strictly. name is used in errors only.
// It checks the menu's own consistency; New checks its references to a
// knowledge base.
func LoadMenu(r io.Reader, name string) (Menu, error) {
	var m Menu
	root, err := decodeStrict(r, name, &m)
	if err != nil {
		return Menu{}, err
	}
	var errs []error
	for _, p := range menuProblems(&m) {
		path := p.field
		if p.index >= 0 {
			path = fmt.Sprintf("items[%d].%s", p.index, p.field)
		}
		errs = append(errs, &FileError{File: name, Line: strictyaml.Line(root, path), Field: p.field, Msg: p.msg, Err: ErrInvalidMenu})
	}
	if len(errs) > 0 {
		return Menu{}, errors.Join(errs...)
	}
	return m, nil
}

// decodeStrict reads the single YAML document in r and decodes it into v
// with strictyaml.Decode, and returns the document's root node so callers
// can report line numbers for problems found after decoding.
func decodeStrict(r io.Reader, name string, v any) (*yaml.Node, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	root, ps := strictyaml.Decode(data, name, v, strictyaml.Options{Syntax: ErrSyntax, UnknownField: ErrUnknownField})
	if len(ps) == 0 {
		return root, nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		fe := FileError(*p)
		fe.Field = lastKey(fe.Field)
		errs[i] = &fe
	}
	return nil, errors.Join(errs...)
}

// lastKey returns the last key of a field path: "colour" for
// "items[2].colour", "questions" for "[0].questions[1]", "" for "[0]".
func lastKey(path string) string {
	k := path[strings.LastIndexByte(path, '.')+1:]
	k, _, _ = strings.Cut(k, "[")
	return k
}

// locate finds the line of an entry problem in a knowledge-base file's root
// sequence: the line of the field's key if present, else of the entry.
func locate(root *yaml.Node, p problem) (int, string) {
	return strictyaml.Line(root, fmt.Sprintf("[%d].%s", p.index, p.field)), p.field
}

// problem is one validation failure: the position of the entry or menu item
// (-1 for the menu itself), the YAML key concerned and what is wrong. The
// loaders turn problems into FileErrors with lines; the constructors into
// errors naming the entry.
type problem struct {
	index int
	field string
	msg   string
}

// entryProblems checks entries for what NewKnowledgeBase needs: unique,
// non-empty ids, at least one question, no blank question, an answer.
func entryProblems(entries []Entry) []problem {
	var ps []problem
	seen := make(map[string]int, len(entries))
	for i := range entries {
		e := &entries[i]
		if strings.TrimSpace(e.ID) == "" {
			ps = append(ps, problem{i, "id", "empty id"})
		} else if j, dup := seen[e.ID]; dup {
			ps = append(ps, problem{i, "id", fmt.Sprintf("duplicate id %q (also entry %d)", e.ID, j)})
		} else {
			seen[e.ID] = i
		}
		if len(e.Questions) == 0 {
			ps = append(ps, problem{i, "questions", "no questions"})
		}
		for k, q := range e.Questions {
			if strings.TrimSpace(q) == "" {
				ps = append(ps, problem{i, "questions", fmt.Sprintf("question %d is blank", k)})
			}
		}
		if strings.TrimSpace(e.Answer) == "" {
			ps = append(ps, problem{i, "answer", "empty answer"})
		}
	}
	return ps
}

// menuProblems checks a menu's own consistency: a title, at least one item,
// unique non-empty item ids, labels, and exactly one of answer and handoff
// per item.
func menuProblems(m *Menu) []problem {
	var ps []problem
	if strings.TrimSpace(m.Title) == "" {
		ps = append(ps, problem{-1, "title", "empty title"})
	}
	if len(m.Items) == 0 {
		ps = append(ps, problem{-1, "items", "no items"})
	}
	seen := make(map[string]int, len(m.Items))
	for i := range m.Items {
		it := &m.Items[i]
		// Ids compare as customers type them: "１" is "1".
		id := string(normalize(nil, it.ID))
		switch {
		case strings.TrimSpace(it.ID) == "":
			ps = append(ps, problem{i, "id", "empty id"})
		case id == "":
			ps = append(ps, problem{i, "id", fmt.Sprintf("id %q has no letter or digit", it.ID)})
		default:
			if j, dup := seen[id]; dup {
				ps = append(ps, problem{i, "id", fmt.Sprintf("duplicate id %q (also item %d)", it.ID, j)})
			} else {
				seen[id] = i
			}
		}
		if strings.TrimSpace(it.Label) == "" {
			ps = append(ps, problem{i, "label", "empty label"})
		}
		switch {
		case it.Answer == "" && it.Handoff == "":
			ps = append(ps, problem{i, "answer", "item needs an answer or a handoff"})
		case it.Answer != "" && it.Handoff != "":
			ps = append(ps, problem{i, "handoff", "item has both an answer and a handoff"})
		}
	}
	return ps
}
