package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
)

// MetricKind says what a metric measures, and so which statistics an
// objective may take of it.
type MetricKind uint8

const (
	// Latency is a distribution of durations, one histogram: percentiles,
	// min, max, mean, count and rate apply.
	Latency MetricKind = iota + 1
	// Counter is a count of events: count (the default), rate and, where
	// the metric has a base, ratio apply.
	Counter
	// Gauge is a single value summarising the run: only the value applies.
	Gauge
)

// String names the kind ("latency").
func (k MetricKind) String() string {
	switch k {
	case Latency:
		return "latency"
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	}
	return fmt.Sprintf("MetricKind(%d)", uint8(k))
}

// Metric describes a figure a run reports, which objectives can name. The
// names are those of the result document (reports.Result): latencies under
// latency.<name>, counters under messages, sessions, actions and errors.
type Metric struct {
	// Name is how objectives and results name it ("delivery").
	Name string
	// Kind is what it measures.
	Kind MetricKind
	// ScenarioTime is true for a latency of human scale (queue wait, first
	// reply, agent reply) measured in scenario time: bench run multiplies
	// the wall time by the time scale. Other latencies are wall time.
	ScenarioTime bool
	// Base is the counter a ratio divides by ("sessions" for abandoned);
	// "" when the metric has no ratio.
	Base string
	// Doc says what it is, for documentation and help.
	Doc string
}

// metrics is the catalogue, in the order FORMAT.md lists it.
var metrics = []Metric{
	{Name: "connect", Kind: Latency, Doc: "TCP connect: dial to established"},
	{Name: "hello", Kind: Latency, Doc: "hello sent to ready received"},
	{Name: "menu", Kind: Latency, Doc: "open sent to the menu received"},
	{Name: "bot", Kind: Latency, Doc: "a question sent to the bot's answer received"},
	{Name: "ack", Kind: Latency, Doc: "a message sent to the server's ack"},
	{Name: "delivery", Kind: Latency, Doc: "a message sent to its receipt at each recipient device"},
	{Name: "queue_wait", Kind: Latency, ScenarioTime: true, Doc: "asking for a person to being assigned one"},
	{Name: "first_reply", Kind: Latency, ScenarioTime: true, Doc: "asking for a person to the agent's first message received (its greeting)"},
	{Name: "agent_reply", Kind: Latency, ScenarioTime: true, Doc: "a customer's message to the agent's answer to it, sent"},
	{Name: "session", Kind: Latency, ScenarioTime: true, Doc: "a conversation's open acknowledged to its end"},
	{Name: "broadcast", Kind: Latency, Doc: "an admin broadcast sent to its receipt by each customer"},
	{Name: "resume", Kind: Latency, Doc: "a reconnecting hello sent to the last missed delivery received"},
	{Name: "lag", Kind: Latency, Doc: "how late the generator started its actions"},
	{Name: "sent", Kind: Counter, Doc: "distinct chat messages sent"},
	{Name: "delivered", Kind: Counter, Doc: "first receipts of a sent message by a device that should receive it"},
	{Name: "lost", Kind: Counter, Doc: "deliveries owed and never made"},
	{Name: "duplicated", Kind: Counter, Doc: "receipts of a sequence the device already had"},
	{Name: "reordered", Kind: Counter, Doc: "receipts of a sequence lower than one the device already had"},
	{Name: "unacked", Kind: Counter, Base: "sent", Doc: "messages the server never acknowledged"},
	{Name: "cut_off", Kind: Counter, Base: "sent", Doc: "what was still in flight when the run ended, counted neither lost nor unacked"},
	{Name: "errors", Kind: Counter, Doc: "protocol and client errors of every code"},
	{Name: "disconnects", Kind: Counter, Doc: "connections the server or the network ended; each client dials again (not an error)"},
	{Name: "reconnects", Kind: Counter, Doc: "redials that reached ready, resuming the client's conversations"},
	{Name: "sessions", Kind: Counter, Doc: "sessions (conversations) started"},
	{Name: "bot_resolved", Kind: Counter, Base: "sessions", Doc: "sessions the bot ended without a person"},
	{Name: "to_human", Kind: Counter, Base: "sessions", Doc: "sessions handed to a human agent"},
	{Name: "abandoned", Kind: Counter, Base: "sessions", Doc: "sessions the customer left while waiting"},
	{Name: "completed", Kind: Counter, Base: "sessions", Doc: "sessions closed after being served"},
	{Name: "late", Kind: Counter, Base: "actions", Doc: "generator actions started later than the late bound"},
	{Name: "dropped", Kind: Counter, Base: "actions", Doc: "generator actions given up without starting"},
	{Name: "max_concurrent", Kind: Gauge, Doc: "the most chats any agent carried at once"},
	{Name: "mean_concurrent", Kind: Gauge, Doc: "the time-weighted mean of chats per online agent"},
}

// Metrics returns the metrics objectives can name, in a stable order.
func Metrics() []Metric { return append([]Metric(nil), metrics...) }

// LookupMetric returns the metric named name.
func LookupMetric(name string) (Metric, bool) {
	for _, m := range metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// StatKind is which statistic of a metric an objective compares.
type StatKind uint8

const (
	// StatValue is a gauge's value.
	StatValue StatKind = iota + 1
	// StatCount is how many events: a counter's count, or how many values
	// a latency histogram holds.
	StatCount
	// StatRate is the count per second of scenario time.
	StatRate
	// StatRatio is a counter's count over its metric's Base, in [0, 1].
	StatRatio
	// StatPercentile is a latency percentile (Stat.Percentile).
	StatPercentile
	// StatMin is a latency's smallest value.
	StatMin
	// StatMax is a latency's largest value.
	StatMax
	// StatMean is a latency's mean.
	StatMean
)

// Stat is the statistic of a metric an objective compares.
type Stat struct {
	// Kind is which statistic.
	Kind StatKind
	// Percentile is the percentile for StatPercentile, in (0, 100]: 99,
	// 99.9.
	Percentile float64
}

// String names the statistic as an objective writes it: "p99", "p999",
// "p99.5", "count", "rate", "ratio", "min", "max", "mean"; "" for a
// gauge's value.
func (s Stat) String() string {
	switch s.Kind {
	case StatCount:
		return "count"
	case StatRate:
		return "rate"
	case StatRatio:
		return "ratio"
	case StatMin:
		return "min"
	case StatMax:
		return "max"
	case StatMean:
		return "mean"
	case StatPercentile:
		// p999 is 99.9 and p9999 is 99.99: write those digits-only forms
		// back as such, others with a point.
		for _, digits := range []string{"999", "9999", "99999"} {
			if v, _ := percentileDigits(digits); v == s.Percentile {
				return "p" + digits
			}
		}
		return "p" + strconv.FormatFloat(s.Percentile, 'f', -1, 64)
	}
	return ""
}

// Time reports whether the statistic is a duration (compared in
// milliseconds).
func (s Stat) Time() bool {
	switch s.Kind {
	case StatPercentile, StatMin, StatMax, StatMean:
		return true
	}
	return false
}

// Op is an objective's comparison.
type Op uint8

// The comparisons, written <, <=, ==, !=, >=, >.
const (
	OpLess Op = iota + 1
	OpLessEqual
	OpEqual
	OpNotEqual
	OpGreaterEqual
	OpGreater
)

var opNames = map[Op]string{OpLess: "<", OpLessEqual: "<=", OpEqual: "==", OpNotEqual: "!=", OpGreaterEqual: ">=", OpGreater: ">"}

// String returns the operator as written ("<=").
func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Compare reports whether "v o threshold" holds.
func (o Op) Compare(v, threshold float64) bool {
	switch o {
	case OpLess:
		return v < threshold
	case OpLessEqual:
		return v <= threshold
	case OpEqual:
		return v == threshold
	case OpNotEqual:
		return v != threshold
	case OpGreaterEqual:
		return v >= threshold
	case OpGreater:
		return v > threshold
	}
	return false
}

// Objective is a condition a run must meet, written as a string in a
// scenario file and parsed into this typed form:
//
//	delivery.p99 < 50ms        a latency percentile under a bound
//	queue_wait.p90 < 60s       in scenario time for human-scale metrics
//	lost == 0                  a counter's count
//	errors.rate < 0.5          events per second of scenario time
//	abandoned.ratio < 5%       a share of the metric's base (sessions)
//	max_concurrent >= 3        a gauge
//
// The threshold is kept in the unit the result document uses for the
// statistic: milliseconds for durations, a count, a rate per second, or a
// fraction for ratios, so Met compares it with the document's value
// directly.
type Objective struct {
	// Metric names the metric (see Metrics).
	Metric string
	// Stat is the statistic compared.
	Stat Stat
	// Op is the comparison.
	Op Op
	// Threshold is what the statistic is compared with, in the result
	// document's unit: milliseconds when Stat.Time(), else a count, a rate
	// per second or a fraction.
	Threshold float64
	// Expr is the objective as written.
	Expr string
}

// ParseObjective parses an objective as a scenario file writes it. An
// error names the objective and the column (1-based, in bytes) where it
// goes wrong.
func ParseObjective(expr string) (Objective, error) {
	o, col, why := parseObjective(expr)
	if why != "" {
		return Objective{}, fmt.Errorf("%w: objective %q: column %d: %s", ErrSyntax, expr, col, why)
	}
	return o, nil
}

// Met reports whether a run whose statistic is v (in the result
// document's unit) meets the objective.
func (o Objective) Met(v float64) bool { return o.Op.Compare(v, o.Threshold) }

// Duration returns the threshold as a duration when the statistic is one.
func (o Objective) Duration() (time.Duration, bool) {
	if !o.Stat.Time() {
		return 0, false
	}
	return time.Duration(o.Threshold * float64(time.Millisecond)), true
}

// String returns the objective in canonical form ("delivery.p99 < 50ms").
func (o Objective) String() string {
	var b strings.Builder
	b.WriteString(o.Metric)
	if st := o.Stat.String(); st != "" && !(o.Stat.Kind == StatCount && isCounter(o.Metric)) {
		b.WriteString("." + st)
	}
	b.WriteString(" " + o.Op.String() + " ")
	switch {
	case o.Stat.Time():
		d, _ := o.Duration()
		b.WriteString(d.String())
	case o.Stat.Kind == StatRatio:
		b.WriteString(Ratio(o.Threshold).String())
	default:
		b.WriteString(strconv.FormatFloat(o.Threshold, 'g', -1, 64))
	}
	return b.String()
}

func isCounter(name string) bool {
	m, ok := LookupMetric(name)
	return ok && m.Kind == Counter
}

// MarshalYAML encodes the objective as written.
func (o Objective) MarshalYAML() (any, error) {
	if o.Expr != "" {
		return o.Expr, nil
	}
	return o.String(), nil
}

// UnmarshalYAML parses an objective string. Errors are yaml.TypeErrors
// carrying the line, reported with the other decoding problems.
func (o *Objective) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "an objective", `want a string like "delivery.p99 < 50ms"`)
	}
	v, col, why := parseObjective(n.Value)
	if why != "" {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot parse objective `%s`: column %d: %s", n.Line, n.Value, col, why)}}
	}
	*o = v
	return nil
}

// parseObjective parses expr; on failure it returns the 1-based column and
// the reason.
func parseObjective(expr string) (o Objective, col int, why string) {
	o.Expr = expr
	i := 0
	skip := func() {
		for i < len(expr) && (expr[i] == ' ' || expr[i] == '\t') {
			i++
		}
	}
	word := func(ok func(byte) bool) (string, int) {
		start := i
		for i < len(expr) && ok(expr[i]) {
			i++
		}
		return expr[start:i], start + 1
	}
	isName := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' }
	isStat := func(c byte) bool { return isName(c) || c == '.' }
	isOp := func(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '!' }

	skip()
	name, nameCol := word(isName)
	if name == "" {
		if i >= len(expr) {
			return o, nameCol, `empty objective: want "METRIC[.STAT] OP THRESHOLD", e.g. "delivery.p99 < 50ms"`
		}
		return o, nameCol, fmt.Sprintf("want a metric name, found %q", expr[i:i+1])
	}
	m, ok := LookupMetric(name)
	if !ok {
		known := make([]string, len(metrics))
		for k, m := range metrics {
			known[k] = m.Name
		}
		msg := fmt.Sprintf("unknown metric %q", name)
		if s := strictyaml.Suggest(name, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		} else {
			msg += " (known: " + strings.Join(known, ", ") + ")"
		}
		return o, nameCol, msg
	}
	o.Metric = name
	dot := i < len(expr) && expr[i] == '.'
	if dot {
		i++
	}
	statText, statCol := word(isStat)
	st, why := parseStat(m, statText, dot)
	if why != "" {
		return o, statCol, why
	}
	o.Stat = st

	skip()
	opText, opCol := word(isOp)
	found := false
	for op, s := range opNames {
		if s == opText {
			o.Op, found = op, true
		}
	}
	if !found {
		if opText == "" {
			if i >= len(expr) {
				return o, opCol, "missing comparison: want <, <=, ==, !=, >= or >"
			}
			return o, opCol, fmt.Sprintf("want a comparison (<, <=, ==, !=, >=, >), found %q", expr[i:i+1])
		}
		return o, opCol, fmt.Sprintf("unknown comparison %q (want <, <=, ==, !=, >= or >)", opText)
	}

	skip()
	valCol := i + 1
	val := strings.TrimRight(expr[i:], " \t")
	if val == "" {
		return o, valCol, "missing threshold"
	}
	if k := strings.IndexAny(val, " \t"); k >= 0 {
		return o, valCol + k + 1, fmt.Sprintf("unexpected %q after the threshold", strings.TrimSpace(val[k:]))
	}
	t, why := parseThreshold(m, st, val)
	if why != "" {
		return o, valCol, why
	}
	o.Threshold = t
	return o, 0, ""
}

// parseStat reads the statistic after "metric." (text may be empty: none
// given; dot says a dot was there).
func parseStat(m Metric, text string, dot bool) (Stat, string) {
	if text == "" {
		if dot {
			return Stat{}, "missing statistic after the dot"
		}
		switch m.Kind {
		case Counter:
			return Stat{Kind: StatCount}, ""
		case Gauge:
			return Stat{Kind: StatValue}, ""
		}
		return Stat{}, fmt.Sprintf("%s is a latency: name a statistic, e.g. %s.p99 (or p50, p90, p999, min, max, mean, count, rate)", m.Name, m.Name)
	}
	var st Stat
	switch text {
	case "count":
		st.Kind = StatCount
	case "rate":
		st.Kind = StatRate
	case "ratio":
		st.Kind = StatRatio
	case "min":
		st.Kind = StatMin
	case "max":
		st.Kind = StatMax
	case "mean":
		st.Kind = StatMean
	default:
		digits, ok := strings.CutPrefix(text, "p")
		if !ok {
			return Stat{}, fmt.Sprintf("unknown statistic %q (want a percentile such as p99, or min, max, mean, count, rate, ratio)", text)
		}
		p, why := percentileDigits(digits)
		if why != "" {
			return Stat{}, fmt.Sprintf("%q: %s", text, why)
		}
		st = Stat{Kind: StatPercentile, Percentile: p}
	}
	switch m.Kind {
	case Gauge:
		return Stat{}, fmt.Sprintf("%s is a single value: compare it without a statistic, e.g. %s >= 3", m.Name, m.Name)
	case Counter:
		switch {
		case st.Time():
			return Stat{}, fmt.Sprintf("%s is a counter: compare its count, rate or ratio, not %s", m.Name, text)
		case st.Kind == StatRatio && m.Base == "":
			return Stat{}, fmt.Sprintf("%s has no ratio (it has count and rate)", m.Name)
		}
	case Latency:
		if st.Kind == StatRatio {
			return Stat{}, fmt.Sprintf("%s is a latency: it has no ratio", m.Name)
		}
	}
	return st, ""
}

// percentileDigits reads the digits after "p": p50 is 50, p999 is 99.9,
// p9999 is 99.99 (digits after a leading 99 are decimals), p99.5 is 99.5,
// p100 is 100.
func percentileDigits(d string) (float64, string) {
	if d == "" || strings.Trim(d, "0123456789.") != "" || strings.Count(d, ".") > 1 || d[0] == '.' || d[len(d)-1] == '.' {
		return 0, "want a percentile such as p50, p99, p999 or p99.5"
	}
	s := d
	if !strings.Contains(d, ".") && len(d) > 2 && d != "100" {
		if !strings.HasPrefix(d, "99") {
			return 0, "digits after the first two are decimals only from 99 up (p999 is 99.9); write other fractions with a point, e.g. p97.5"
		}
		s = d[:2] + "." + d[2:]
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || !(p > 0 && p <= 100) {
		return 0, "a percentile must be above 0 and at most 100"
	}
	return p, ""
}

// parseThreshold reads the value an objective compares with, in the unit
// of the statistic.
func parseThreshold(m Metric, st Stat, val string) (float64, string) {
	if st.Time() {
		d, err := time.ParseDuration(val)
		if err != nil {
			if _, nerr := strconv.ParseFloat(val, 64); nerr == nil {
				return 0, fmt.Sprintf("%s needs a time unit, e.g. %sms", val, val)
			}
			return 0, fmt.Sprintf("%q is not a duration (want e.g. 50ms or 2s)", val)
		}
		if d < 0 {
			return 0, fmt.Sprintf("%s: a duration threshold must not be negative", val)
		}
		return float64(d) / float64(time.Millisecond), ""
	}
	if st.Kind == StatRatio {
		r, err := parseRatio(val)
		if err != nil {
			return 0, fmt.Sprintf("%q: %s", val, err)
		}
		if r < 0 || r > 1 {
			return 0, fmt.Sprintf("%s: a ratio is between 0 and 100%%", val)
		}
		return float64(r), ""
	}
	num := val
	if st.Kind == StatRate {
		num = strings.TrimSuffix(val, "/s")
	}
	if _, err := time.ParseDuration(num); err == nil && strings.TrimLeft(num, "0123456789.+-") != "" {
		return 0, fmt.Sprintf("%s is a duration, but %s.%s is not (a number, without unit)", val, m.Name, st)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		if strings.HasSuffix(num, "%") {
			return 0, fmt.Sprintf("%s: a percentage compares a ratio, e.g. %s.ratio", val, m.Name)
		}
		return 0, fmt.Sprintf("%q is not a number", val)
	}
	if f < 0 {
		return 0, fmt.Sprintf("%s: the threshold must not be negative", val)
	}
	return f, ""
}
