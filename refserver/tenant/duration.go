package tenant

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration that decodes from YAML strings like "90s",
// "10m" or "1h30m" (time.ParseDuration syntax) and encodes back to them. A
// bare number is rejected: "10" could mean seconds or nanoseconds.
type Duration time.Duration

// UnmarshalYAML decodes a duration string. Errors are yaml.TypeErrors
// carrying the line, so they are reported with the other decoding errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into a duration: want a string like \"90s\" or \"10m\"", n.Line, kindTag(n.Kind))}}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal `%s` into a duration: want a number with a unit, like \"90s\" or \"10m\"", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML encodes d as time.Duration.String does ("10m0s").
func (d Duration) MarshalYAML() (any, error) {
	return time.Duration(d).String(), nil
}

// String returns d as time.Duration.String does.
func (d Duration) String() string { return time.Duration(d).String() }

// kindTag names a YAML node kind for error messages as yaml.v3 does.
func kindTag(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "!!seq"
	case yaml.MappingNode:
		return "!!map"
	}
	return "this node"
}
