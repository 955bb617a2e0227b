package bot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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

// Errors reported by the loaders and constructors. They are matched with
// errors.Is; a *FileError also says where in a file the problem is.
var (
	// ErrSyntax means a file is not YAML of the expected shape.
	ErrSyntax = errors.New("bot: syntax error")
	// ErrUnknownField means a file has a key the bot does not know.
	ErrUnknownField = errors.New("bot: unknown field")
	// ErrInvalidEntry means a knowledge-base entry is missing something it
	// needs or repeats another entry's id.
	ErrInvalidEntry = errors.New("bot: invalid entry")
	// ErrInvalidMenu means a menu item is incomplete, repeats an id or
	// refers to an entry the knowledge base does not have.
	ErrInvalidMenu = errors.New("bot: invalid menu")
)

// FileError is a problem at one place of a knowledge-base, menu or probe
// file. Err is the sentinel that classifies it (ErrSyntax, ErrUnknownField,
// ErrInvalidEntry, ErrInvalidMenu).
type FileError struct {
	File  string // the name given to the loader
	Line  int    // 1-based line; 0 when the parser did not say
	Field string // the key concerned; "" when the problem is not about one key
	Msg   string // what is wrong
	Err   error
}

// Error formats the problem as file:line: message, as compilers do, so
// editors can jump to it.
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
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
		line, field := root.Line, p.field
		if items := mappingValue(root, "items"); p.index >= 0 && items != nil && items.Kind == yaml.SequenceNode && p.index < len(items.Content) {
			line, field = lineOf(items.Content[p.index], p.field)
		} else if k := mappingKey(root, p.field); k != nil {
			line = k.Line
		}
		errs = append(errs, &FileError{File: name, Line: line, Field: field, Msg: p.msg, Err: ErrInvalidMenu})
	}
	if len(errs) > 0 {
		return Menu{}, errors.Join(errs...)
	}
	return m, nil
}

// decodeStrict decodes the single YAML document in r into v, rejecting
// unknown keys, and also returns the document's root node so callers can
// report line numbers for problems found after decoding.
func decodeStrict(r io.Reader, name string, v any) (*yaml.Node, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{File: name, Msg: "empty file", Err: ErrSyntax}
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, &FileError{File: name, Line: line, Msg: "more than one YAML document", Err: ErrSyntax}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil { // cannot fail: Decode above parsed the same bytes
		return nil, yamlError(name, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// yamlError turns a yaml.v3 error into FileErrors carrying the file name,
// line and field that yaml.v3 only puts in its message text.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
		return &FileError{File: name, Line: line, Msg: msg, Err: ErrSyntax}
	}
	errs := make([]error, 0, len(te.Errors))
	for _, s := range te.Errors {
		line, msg := splitLine(s)
		fe := &FileError{File: name, Line: line, Msg: msg, Err: ErrSyntax}
		// yaml.v3: "field colour not found in type bot.Entry"
		if rest, ok := strings.CutPrefix(msg, "field "); ok {
			if f, typ, ok := strings.Cut(rest, " not found in type "); ok {
				fe.Field, fe.Msg, fe.Err = f, "unknown field (not in "+typ+")", ErrUnknownField
			}
		}
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// splitLine splits yaml.v3's "line 12: message" into 12 and "message".
func splitLine(s string) (int, string) {
	rest, ok := strings.CutPrefix(s, "line ")
	if !ok {
		return 0, s
	}
	num, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		return 0, s
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, s
	}
	return n, msg
}

// locate finds the line of an entry problem in a knowledge-base file's root
// sequence: the line of the field's key if present, else of the entry.
func locate(root *yaml.Node, p problem) (int, string) {
	if root.Kind != yaml.SequenceNode || p.index < 0 || p.index >= len(root.Content) {
		return root.Line, p.field
	}
	return lineOf(root.Content[p.index], p.field)
}

// lineOf returns the line of key field in mapping n, or n's own line when
// the key is absent.
func lineOf(n *yaml.Node, field string) (int, string) {
	if k := mappingKey(n, field); k != nil {
		return k.Line, field
	}
	return n.Line, field
}

// mappingKey returns the key node named key in mapping n, or nil.
func mappingKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode || key == "" {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// mappingValue returns the value node of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
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
