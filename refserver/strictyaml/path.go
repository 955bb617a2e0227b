package strictyaml

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Line returns the line of the field at path ("groups[2].policy",
// "[0].answer" in a document that is a list) in the document under root:
// the line of its key or element, or of the nearest enclosing one present
// in the document; 0 when root is nil.
func Line(root *yaml.Node, path string) int {
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

// join appends key to the field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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
				p := join(path, k.Value)
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
// on the line; a key must match.
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
