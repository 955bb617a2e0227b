package strictyaml

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var (
	errSyntax  = errors.New("test: syntax error")
	errUnknown = errors.New("test: unknown field")
	opts       = Options{Syntax: errSyntax, UnknownField: errUnknown}
)

// doc is a small format with the shapes Decode must see through: nested
// mappings, lists, maps, pointers, integers and an integer that decodes
// itself.
type doc struct {
	Name    string           `yaml:"name"`
	Count   int              `yaml:"count"`
	Size    uint16           `yaml:"size"`
	Groups  []group          `yaml:"groups"`
	Limits  *limits          `yaml:"limits"`
	Weights map[string]int   `yaml:"weights"`
	Scores  map[string]level `yaml:"scores"`
	Ignored string           `yaml:"-"`
}

type group struct {
	Name     string   `yaml:"name"`
	Policy   string   `yaml:"policy"`
	Priority int      `yaml:"priority"`
	Members  []string `yaml:"members"`
}

type limits struct {
	MaxChats int   `yaml:"max_chats"`
	Level    level `yaml:"level"`
	Untagged int
}

// level is an int that decodes itself, rounding: fractions are its own
// business.
type level int

func (l *level) UnmarshalYAML(n *yaml.Node) error {
	var f float64
	if err := n.Decode(&f); err != nil {
		return err
	}
	*l = level(f + 0.5)
	return nil
}

// problem is what a test expects of one *Error.
type problem struct {
	line  int
	field string
	msg   string // prefix of Msg
	err   error
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []problem
	}{
		{name: "valid", in: "name: x\ncount: 3\ngroups:\n  - {name: a, priority: 2}\nlimits: {max_chats: 4, level: 2.6, untagged: 1}\nweights: {a: 1}\n"},
		{name: "unknown key with suggestion", in: "name: x\ngrops: []\n", want: []problem{
			{2, "grops", "field not found in strictyaml.doc (did you mean groups?)", errUnknown},
		}},
		{name: "unknown key without suggestion", in: "colour: red\n", want: []problem{
			{1, "colour", "field not found in strictyaml.doc", errUnknown},
		}},
		{name: "unknown nested key", in: "groups:\n  - name: a\n  - name: b\n    polcy: x\n", want: []problem{
			{4, "groups[1].polcy", "field not found in strictyaml.group (did you mean policy?)", errUnknown},
		}},
		{name: "skipped field is unknown", in: "ignored: x\n", want: []problem{
			{1, "ignored", "field not found in strictyaml.doc", errUnknown},
		}},
		{name: "mistyped value", in: "name: x\ncount: lots\n", want: []problem{
			{2, "count", "cannot unmarshal !!str `lots` into int", errSyntax},
		}},
		{name: "mistyped long value", in: "groups:\n  - {name: a, priority: a-rather-long-word}\n", want: []problem{
			{2, "groups[0].priority", "cannot unmarshal !!str `a-rathe...` into int", errSyntax},
		}},
		{name: "list where a string belongs", in: "groups:\n  - name: a\n    policy: [x, y]\n", want: []problem{
			{3, "groups[0].policy", "cannot unmarshal !!seq into string", errSyntax},
		}},
		{name: "mapping where a list belongs", in: "groups:\n  - name: a\n    members: {x: y}\n", want: []problem{
			{3, "groups[0].members", "cannot unmarshal !!map into []string", errSyntax},
		}},
		{name: "fraction", in: "limits:\n  max_chats: 2.5\n", want: []problem{
			{2, "limits.max_chats", "cannot unmarshal !!float `2.5` into int: want an integer", errSyntax},
		}},
		{name: "exponent in a list and a map", in: "groups: [{name: a, priority: 1e1}]\nweights: {a: 1, b: 0.5}\n", want: []problem{
			{1, "groups[0].priority", "cannot unmarshal !!float `1e1` into int", errSyntax},
			{2, "weights.b", "cannot unmarshal !!float `0.5` into int", errSyntax},
		}},
		{name: "fraction for unsigned", in: "size: 1.5\n", want: []problem{
			{1, "size", "cannot unmarshal !!float `1.5` into uint16", errSyntax},
		}},
		{name: "fraction for a type that decodes itself", in: "limits: {level: 2.5}\nscores: {a: 0.5}\n"},
		{name: "every problem, in line order", in: "count: 1.5\nname: x\ncolour: red\nsize: many\n", want: []problem{
			{1, "count", "cannot unmarshal !!float `1.5`", errSyntax},
			{3, "colour", "field not found", errUnknown},
			{4, "size", "cannot unmarshal !!str `many`", errSyntax},
		}},
		{name: "list where a mapping belongs", in: "- a\n- b\n", want: []problem{
			{1, "", "cannot unmarshal !!seq into strictyaml.doc", errSyntax},
		}},
		{name: "not yaml", in: "name: [x\n", want: []problem{
			{1, "", "did not find expected", errSyntax},
		}},
		{name: "tab indentation", in: "groups:\n\t- name: a\n", want: []problem{
			{2, "", "found character that cannot start any token", errSyntax},
		}},
		{name: "empty", in: "", want: []problem{{0, "", "empty document", errSyntax}}},
		{name: "only a comment", in: "# nothing\n", want: []problem{{0, "", "empty document", errSyntax}}},
		{name: "two documents", in: "name: a\n---\nname: b\n", want: []problem{
			{2, "", "more than one YAML document", errSyntax},
		}},
		{name: "second document broken", in: "name: a\n---\ngroups:\n\t- name: a\n", want: []problem{
			{4, "", "found character that cannot start any token", errSyntax},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v doc
			root, ps := Decode([]byte(tt.in), "t.yaml", &v, opts)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d: %v", len(ps), len(tt.want), Join(ps))
			}
			for i, p := range ps {
				w := tt.want[i]
				if p.File != "t.yaml" || p.Line != w.line || p.Field != w.field || !strings.HasPrefix(p.Msg, w.msg) || p.Err != w.err {
					t.Errorf("problem %d: %s:%d %q %q %v; want t.yaml:%d %q %q... %v", i, p.File, p.Line, p.Field, p.Msg, p.Err, w.line, w.field, w.msg, w.err)
				}
			}
			if len(ps) == 0 && root == nil {
				t.Error("no problems and no root node")
			}
		})
	}
}

// TestDecodeRoot checks that the root node comes back with the problems,
// for locating the caller's own, and that a valid document is decoded.
func TestDecodeRoot(t *testing.T) {
	var v doc
	root, ps := Decode([]byte("name: x\ngroups:\n  - name: a\n    policy: fastest\n"), "t.yaml", &v, opts)
	if len(ps) != 0 {
		t.Fatal(Join(ps))
	}
	if v.Name != "x" || len(v.Groups) != 1 || v.Groups[0].Policy != "fastest" {
		t.Errorf("decoded %+v", v)
	}
	if root == nil || root.Kind != yaml.MappingNode || Line(root, "groups[0].policy") != 4 {
		t.Errorf("root %+v; want the document's mapping", root)
	}
	root, ps = Decode([]byte("name: x\ncolour: red\n"), "t.yaml", &v, opts)
	if len(ps) != 1 || root == nil || Line(root, "name") != 1 {
		t.Errorf("with a problem: root %v, problems %v; want the root and one problem", root, Join(ps))
	}
}

func TestLine(t *testing.T) {
	const mapping = `id: acme
groups:
  - name: support
  - name: sales
    policy: fastest
  - {name: vip,
     priority: 3}
menu:
  items: [{id: "1"}, {id: "2",
    handoff: sales}]
`
	const list = `- id: a
  answer: x
- {id: b}
`
	tests := []struct {
		doc  string
		path string
		want int
	}{
		{mapping, "", 1},
		{mapping, "id", 1},
		{mapping, "groups", 2},
		{mapping, "groups[0]", 3},
		{mapping, "groups[1].policy", 5},
		{mapping, "groups[2].priority", 7},
		{mapping, "groups[2]", 6},
		{mapping, "menu.items[1].handoff", 10},
		{mapping, "menu.items[1].id", 9},
		{mapping, "groups[1].priority", 4}, // absent: the element's line
		{mapping, "groups[7].name", 2},     // no such element: the list's key
		{mapping, "groups[x]", 2},
		{mapping, "nothing.here", 1},
		{mapping, "id.deeper", 1},
		{mapping, "[0]", 1},
		{list, "[1].id", 3},
		{list, "[0].answer", 2},
		{list, "[0].link", 1},
		{list, "[-1].id", 1},
		{list, "answer", 1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &n); err != nil {
				t.Fatal(err)
			}
			if got := Line(n.Content[0], tt.path); got != tt.want {
				t.Errorf("Line(%q) = %d; want %d", tt.path, got, tt.want)
			}
		})
	}
	if got := Line(nil, "id"); got != 0 {
		t.Errorf("Line(nil) = %d; want 0", got)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"id", "name", "groups", "default_group", "limits"}
	tests := []struct{ word, want string }{
		{"grops", "groups"},
		{"group", "groups"},
		{"defualt_group", "default_group"},
		{"nme", "name"},
		{"ID", ""},
		{"colour", ""},
		{"x", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.word, known); got != tt.want {
			t.Errorf("Suggest(%q) = %q; want %q", tt.word, got, tt.want)
		}
	}
	if got := Suggest("grops", nil); got != "" {
		t.Errorf("Suggest with none known = %q", got)
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"strictyaml.doc", []string{"name", "count", "size", "groups", "limits", "weights", "scores"}},
		{"strictyaml.group", []string{"name", "policy", "priority", "members"}},
		{"strictyaml.limits", []string{"max_chats", "level", "untagged"}},
		{"strictyaml.level", nil},
		{"tenant.Config", nil},
	}
	for _, tt := range tests {
		if got := Keys(reflect.TypeFor[*doc](), tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("Keys(%s) = %q; want %q", tt.name, got, tt.want)
		}
	}
	if got := Keys(nil, "strictyaml.doc"); got != nil {
		t.Errorf("Keys(nil) = %q", got)
	}
}

func TestError(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Field: "groups[2].policy", Msg: "unknown policy"}, "a.yaml:3: groups[2].policy: unknown policy"},
		{Error{File: "a.yaml", Field: "id", Msg: "required"}, "a.yaml: id: required"},
		{Error{File: "a.yaml", Line: 2, Msg: "more than one YAML document"}, "a.yaml:2: more than one YAML document"},
		{Error{Line: 2, Field: "id", Msg: "required"}, "id: required"},
		{Error{Msg: "empty document"}, "empty document"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
	err := fmt.Errorf("load: %w", &Error{Msg: "x", Err: errSyntax})
	if !errors.Is(err, errSyntax) {
		t.Errorf("%v does not match its sentinel", err)
	}
}

func TestJoin(t *testing.T) {
	if err := Join(nil); err != nil {
		t.Errorf("Join(nil) = %v", err)
	}
	ps := []*Error{
		{File: "f", Line: 9, Msg: "c", Err: errSyntax},
		{File: "f", Line: 2, Msg: "a", Err: errUnknown},
		{File: "f", Line: 9, Msg: "d"},
		{File: "f", Line: 2, Msg: "b"},
	}
	err := Join(ps)
	if got, want := err.Error(), "f:2: a\nf:2: b\nf:9: c\nf:9: d"; got != want {
		t.Errorf("Join = %q; want %q", got, want)
	}
	if !errors.Is(err, errSyntax) || !errors.Is(err, errUnknown) {
		t.Errorf("Join(%v) does not match the problems' sentinels", err)
	}
	if ps[0].Msg != "c" {
		t.Error("Join reordered its argument")
	}
}

// FuzzDecode checks that Decode never panics on any input, and that every
// problem says what is wrong, where and what kind of problem it is.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"name: x\ncount: 3\ngroups:\n  - {name: a, priority: 2, members: [b]}\nlimits: {max_chats: 4, level: 2.5}\nweights: {a: 1}\n",
		"grops: []\ngroups: [{polcy: x, priority: 1.5}]\nsize: 1e3\n",
		"- a\n- b\n",
		"name: [x\n",
		"a: &x [1, 2]\nb: *x\n",
		"name: a\n---\nname: b\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v doc
		root, ps := Decode(data, "fuzz.yaml", &v, opts)
		for _, p := range ps {
			if p.Msg == "" || p.File != "fuzz.yaml" || p.Line < 0 || (p.Err != errSyntax && p.Err != errUnknown) {
				t.Fatalf("problem %#v", p)
			}
		}
		if len(ps) == 0 && root == nil {
			t.Fatal("no problems and no root node")
		}
		if root != nil {
			_ = Line(root, "groups[0].name")
		}
	})
}
