package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/tenant"
)

// Duration is a span of scenario time written as a Go duration string
// ("90s", "10m", "1h30m"); a bare number is refused, since "10" could mean
// seconds or nanoseconds. It is the type tenant files use, so both formats
// read durations alike.
type Duration = tenant.Duration

// Ratio is a share or a multiple written either as a number (0.8, 1.5) or
// as a percentage ("80%", "150%"). It holds the number: "80%" is 0.8.
type Ratio float64

// ParseRatio reads a ratio as a scenario file writes it: "0.8" or "80%".
func ParseRatio(s string) (Ratio, error) {
	v, err := parseRatio(s)
	if err != nil {
		return 0, fmt.Errorf("%w: ratio %q: %s", ErrSyntax, s, err)
	}
	return v, nil
}

func parseRatio(s string) (Ratio, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = strings.TrimSpace(p), 100
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a number like 0.8 or a percentage like 80%%")
	}
	return Ratio(f / scale), nil
}

// UnmarshalYAML decodes a number or a percentage string. Errors are
// yaml.TypeErrors carrying the line, reported with the other decoding
// problems.
func (r *Ratio) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "a ratio", "want a number like 0.8 or a percentage like 80%")
	}
	v, err := parseRatio(n.Value)
	if err != nil {
		return typeError(n, "a ratio", err.Error())
	}
	*r = v
	return nil
}

// MarshalYAML encodes r as a percentage ("80%").
func (r Ratio) MarshalYAML() (any, error) { return r.String(), nil }

// String returns r as a percentage, e.g. "80%".
func (r Ratio) String() string {
	return strconv.FormatFloat(float64(r)*100, 'g', 12, 64) + "%"
}

// typeError is a decoding problem at n's line, in the form strictyaml turns
// into a problem naming the field: the value in backquotes locates it.
func typeError(n *yaml.Node, into, why string) error {
	var what string
	if n.Kind == yaml.ScalarNode {
		what = "`" + n.Value + "`"
	} else {
		what = kindTag(n.Kind)
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into %s: %s", n.Line, what, into, why)}}
}

// kindTag names a YAML node kind as yaml.v3's messages do.
func kindTag(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "!!seq"
	case yaml.MappingNode:
		return "!!map"
	case yaml.AliasNode:
		return "an alias"
	}
	return "this node"
}
