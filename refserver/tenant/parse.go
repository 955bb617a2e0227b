package tenant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
)

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

// FieldError is one problem in a tenant document: where it is and what is
// wrong. Validate leaves File and Line empty (a Config does not remember
// where it came from); Parse and Load fill them in.
type FieldError struct {
	File  string // the name given to Parse or the path given to Load
	Line  int    // 1-based; 0 when unknown
	Field string // path of the field, e.g. "groups[2].policy"; "" for the whole document
	Msg   string // what is wrong
	Err   error  // ErrSyntax, ErrUnknownField, ErrInvalid or ErrKnowledge
}

// Error formats the problem as "file:line: field: message", as compilers
// do, leaving out the parts that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel classifying the problem.
func (e *FieldError) Unwrap() error { return e.Err }

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
	root, err := decodeStrict(data, name, &c)
	if err != nil {
		return Config{}, err
	}
	c.applyDefaults()
	var ps []*FieldError
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
				p.Line = lineOf(root, "knowledge_file") // the entries are in another file
			} else {
				p.Line = lineOf(root, p.Field)
			}
		}
		return Config{}, joinSorted(ps)
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

// decodeStrict decodes the single YAML document in data into c, rejecting
// unknown keys, and returns its root node for locating later problems.
func decodeStrict(data []byte, name string, c *Config) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: name, Msg: "empty tenant document", Err: ErrSyntax}
		}
		return nil, joinSorted(yamlErrors(name, nil, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, joinSorted(yamlErrors(name, nil, err))
		}
		return nil, &FieldError{File: name, Line: extra.Line, Msg: "more than one YAML document", Err: ErrSyntax}
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	// Node.Decode has no KnownFields, so decode the bytes again.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var ps []*FieldError
	if err := dec.Decode(c); err != nil {
		ps = yamlErrors(name, root, err)
	}
	for _, p := range fractions(root, reflect.TypeFor[Config](), "") {
		p.File = name
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		return nil, joinSorted(ps)
	}
	return root, nil
}

// fractions finds numbers with a fraction given for integer fields, which
// yaml.v3 silently truncates (max_chats: 2.5 would become 2). n is decoded
// into type t at path. Aliases are not followed: an anchored value is
// checked where it is defined, and following them could cost as much as
// the expansion yaml.v3 guards against.
func fractions(n *yaml.Node, t reflect.Type, path string) []*FieldError {
	if n == nil {
		return nil
	}
	var ps []*FieldError
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			for f := range t.Fields() {
				if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key && f.IsExported() {
					p := key
					if path != "" {
						p = path + "." + key
					}
					ps = append(ps, fractions(n.Content[i+1], f.Type, p)...)
				}
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			ps = append(ps, fractions(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && !reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
			ps = append(ps, &FieldError{Line: n.Line, Field: path, Msg: fmt.Sprintf("cannot unmarshal !!float `%s` into %s: want an integer, without fraction or exponent", n.Value, t), Err: ErrSyntax})
		}
	}
	return ps
}

// yamlErrors turns a yaml.v3 error into FieldErrors. yaml.v3 says only
// "line 7: cannot unmarshal !!str `lots` into int"; the field path is found
// from the line (and the value) in the document's nodes.
func yamlErrors(name string, root *yaml.Node, err error) []*FieldError {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
		return []*FieldError{{File: name, Line: line, Msg: msg, Err: ErrSyntax}}
	}
	idx := indexNodes(root)
	errs := make([]*FieldError, 0, len(te.Errors))
	for _, s := range te.Errors {
		line, msg := splitLine(s)
		fe := &FieldError{File: name, Line: line, Msg: msg, Err: ErrSyntax}
		if rest, ok := strings.CutPrefix(msg, "field "); ok {
			if field, typ, ok := strings.Cut(rest, " not found in type "); ok {
				fe.Err = ErrUnknownField
				fe.Field = idx.find(line, field, true)
				if fe.Field == "" {
					fe.Field = field
				}
				fe.Msg = "field not found in " + typ
				if s := suggest(field, fieldsOf(typ)); s != "" {
					fe.Msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
			}
		} else if _, v, ok := strings.Cut(msg, "`"); ok {
			v, _, _ = strings.Cut(v, "`")
			fe.Field = idx.find(line, v, false)
		} else if strings.Contains(msg, "!!seq") {
			fe.Field = idx.findKind(line, yaml.SequenceNode)
		} else if strings.Contains(msg, "!!map") {
			fe.Field = idx.findKind(line, yaml.MappingNode)
		} else {
			fe.Field = idx.find(line, "", false)
		}
		errs = append(errs, fe)
	}
	return errs
}

// joinSorted joins problems in the order of their lines.
func joinSorted(ps []*FieldError) error {
	slices.SortStableFunc(ps, func(a, b *FieldError) int { return a.Line - b.Line })
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
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

// nodeRef is a node of the document with the field path leading to it.
type nodeRef struct {
	line  int
	key   bool // a mapping key rather than a value
	kind  yaml.Kind
	value string
	path  string
}

// nodeIndex lists a document's keys and values in document order.
type nodeIndex []nodeRef

// indexNodes lists the keys and values under root with their paths.
func indexNodes(root *yaml.Node) nodeIndex {
	var idx nodeIndex
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				idx = append(idx, nodeRef{line: k.Line, key: true, kind: k.Kind, value: k.Value, path: p})
				idx = append(idx, nodeRef{line: v.Line, kind: v.Kind, value: v.Value, path: p})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				idx = append(idx, nodeRef{line: c.Line, kind: c.Kind, value: c.Value, path: p})
				walk(c, p)
			}
		}
	}
	if root != nil {
		idx = append(idx, nodeRef{line: root.Line, kind: root.Kind})
		walk(root, "")
	}
	return idx
}

// find returns the path of the key (or value) on line whose text is value,
// as yaml.v3 quotes it (values longer than 10 bytes are cut to 7 and
// "..."). An empty value, or none matching, gives the first scalar value
// on the line.
func (idx nodeIndex) find(line int, value string, key bool) string {
	prefix, cut := strings.CutSuffix(value, "...")
	first, found := "", false
	for _, r := range idx {
		if r.line != line || r.key != key || r.kind != yaml.ScalarNode {
			continue
		}
		if !found {
			first, found = r.path, true
		}
		if value != "" && (r.value == value || cut && len(r.value) > 10 && strings.HasPrefix(r.value, prefix)) {
			return r.path
		}
	}
	if key {
		return ""
	}
	return first
}

// findKind returns the path of the innermost list or mapping (kind) that
// starts on line, for errors about a whole collection.
func (idx nodeIndex) findKind(line int, kind yaml.Kind) string {
	path := ""
	for _, r := range idx {
		if r.line == line && !r.key && r.kind == kind {
			path = r.path
		}
	}
	return path
}

// lineOf returns the line of the field at path ("groups[2].policy") in the
// document under root: the line of its key or element, or of the nearest
// enclosing one present in the document; 0 when none is.
func lineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n, line := root, root.Line
	for seg := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		if name != "" {
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		}
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			rest = strings.TrimPrefix(after, "[")
			i, err := strconv.Atoi(num)
			if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
		}
	}
	return line
}

// fieldsOf returns the YAML keys of the struct type named typ (as
// reflect.Type.String spells it, e.g. "tenant.Group") reachable from
// Config, or nil.
func fieldsOf(typ string) []string {
	var keys []string
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type) bool
	visit = func(t reflect.Type) bool {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return false
		}
		seen[t] = true
		if t.String() == typ {
			for f := range t.Fields() {
				if k, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); k != "" && k != "-" && f.IsExported() {
					keys = append(keys, k)
				}
			}
			return true
		}
		for f := range t.Fields() {
			if visit(f.Type) {
				return true
			}
		}
		return false
	}
	visit(reflect.TypeFor[Config]())
	return keys
}

// suggest returns the key among known closest to the misspelt key, if one
// is close enough to be what was meant.
func suggest(key string, known []string) string {
	best, bestD := "", len(key)/3+1
	if bestD > 3 {
		bestD = 3
	}
	for _, k := range known {
		if d := editDistance(key, k); d <= bestD && (best == "" || d < editDistance(key, best)) {
			best = k
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
