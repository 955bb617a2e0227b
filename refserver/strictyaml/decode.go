package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Options says how Decode classifies problems: each Error's Err is one of
// these sentinels, so that callers match problems with their own
// package-prefixed errors.
type Options struct {
	// Syntax classifies a document that is not YAML, or not of the shape
	// of v: a list where a mapping belongs, a word or a fraction where an
	// integer belongs, more than one document, no document at all.
	Syntax error
	// UnknownField classifies a key that v has no field for: a
	// misspelling that yaml.v3 would otherwise silently ignore.
	UnknownField error
}

// Decode decodes the single YAML document in data into v, a non-nil
// pointer as for yaml.Unmarshal, strictly: an unknown key, a value of the
// wrong type and a number with a fraction for an integer field are
// problems. name is used in the problems only. It returns the document's
// root node (nil if data is not one YAML document), so the caller can
// locate its own problems with Line, and every problem found, in the order
// of their lines. v may be partly filled when there are problems.
func Decode(data []byte, name string, v any, opts Options) (*yaml.Node, []*Error) {
	t := reflect.TypeOf(v)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []*Error{{File: name, Msg: "empty document", Err: opts.Syntax}}
		}
		return nil, opts.problems(name, nil, t, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, opts.problems(name, nil, t, err)
		}
		return nil, []*Error{{File: name, Line: extra.Line, Msg: "more than one YAML document", Err: opts.Syntax}}
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	// Node.Decode has no KnownFields, so decode the bytes again.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var ps []*Error
	if err := dec.Decode(v); err != nil {
		ps = opts.problems(name, root, t, err)
	}
	for _, p := range fractions(root, t, "", opts.Syntax) {
		p.File = name
		ps = append(ps, p)
	}
	return root, byLine(ps)
}

// problems turns a yaml.v3 error from decoding into a value of type t into
// Errors. yaml.v3 says only "line 7: cannot unmarshal !!str `lots` into
// int"; the field path is found from the line (and the value) among the
// nodes under root.
func (o Options) problems(name string, root *yaml.Node, t reflect.Type, err error) []*Error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
		return []*Error{{File: name, Line: line, Msg: msg, Err: o.Syntax}}
	}
	idx := indexNodes(root)
	ps := make([]*Error, 0, len(te.Errors))
	for _, s := range te.Errors {
		line, msg := splitLine(s)
		p := &Error{File: name, Line: line, Msg: msg, Err: o.Syntax}
		if rest, ok := strings.CutPrefix(msg, "field "); ok {
			if field, typ, ok := strings.Cut(rest, " not found in type "); ok {
				p.Err = o.UnknownField
				p.Field = idx.find(line, field, true)
				if p.Field == "" {
					p.Field = field
				}
				p.Msg = "field not found in " + typ
				if s := Suggest(field, Keys(t, typ)); s != "" {
					p.Msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
			}
		} else if _, v, ok := strings.Cut(msg, "`"); ok {
			v, _, _ = strings.Cut(v, "`")
			p.Field = idx.find(line, v, false)
		} else if strings.Contains(msg, "!!seq") {
			p.Field = idx.findKind(line, yaml.SequenceNode)
		} else if strings.Contains(msg, "!!map") {
			p.Field = idx.findKind(line, yaml.MappingNode)
		} else {
			p.Field = idx.find(line, "", false)
		}
		ps = append(ps, p)
	}
	return ps
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

// fractions finds numbers with a fraction or exponent given for integer
// fields, which yaml.v3 silently truncates (max_chats: 2.5 would become 2).
// n is decoded into type t at path. Aliases are not followed: an anchored
// value is checked where it is defined, and following them could cost as
// much as the expansion yaml.v3 guards against.
func fractions(n *yaml.Node, t reflect.Type, path string, syntax error) []*Error {
	if n == nil || t == nil {
		return nil
	}
	var ps []*Error
	switch t.Kind() {
	case reflect.Pointer:
		return fractions(n, t.Elem(), path, syntax)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			for f := range t.Fields() {
				if k, ok := keyOf(f); ok && k == key {
					ps = append(ps, fractions(n.Content[i+1], f.Type, join(path, key), syntax)...)
				}
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			ps = append(ps, fractions(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), syntax)...)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			ps = append(ps, fractions(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), syntax)...)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && !reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
			ps = append(ps, &Error{Line: n.Line, Field: path, Msg: fmt.Sprintf("cannot unmarshal !!float `%s` into %s: want an integer, without fraction or exponent", n.Value, t), Err: syntax})
		}
	}
	return ps
}

// keyOf returns the YAML key of struct field f as yaml.v3 decodes it: its
// tag's name, or its name in lower case; false for a field yaml.v3 skips.
// Inline fields are not followed.
func keyOf(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	k, opts, _ := strings.Cut(tag, ",")
	if !f.IsExported() || tag == "-" || strings.Contains(","+opts+",", ",inline,") {
		return "", false
	}
	if k == "" {
		k = strings.ToLower(f.Name)
	}
	return k, true
}
