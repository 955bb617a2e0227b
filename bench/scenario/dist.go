package scenario

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
)

// Dist is a distribution of durations: how long a customer thinks, an agent
// types, an app stays in the background. A scenario file writes it as a
// string:
//
//	2s                             always 2s (short for const(2s))
//	const(2s)                      always 2s
//	uniform(1s, 5s)                evenly between 1s and 5s
//	exp(30s)                       exponential with mean 30s (memoryless)
//	lognormal(median=8s, p90=30s)  log-normal: half below 8s, 90% below 30s
//
// Arguments may be given by name (uniform(min=1s, max=5s), exp(mean=30s))
// or in that order. The zero Dist is unset: it samples 0, and a field left
// unset takes its default. Build one in code with Const, Uniform, Exp,
// LogNormal or ParseDist.
type Dist struct{ s shape }

// SizeDist is a distribution of message sizes in bytes, written like a Dist
// with byte counts for durations: "const(200)", "uniform(300, 1500)",
// "lognormal(median=24, p90=120)". Samples are whole bytes between 1 and
// MaxMessageSize.
type SizeDist struct{ s shape }

// MaxMessageSize is the largest message body a scenario may ask for: the
// protocol's default frame bound (64 KiB) less room for the frame's other
// fields.
const MaxMessageSize = 60 << 10

// z90 is the standard normal's 90th percentile: a log-normal's p90 is
// median·exp(σ·z90).
const z90 = 1.2815515655446004

// distKind is the family of a distribution.
type distKind uint8

const (
	distUnset distKind = iota
	distConst
	distUniform
	distExp
	distLogNormal
)

// distNames are the families as a scenario file names them, with their
// parameters in positional order.
var distNames = []struct {
	kind   distKind
	name   string
	params []string
}{
	{distConst, "const", []string{"value"}},
	{distUniform, "uniform", []string{"min", "max"}},
	{distExp, "exp", []string{"mean"}},
	{distLogNormal, "lognormal", []string{"median", "p90"}},
}

// shape is a distribution over float64 values in a unit (nanoseconds or
// bytes): const a; uniform a..b; exp with mean a; lognormal with median a
// and p90 b.
type shape struct {
	kind distKind
	a, b float64
}

// unit reads and writes a distribution's values.
type unit struct {
	name   string // "a duration", "a size"
	parse  func(string) (float64, error)
	format func(float64) string
}

var durationUnit = unit{
	name: "a duration",
	parse: func(s string) (float64, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: want a number with a unit, like 90s or 250ms", s)
		}
		return float64(d), nil
	},
	format: func(v float64) string { return time.Duration(v).String() },
}

var sizeUnit = unit{
	name: "a size",
	parse: func(s string) (float64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a size: want a whole number of bytes, like 200", s)
		}
		return float64(n), nil
	},
	format: func(v float64) string { return strconv.FormatInt(int64(v), 10) },
}

// parseShape reads a distribution; errors say what is wrong without
// repeating the input.
func parseShape(s string, u unit) (shape, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		v, err := u.parse(s)
		if err != nil {
			return shape{}, fmt.Errorf("%s, or a distribution such as exp(...)", err)
		}
		return checkShape(shape{kind: distConst, a: v}, u)
	}
	name := strings.TrimSpace(s[:open])
	body, ok := strings.CutSuffix(strings.TrimSpace(s[open+1:]), ")")
	if !ok {
		return shape{}, errors.New(`missing closing parenthesis (inside {...}, quote a distribution with commas: "uniform(1s, 5s)")`)
	}
	var kind distKind
	var params []string
	known := make([]string, 0, len(distNames))
	for _, d := range distNames {
		known = append(known, d.name)
		if d.name == name {
			kind, params = d.kind, d.params
		}
	}
	if kind == distUnset {
		msg := fmt.Sprintf("unknown distribution %q (want const, uniform, exp or lognormal", name)
		if sug := strictyaml.Suggest(name, known); sug != "" {
			msg += "; did you mean " + sug + "?"
		}
		return shape{}, errors.New(msg + ")")
	}
	args := strings.Split(body, ",")
	if strings.TrimSpace(body) == "" {
		args = nil
	}
	if len(args) != len(params) {
		return shape{}, fmt.Errorf("%s takes %d argument%s (%s), not %d", name, len(params), plural(len(params)), strings.Join(params, ", "), len(args))
	}
	vals := make([]float64, len(params))
	given := make([]bool, len(params))
	for i, arg := range args {
		arg = strings.TrimSpace(arg)
		at := i
		if key, val, named := strings.Cut(arg, "="); named {
			key = strings.TrimSpace(key)
			at = -1
			for j, p := range params {
				if p == key {
					at = j
				}
			}
			if at < 0 {
				msg := fmt.Sprintf("%s has no parameter %q (it takes %s)", name, key, strings.Join(params, ", "))
				if sug := strictyaml.Suggest(key, params); sug != "" {
					msg += "; did you mean " + sug + "?"
				}
				return shape{}, errors.New(msg)
			}
			arg = strings.TrimSpace(val)
		}
		if given[at] {
			return shape{}, fmt.Errorf("%s given twice", params[at])
		}
		v, err := u.parse(arg)
		if err != nil {
			return shape{}, fmt.Errorf("%s: %s", params[at], err)
		}
		vals[at], given[at] = v, true
	}
	sh := shape{kind: kind, a: vals[0]}
	if len(vals) > 1 {
		sh.b = vals[1]
	}
	return checkShape(sh, u)
}

// checkShape reports parameters outside their family's range.
func checkShape(sh shape, u unit) (shape, error) {
	f := u.format
	switch sh.kind {
	case distConst:
		if sh.a < 0 {
			return shape{}, fmt.Errorf("value %s is negative", f(sh.a))
		}
	case distUniform:
		if sh.a < 0 {
			return shape{}, fmt.Errorf("min %s is negative", f(sh.a))
		}
		if sh.a > sh.b {
			return shape{}, fmt.Errorf("min %s exceeds max %s", f(sh.a), f(sh.b))
		}
	case distExp:
		if sh.a <= 0 {
			return shape{}, fmt.Errorf("mean %s must be above 0", f(sh.a))
		}
	case distLogNormal:
		if sh.a <= 0 {
			return shape{}, fmt.Errorf("median %s must be above 0", f(sh.a))
		}
		if sh.b <= sh.a {
			return shape{}, fmt.Errorf("p90 %s must exceed median %s", f(sh.b), f(sh.a))
		}
	}
	return sh, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sample draws a value; an unset shape gives 0.
func (sh shape) sample(r *rand.Rand) float64 {
	switch sh.kind {
	case distConst:
		return sh.a
	case distUniform:
		return sh.a + r.Float64()*(sh.b-sh.a)
	case distExp:
		return r.ExpFloat64() * sh.a
	case distLogNormal:
		return math.Exp(math.Log(sh.a) + sh.sigma()*r.NormFloat64())
	}
	return 0
}

// sigma is a log-normal's σ from its median and p90.
func (sh shape) sigma() float64 { return math.Log(sh.b/sh.a) / z90 }

// mean is the distribution's expected value.
func (sh shape) mean() float64 {
	switch sh.kind {
	case distConst:
		return sh.a
	case distUniform:
		return (sh.a + sh.b) / 2
	case distExp:
		return sh.a
	case distLogNormal:
		s := sh.sigma()
		return sh.a * math.Exp(s*s/2)
	}
	return 0
}

// max is the largest value the distribution gives, +Inf when unbounded.
func (sh shape) max() float64 {
	switch sh.kind {
	case distConst:
		return sh.a
	case distUniform:
		return sh.b
	case distExp, distLogNormal:
		return math.Inf(1)
	}
	return 0
}

// min is the smallest value the distribution gives.
func (sh shape) min() float64 {
	switch sh.kind {
	case distConst, distUniform:
		return sh.a
	}
	return 0
}

// format writes the shape as a scenario file does.
func (sh shape) format(u unit) string {
	f := u.format
	switch sh.kind {
	case distConst:
		return "const(" + f(sh.a) + ")"
	case distUniform:
		return "uniform(" + f(sh.a) + ", " + f(sh.b) + ")"
	case distExp:
		return "exp(" + f(sh.a) + ")"
	case distLogNormal:
		return "lognormal(median=" + f(sh.a) + ", p90=" + f(sh.b) + ")"
	}
	return ""
}

// clampDuration converts a sampled value to a Duration, at most 100 years.
func clampDuration(v float64) time.Duration {
	const limit = 100 * 365 * 24 * float64(time.Hour)
	switch {
	case !(v > 0): // also NaN
		return 0
	case v > limit:
		return time.Duration(limit)
	}
	return time.Duration(v)
}

// ParseDist reads a distribution of durations as a scenario file writes
// it, e.g. "exp(30s)"; see Dist.
func ParseDist(s string) (Dist, error) {
	sh, err := parseShape(s, durationUnit)
	if err != nil {
		return Dist{}, fmt.Errorf("%w: distribution %q: %s", ErrSyntax, s, err)
	}
	return Dist{sh}, nil
}

// mustDist builds a Dist in code, panicking on parameters ParseDist would
// refuse: a programming error.
func mustDist(sh shape) Dist {
	sh, err := checkShape(sh, durationUnit)
	if err != nil {
		panic("scenario: " + err.Error())
	}
	return Dist{sh}
}

// Const returns the distribution that is always d. It panics if d is
// negative.
func Const(d time.Duration) Dist { return mustDist(shape{kind: distConst, a: float64(d)}) }

// Uniform returns the distribution even between min and max. It panics if
// min is negative or exceeds max.
func Uniform(min, max time.Duration) Dist {
	return mustDist(shape{kind: distUniform, a: float64(min), b: float64(max)})
}

// Exp returns the exponential distribution with the given mean: the
// waiting time of a memoryless process (Poisson arrivals, patience in
// Erlang A). It panics unless mean is positive.
func Exp(mean time.Duration) Dist { return mustDist(shape{kind: distExp, a: float64(mean)}) }

// LogNormal returns the log-normal distribution with the given median and
// 90th percentile: the usual shape of human task times, with a long right
// tail. It panics unless 0 < median < p90.
func LogNormal(median, p90 time.Duration) Dist {
	return mustDist(shape{kind: distLogNormal, a: float64(median), b: float64(p90)})
}

// Sample draws a duration from d using r; an unset Dist gives 0. Samples
// are never negative.
func (d Dist) Sample(r *rand.Rand) time.Duration { return clampDuration(d.s.sample(r)) }

// Mean returns d's expected value (0 for an unset Dist).
func (d Dist) Mean() time.Duration { return clampDuration(d.s.mean()) }

// Max returns the largest duration d gives, and false when d is unbounded
// (exp, lognormal).
func (d Dist) Max() (time.Duration, bool) {
	m := d.s.max()
	if math.IsInf(m, 1) {
		return 0, false
	}
	return clampDuration(m), true
}

// IsSet reports whether d was given (const(0s) is set; the zero Dist is
// not).
func (d Dist) IsSet() bool { return d.s.kind != distUnset }

// String returns d as a scenario file writes it ("exp(30s)"), or "" when
// unset.
func (d Dist) String() string { return d.s.format(durationUnit) }

// MarshalYAML encodes d as its String, and an unset Dist as null, which
// decodes back to unset.
func (d Dist) MarshalYAML() (any, error) {
	if !d.IsSet() {
		return nil, nil
	}
	return d.String(), nil
}

// IsZero reports whether d is unset, so that yaml.v3's omitempty leaves it
// out.
func (d Dist) IsZero() bool { return !d.IsSet() }

// UnmarshalYAML decodes a distribution string. Errors are yaml.TypeErrors
// carrying the line, reported with the other decoding problems.
func (d *Dist) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "a distribution", `want a string like "exp(30s)"`)
	}
	sh, err := parseShape(n.Value, durationUnit)
	if err != nil {
		return typeError(n, "a distribution", err.Error())
	}
	d.s = sh
	return nil
}

// ParseSize reads a distribution of sizes in bytes, e.g. "uniform(300,
// 1500)"; see SizeDist.
func ParseSize(s string) (SizeDist, error) {
	sh, err := parseShape(s, sizeUnit)
	if err != nil {
		return SizeDist{}, fmt.Errorf("%w: size distribution %q: %s", ErrSyntax, s, err)
	}
	return SizeDist{sh}, nil
}

// ConstSize returns the size distribution that is always n bytes. It
// panics if n is negative.
func ConstSize(n int) SizeDist {
	sh, err := checkShape(shape{kind: distConst, a: float64(n)}, sizeUnit)
	if err != nil {
		panic("scenario: " + err.Error())
	}
	return SizeDist{sh}
}

// Sample draws a size from d using r, in bytes between 1 and
// MaxMessageSize; an unset SizeDist gives 1.
func (d SizeDist) Sample(r *rand.Rand) int {
	v := math.Round(d.s.sample(r))
	switch {
	case !(v >= 1):
		return 1
	case v > MaxMessageSize:
		return MaxMessageSize
	}
	return int(v)
}

// Mean returns d's expected size in bytes, before the clamping Sample
// does.
func (d SizeDist) Mean() float64 { return d.s.mean() }

// IsSet reports whether d was given.
func (d SizeDist) IsSet() bool { return d.s.kind != distUnset }

// String returns d as a scenario file writes it ("uniform(300, 1500)"),
// or "" when unset.
func (d SizeDist) String() string { return d.s.format(sizeUnit) }

// MarshalYAML encodes d as its String, and an unset SizeDist as null.
func (d SizeDist) MarshalYAML() (any, error) {
	if !d.IsSet() {
		return nil, nil
	}
	return d.String(), nil
}

// IsZero reports whether d is unset, so that yaml.v3's omitempty leaves it
// out.
func (d SizeDist) IsZero() bool { return !d.IsSet() }

// UnmarshalYAML decodes a size distribution; a bare number is a constant
// size. Errors are yaml.TypeErrors carrying the line.
func (d *SizeDist) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "a size distribution", `want a string like "uniform(300, 1500)"`)
	}
	sh, err := parseShape(n.Value, sizeUnit)
	if err != nil {
		return typeError(n, "a size distribution", err.Error())
	}
	d.s = sh
	return nil
}
