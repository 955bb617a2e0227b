package bot

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadEntries(t *testing.T) {
	const good = `
- id: en-refund-time
  questions:
    - How long does a refund take?
    - When do I get my money back?
  answer: 1-3 business days.
  link: "2"
- id: zh-refund-time
  questions: [退款多久到账]
  answer: 1-3个工作日。
`
	es, err := LoadEntries(strings.NewReader(good), "kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].ID != "en-refund-time" || len(es[0].Questions) != 2 || es[0].Link != "2" || es[1].Answer != "1-3个工作日。" {
		t.Errorf("LoadEntries = %+v", es)
	}
}

func TestLoadEntriesErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		err   error  // sentinel
		line  int    // of the first problem
		field string // of the first problem
		msg   string // in the error text
	}{
		{
			name: "unknown field",
			in: `- id: a
  questions: [q]
  answer: x
  anwser: y
`,
			err: ErrUnknownField, line: 4, field: "anwser", msg: "kb.yaml:4: field anwser: field not found in bot.Entry (did you mean answer?)",
		},
		{
			name: "unknown field in second entry",
			in: `- id: a
  questions: [q]
  answer: x
- id: b
  question: [q]
  answer: y
`,
			err: ErrUnknownField, line: 5, field: "question", msg: "kb.yaml:5: field question",
		},
		{
			name: "wrong type",
			in: `- id: a
  questions: just one
  answer: x
`,
			err: ErrSyntax, line: 2, field: "questions", msg: "kb.yaml:2: field questions: cannot unmarshal !!str `just one` into []string",
		},
		{
			name: "wrong type in a list",
			in: `- id: a
  questions: [q, [r]]
  answer: x
`,
			err: ErrSyntax, line: 2, field: "questions", msg: "kb.yaml:2: field questions: cannot unmarshal !!seq into string",
		},
		{
			name: "not yaml",
			in:   "- id: a\n  questions: [q\n",
			err:  ErrSyntax, line: 1, msg: "kb.yaml:1: did not find expected",
		},
		{
			name: "not a list",
			in:   "id: a\n",
			err:  ErrSyntax, line: 1, msg: "kb.yaml:1: cannot unmarshal !!map",
		},
		{
			name: "empty file",
			in:   "",
			err:  ErrSyntax, msg: "kb.yaml: empty document",
		},
		{
			name: "empty list",
			in:   "[]\n",
			err:  ErrInvalidEntry, line: 1, msg: "no entries",
		},
		{
			name: "two documents",
			in:   "- {id: a, questions: [q], answer: x}\n---\n- {id: b, questions: [q], answer: x}\n",
			err:  ErrSyntax, line: 2, msg: "kb.yaml:2: more than one YAML document",
		},
		{
			name: "missing answer",
			in: `- id: a
  questions: [q]
  answer: x
- id: b
  questions: [q]
`,
			err: ErrInvalidEntry, line: 4, field: "answer", msg: "kb.yaml:4: field answer: empty answer",
		},
		{
			name: "blank question",
			in: `- id: a
  questions: [q, "  "]
  answer: x
`,
			err: ErrInvalidEntry, line: 2, field: "questions", msg: "question 1 is blank",
		},
		{
			name: "duplicate id",
			in: `- id: a
  questions: [q]
  answer: x
- id: a
  questions: [q]
  answer: y
`,
			err: ErrInvalidEntry, line: 4, field: "id", msg: `kb.yaml:4: field id: duplicate id "a" (also entry 0)`,
		},
		{
			name: "empty id",
			in:   "- {questions: [q], answer: x}\n",
			err:  ErrInvalidEntry, line: 1, field: "id", msg: "empty id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadEntries(strings.NewReader(tt.in), "kb.yaml")
			checkFileError(t, err, tt.err, tt.msg, "kb.yaml", tt.line, tt.field)
		})
	}
}

// checkFileError checks that err matches is, contains msg, and that its
// first *FileError is at file:line and names field.
func checkFileError(t *testing.T, err, is error, msg, file string, line int, field string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, is) {
		t.Errorf("error %q is not %v", err, is)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not contain %q", err, msg)
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q has no *FileError", err)
	}
	if fe.File != file || fe.Line != line || fe.Field != field {
		t.Errorf("FileError at %s:%d field %q, want %s:%d field %q", fe.File, fe.Line, fe.Field, file, line, field)
	}
}

func TestLoadEntriesAllProblems(t *testing.T) {
	in := `- id: a
  questions: []
  answer: ""
- id: a
  questions: [q]
  answer: y
`
	_, err := LoadEntries(strings.NewReader(in), "kb.yaml")
	for _, want := range []string{"kb.yaml:2: field questions: no questions", "kb.yaml:3: field answer: empty answer", "kb.yaml:4: field id: duplicate id"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

func TestLoadMenu(t *testing.T) {
	m, err := LoadMenu(strings.NewReader(`
title: How can we help?
items:
  - {id: "1", label: Orders, answer: en-order-status}
  - {id: "0", label: Talk to a person, handoff: general}
`), "menu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != "How can we help?" || len(m.Items) != 2 || m.Items[1].Handoff != "general" {
		t.Errorf("LoadMenu = %+v", m)
	}
}

func TestLoadMenuErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		err   error
		line  int
		field string
		msg   string
	}{
		{"unknown field", "title: t\nitems:\n  - {id: \"1\", label: l, answer: a, colour: red}\n", ErrUnknownField, 3, "colour", "menu.yaml:3: field colour: field not found in bot.MenuItem"},
		{"misspelt field", "title: t\nitems:\n  - {id: \"1\", lable: l, answer: a}\n", ErrUnknownField, 3, "lable", "menu.yaml:3: field lable: field not found in bot.MenuItem (did you mean label?)"},
		{"mistyped items", "title: t\nitems: {id: \"1\"}\n", ErrSyntax, 2, "items", "menu.yaml:2: field items: cannot unmarshal !!map into []bot.MenuItem"},
		{"no title", "items:\n  - {id: \"1\", label: l, answer: a}\n", ErrInvalidMenu, 1, "title", "empty title"},
		{"no items", "title: t\nitems: []\n", ErrInvalidMenu, 2, "items", "no items"},
		{"neither answer nor handoff", "title: t\nitems:\n  - {id: \"1\", label: l}\n", ErrInvalidMenu, 3, "answer", "needs an answer or a handoff"},
		{"both answer and handoff", "title: t\nitems:\n  - id: \"1\"\n    label: l\n    answer: a\n    handoff: g\n", ErrInvalidMenu, 6, "handoff", "both"},
		{"duplicate id", "title: t\nitems:\n  - {id: \"1\", label: l, answer: a}\n  - {id: \"１\", label: m, answer: b}\n", ErrInvalidMenu, 4, "id", "duplicate id"},
		{"blank id", "title: t\nitems:\n  - {id: \"?\", label: l, answer: a}\n", ErrInvalidMenu, 3, "id", "no letter or digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadMenu(strings.NewReader(tt.in), "menu.yaml")
			checkFileError(t, err, tt.err, tt.msg, "menu.yaml", tt.line, tt.field)
		})
	}
}

func TestLoadProbes(t *testing.T) {
	ps, err := LoadProbes(strings.NewReader("- {question: 退款多久到账, expect: zh-refund-time}\n- {question: tell me a joke, expect: \"\"}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Expect != "zh-refund-time" || ps[1].Expect != "" {
		t.Errorf("LoadProbes = %+v", ps)
	}
	_, err = LoadProbes(strings.NewReader("- {question: a, expected: b}\n"), "p.yaml")
	if !errors.Is(err, ErrUnknownField) || !strings.Contains(err.Error(), "p.yaml:1: field expected") {
		t.Errorf("unknown field: error %v", err)
	}
	_, err = LoadProbes(strings.NewReader("- {question: a}\n- {question: ' ', expect: b}\n"), "p.yaml")
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "p.yaml:2: field question") {
		t.Errorf("blank question: error %v", err)
	}
}

func FuzzLoadEntries(f *testing.F) {
	f.Add("- {id: a, questions: [q], answer: x}\n")
	f.Add("- id: a\n  questions: [退款]\n  answer: x\n  link: \"1\"\n")
	f.Add("- id: a\n  anwser: x\n")
	f.Add("[]")
	f.Add("{")
	f.Fuzz(func(t *testing.T, in string) {
		es, err := LoadEntries(strings.NewReader(in), "fuzz.yaml")
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) && !strings.HasPrefix(err.Error(), "read ") {
				t.Fatalf("error %q carries no *FileError", err)
			}
			return
		}
		// What the loader accepts, the index accepts.
		if _, err := NewKnowledgeBase(es); err != nil {
			t.Fatalf("LoadEntries accepted entries NewKnowledgeBase rejects: %v", err)
		}
	})
}
