package compare

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/swarmdesk/swarmdesk/reports"
)

// Verdicts of a Row, and of a Report (VerdictRegression,
// VerdictNoRegression and VerdictInconclusive only).
const (
	// VerdictRegression is a metric worse beyond noise and beyond its
	// threshold, a count that was 0 and no longer is, or an invalid new run;
	// a Report with at least one such row.
	VerdictRegression = "regression"
	// VerdictNoRegression is a Report without a regression whose sides have
	// the runs a verdict needs (Options.MinRuns each) and at least one
	// latency or resource judged on them.
	VerdictNoRegression = "no regression"
	// VerdictInconclusive is a metric that could not be judged: fewer than
	// Options.MinRuns values on a side, or values that are not independent
	// (the recording intervals of fewer than MinRuns runs; Row.Suggests
	// then says what they suggest). A Report is inconclusive when no row
	// regressed and a side has fewer than MinRuns runs, or when no latency
	// or resource could be judged.
	VerdictInconclusive = "inconclusive"
	// VerdictImprovement is a metric better beyond noise and beyond its
	// threshold, or a count that was above 0 and is now 0.
	VerdictImprovement = "improvement"
	// VerdictNotSignificant is a difference the test cannot tell from
	// noise (benchstat's "~").
	VerdictNotSignificant = "not significant"
	// VerdictUnderThreshold is a significant change smaller than the
	// metric's threshold.
	VerdictUnderThreshold = "under threshold"
	// VerdictUnchanged is a count that is 0 on both sides.
	VerdictUnchanged = "unchanged"
	// VerdictNotTested is a count above 0 on both sides: counts are not
	// tested statistically.
	VerdictNotTested = "not tested"
)

// What a Row's sample is made of.
const (
	// SamplesRuns is one value per run.
	SamplesRuns = "runs"
	// SamplesIntervals is one value per recording interval, pooled over
	// the side's runs.
	SamplesIntervals = "intervals"
	// SamplesCounts is one count per run, not tested statistically.
	SamplesCounts = "counts"
)

// Options configures Compare. A zero Alpha, Confidence, MinRuns or
// MinIntervalCount takes its default; a zero MinChange is zero.
type Options struct {
	// Alpha is the significance level: a difference is significant when
	// the Mann–Whitney U test's p-value is below it. Default 0.05.
	Alpha float64
	// Confidence is the level of the confidence interval around each
	// median. Default 0.95.
	Confidence float64
	// MinChange is the smallest relative change, for a metric without a
	// threshold, that makes a significant difference a regression or an
	// improvement: it keeps a significant 0.3% from failing a build.
	// DefaultOptions sets 0.05.
	MinChange float64
	// Thresholds overrides MinChange per row ("delivery.p99") or per
	// metric name ("delivery"); the row's own key wins.
	Thresholds map[string]float64
	// Metrics, when not empty, restricts the latency and resource rows to
	// these rows or metric names. Counts are always compared.
	Metrics []string
	// MinRuns is the fewest runs on each side for a verdict, each run one
	// value of a metric's sample (4 is the fewest at which the test can
	// reach p < 0.05 with equal sides). With fewer, the report is
	// inconclusive unless a count regressed: latencies are compared per
	// interval for what they suggest, resources not at all. Default 4.
	MinRuns int
	// MinIntervalCount is the fewest values a recording interval must hold
	// for its percentile to be one value of a per-interval sample.
	// Default 20.
	MinIntervalCount int64
	// MinAbsMs is the smallest absolute change of a latency, in
	// milliseconds, that can be a regression or an improvement, whatever
	// its relative size: a significant 12µs move of a 0.1ms median is
	// below what a load generator's timers resolve and never fails a
	// build. DefaultOptions sets 0.1; 0 disables the floor.
	MinAbsMs float64
	// AllowMixed lets a bench sim result be compared with a run on real
	// connections, which Compare otherwise refuses (ErrMixed); the report
	// then says so in Mixed. For checking the simulator against the
	// server, not for judging a build.
	AllowMixed bool
}

// DefaultOptions returns the options of bench compare without flags: the
// benchstat defaults (α = 0.05, 95% intervals) and a 5% minimum change.
func DefaultOptions() Options {
	return Options{Alpha: 0.05, Confidence: 0.95, MinChange: 0.05, MinRuns: 4, MinIntervalCount: 20, MinAbsMs: 0.1}
}

// Report is the outcome of Compare.
type Report struct {
	// Base and New describe the two sides.
	Base SideInfo `json:"base"`
	New  SideInfo `json:"new"`
	// Alpha, Confidence and MinChange are the options the report was made
	// with.
	Alpha      float64 `json:"alpha"`
	Confidence float64 `json:"confidence"`
	MinChange  float64 `json:"min_change"`
	// Verdict is the comparison's outcome: VerdictRegression,
	// VerdictNoRegression or VerdictInconclusive.
	Verdict string `json:"verdict"`
	// Reason says why the verdict is inconclusive and what would make it
	// conclusive; empty otherwise.
	Reason string `json:"reason,omitempty"`
	// Rows are the metrics compared: latencies, then resources, then
	// counts, each group sorted by key.
	Rows []Row `json:"rows"`
	// Regressions, Improvements and Inconclusive count the rows of those
	// verdicts.
	Regressions  int `json:"regressions"`
	Improvements int `json:"improvements"`
	Inconclusive int `json:"inconclusive"`
	// Mixed says how the two sides, or the runs within a side, are of
	// different kinds: sim against run (with Options.AllowMixed),
	// transports, machines, servers. A verdict over such sides is about
	// that difference as much as about the build; the Markdown puts it
	// right under the verdict.
	Mixed []string `json:"mixed,omitempty"`
	// Warnings are what a reader should know before trusting the verdict:
	// invalid runs, differing seeds, weak samples.
	Warnings []string `json:"warnings,omitempty"`
}

// SideInfo describes one side of a comparison.
type SideInfo struct {
	// Label names the side (Set.Label, else "base" or "new").
	Label string `json:"label"`
	// Paths are the files the runs were read from.
	Paths []string `json:"paths,omitempty"`
	// Runs is the number of runs.
	Runs int `json:"runs"`
	// Scenario is the runs' scenario.
	Scenario string `json:"scenario"`
	// Seeds are the runs' distinct seeds, ascending.
	Seeds []uint64 `json:"seeds,omitempty"`
	// ToolVersions are the distinct versions of the bench that made the
	// runs, sorted.
	ToolVersions []string `json:"tool_versions,omitempty"`
	// Start is the earliest start of a run and End the latest end, in UTC.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// Row is one metric compared.
type Row struct {
	// Metric is the row's key: "delivery.p99", "server.cpu_seconds",
	// "messages.lost".
	Metric string `json:"metric"`
	// Unit is the unit of the values: "ms", "s", "bytes" or "count".
	Unit string `json:"unit"`
	// Better says which direction is better; always "lower" for the rows
	// compared today.
	Better string `json:"better"`
	// Samples says what a value of the sample is: SamplesRuns,
	// SamplesIntervals or SamplesCounts.
	Samples string `json:"samples"`
	// Base and New summarise the two sides' samples.
	Base Stat `json:"base"`
	New  Stat `json:"new"`
	// Change is the relative change, (new-base)/base, of the centres, or
	// for counts of the means per run; 0 when the base is 0.
	Change float64 `json:"change"`
	// P is the p-value of the Mann–Whitney U test; 0 for counts, which are
	// not tested.
	P float64 `json:"p"`
	// Significant is P < Alpha; for counts, whether the verdict is a
	// regression or an improvement.
	Significant bool `json:"significant"`
	// Threshold is the minimum relevant change applied to the row.
	Threshold float64 `json:"threshold"`
	// Verdict is one of the Verdict constants.
	Verdict string `json:"verdict"`
	// Suggests is, for an inconclusive row compared per interval, the
	// verdict those intervals would give were they independent runs
	// (regression, improvement, not significant, under threshold): weak
	// evidence, a hint of what to repeat. Empty otherwise.
	Suggests string `json:"suggests,omitempty"`
	// Note explains the verdict when the verdict alone does not.
	Note string `json:"note,omitempty"`
}

// Stat summarises one side's sample of a row. For a statistical row Center
// is the median and Lo, Hi the confidence interval around it, infinite when
// the sample is too small for one (JSON null); for a count row Center is the
// total over the runs and Lo, Hi the smallest and largest count of a run.
type Stat struct {
	Center float64
	Lo, Hi float64
	// N is the number of values in the sample.
	N int
}

// Regressed reports whether the comparison found a regression: what makes
// CI exit 1.
func (r *Report) Regressed() bool { return r.Verdict == VerdictRegression }

// Compare compares new against base and judges every metric both sides
// recorded. It refuses sides of different scenarios (ErrScenario), a
// simulation against a run unless Options.AllowMixed (ErrMixed), an empty
// side (ErrEmpty), results that are not whole runs (ErrNotRun) and options
// out of range (ErrOptions); other differences of kind are in the report's
// Mixed, and everything else that weakens the verdict is a warning.
func Compare(base, new Set, opt Options) (*Report, error) {
	opt, err := opt.complete()
	if err != nil {
		return nil, err
	}
	if base.Label == "" {
		base.Label = "base"
	}
	if new.Label == "" {
		new.Label = "new"
	}
	if err := checkSet(base, "base"); err != nil {
		return nil, err
	}
	if err := checkSet(new, "new"); err != nil {
		return nil, err
	}
	if b, n := base.Results[0].Scenario, new.Results[0].Scenario; b != n {
		return nil, fmt.Errorf("%w: base %s is of %q, new %s of %q", ErrScenario, base.Label, b, new.Label, n)
	}
	c := &comparer{
		opt:  opt,
		base: base,
		new:  new,
		rep: &Report{
			Base: sideInfo(base), New: sideInfo(new),
			Alpha: opt.Alpha, Confidence: opt.Confidence, MinChange: opt.MinChange,
		},
		warned: map[string]bool{},
		used:   map[string]bool{},
	}
	if err := c.checkKinds(); err != nil {
		return nil, err
	}
	c.checkRuns()
	c.latencyRows()
	c.resourceRows()
	c.countRows()
	c.checkKeys()
	c.conclude()
	return c.rep, nil
}

// conclude counts the rows' verdicts and gives the report's.
func (c *comparer) conclude() {
	r := c.rep
	judged := 0
	for _, row := range r.Rows {
		switch row.Verdict {
		case VerdictRegression:
			r.Regressions++
		case VerdictImprovement:
			r.Improvements++
		case VerdictInconclusive:
			r.Inconclusive++
		}
		if row.Samples != SamplesCounts && row.Verdict != VerdictInconclusive {
			judged++
		}
	}
	switch {
	case r.Regressions > 0:
		// A count that was 0 is a regression whatever the number of runs.
		r.Verdict = VerdictRegression
	case r.Base.Runs < c.opt.MinRuns || r.New.Runs < c.opt.MinRuns:
		r.Verdict = VerdictInconclusive
		r.Reason = fmt.Sprintf("%s in base and %s in new: a verdict needs at least %d runs a side "+
			"(the intervals of fewer runs are not independent samples); repeat the runs",
			plural(r.Base.Runs, "run"), plural(r.New.Runs, "run"), c.opt.MinRuns)
	case judged == 0:
		r.Verdict = VerdictInconclusive
		r.Reason = fmt.Sprintf("no latency or resource was recorded in at least %d runs of each side", c.opt.MinRuns)
	default:
		r.Verdict = VerdictNoRegression
	}
}

// complete fills in defaults and checks the ranges.
func (o Options) complete() (Options, error) {
	def := DefaultOptions()
	if o.Alpha == 0 {
		o.Alpha = def.Alpha
	}
	if o.Confidence == 0 {
		o.Confidence = def.Confidence
	}
	if o.MinRuns == 0 {
		o.MinRuns = def.MinRuns
	}
	if o.MinIntervalCount == 0 {
		o.MinIntervalCount = def.MinIntervalCount
	}
	var bad []string
	if !(o.Alpha > 0 && o.Alpha < 1) {
		bad = append(bad, fmt.Sprintf("alpha %v not in (0, 1)", o.Alpha))
	}
	if !(o.Confidence > 0 && o.Confidence < 1) {
		bad = append(bad, fmt.Sprintf("confidence %v not in (0, 1)", o.Confidence))
	}
	if !(o.MinAbsMs >= 0) || math.IsInf(o.MinAbsMs, 0) {
		bad = append(bad, fmt.Sprintf("minimum absolute change %vms below 0 or infinite", o.MinAbsMs))
	}
	if !(o.MinChange >= 0) || math.IsInf(o.MinChange, 0) {
		bad = append(bad, fmt.Sprintf("minimum change %v below 0 or infinite", o.MinChange))
	}
	for _, k := range slices.Sorted(maps.Keys(o.Thresholds)) {
		if v := o.Thresholds[k]; !(v >= 0) || math.IsInf(v, 0) {
			bad = append(bad, fmt.Sprintf("threshold %s=%v below 0 or infinite", k, v))
		}
	}
	if o.MinRuns < 1 {
		bad = append(bad, fmt.Sprintf("minimum runs %d below 1", o.MinRuns))
	}
	if o.MinIntervalCount < 1 {
		bad = append(bad, fmt.Sprintf("minimum interval count %d below 1", o.MinIntervalCount))
	}
	if len(bad) > 0 {
		return o, fmt.Errorf("%w: %s", ErrOptions, strings.Join(bad, "; "))
	}
	return o, nil
}

// sideInfo describes set.
func sideInfo(set Set) SideInfo {
	info := SideInfo{
		Label:    set.Label,
		Paths:    slices.Clone(set.Paths),
		Runs:     len(set.Results),
		Scenario: set.Results[0].Scenario,
	}
	for _, r := range set.Results {
		if !slices.Contains(info.Seeds, r.Seed) {
			info.Seeds = append(info.Seeds, r.Seed)
		}
		if r.ToolVersion != "" && !slices.Contains(info.ToolVersions, r.ToolVersion) {
			info.ToolVersions = append(info.ToolVersions, r.ToolVersion)
		}
		if !r.Start.IsZero() && (info.Start.IsZero() || r.Start.Before(info.Start)) {
			info.Start = r.Start.UTC()
		}
		if r.End.After(info.End) {
			info.End = r.End.UTC()
		}
	}
	slices.Sort(info.Seeds)
	slices.Sort(info.ToolVersions)
	return info
}

// comparer holds one comparison under way.
type comparer struct {
	opt       Options
	base, new Set
	rep       *Report
	// warned holds the warnings given, so that each is given once.
	warned map[string]bool
	// used holds the thresholds and metric filters that matched a row.
	used map[string]bool
}

// warn adds a warning to the report, once.
func (c *comparer) warn(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !c.warned[s] {
		c.warned[s] = true
		c.rep.Warnings = append(c.rep.Warnings, s)
	}
}

// checkRuns warns of what makes the two sides' runs unlike: invalid runs,
// other seeds, other durations, runs not interleaved.
func (c *comparer) checkRuns() {
	for _, side := range []struct {
		name string
		set  Set
	}{{"base", c.base}, {"new", c.new}} {
		for i, r := range side.set.Results {
			if !r.Valid {
				c.warn("%s invalid: %s", resultName(side.set, side.name, i), strings.Join(r.InvalidReasons, "; "))
			}
		}
	}
	b, n := c.rep.Base, c.rep.New
	if !slices.Equal(b.Seeds, n.Seeds) {
		c.warn("seeds differ (base %s, new %s): the sides do not replay the same random choices", seedList(b.Seeds), seedList(n.Seeds))
	}
	bd, nd := median(durations(c.base)), median(durations(c.new))
	if bd > 0 && nd > 0 && math.Abs(nd-bd)/bd > durationTolerance {
		c.warn("runs play %s of scenario time in base and %s in new (medians): counts and CPU seconds are not comparable",
			reports.FormatMs(1000*bd), reports.FormatMs(1000*nd))
	}
	if b.Runs > 1 && n.Runs > 1 && !b.Start.IsZero() && !n.Start.IsZero() &&
		(b.End.Before(n.Start) || n.End.Before(b.Start)) {
		c.warn("base and new runs do not overlap in time (base %s, new %s): drift of the machine between them shows as a difference; interleave base and new runs",
			span(b), span(n))
	}
}

// checkKinds refuses a simulation compared with a run, unless AllowMixed,
// and lists in Mixed the other ways the runs are of different kinds.
func (c *comparer) checkKinds() error {
	if sides, ok := c.differ("", mode); ok {
		why := ": a simulation's latencies are virtual time, with no network and no server process, " +
			"so every row differs by construction"
		if !c.opt.AllowMixed {
			return fmt.Errorf("%w: %s%s; compare like with like", ErrMixed, sides, why)
		}
		c.rep.Mixed = append(c.rep.Mixed, "kinds differ: "+sides+why+"; the verdict is about the mode, not the build")
	}
	if msg, ok := c.differ("transports", func(r *reports.Result) string { return r.Transport }); ok {
		c.rep.Mixed = append(c.rep.Mixed, msg+": the verdict compares designs, not builds")
	}
	if msg, ok := c.differ("server designs", design); ok {
		c.rep.Mixed = append(c.rep.Mixed, msg+": the verdict compares designs, not builds")
	}
	if msg, ok := c.differ("servers", server); ok {
		c.rep.Mixed = append(c.rep.Mixed, msg+": network and server placement differ, not only the build")
	}
	c.checkHosts()
	return nil
}

// mode says how r was measured: by bench sim in virtual time, or by bench
// run on real connections.
func mode(r *reports.Result) string {
	if r.Sim != nil {
		return "bench sim (virtual time)"
	}
	return "bench run (real connections)"
}

// server says where the server r measured ran: "embedded refserver", or
// the --target's host ("loopback" for this machine's), without the port,
// which an embedded or test server picks anew each run; "" for a
// simulation, which has no server.
func server(r *reports.Result) string {
	switch {
	case r.Sim != nil || r.Target == "":
		return ""
	case strings.HasPrefix(r.Target, "embedded"):
		return "embedded refserver"
	}
	host := r.Target
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return "loopback"
	}
	return host
}

// design returns the connection-server design of the embedded refserver r
// measured, "gnet" of "embedded refserver (gnet) 127.0.0.1:7400"; "" when
// the target does not say (a --target, a result older than the field).
func design(r *reports.Result) string {
	rest, ok := strings.CutPrefix(r.Target, "embedded refserver (")
	if !ok {
		return ""
	}
	d, _, ok := strings.Cut(rest, ")")
	if !ok {
		return ""
	}
	return d
}

// differ says how the runs' values of get differ, between the sides or
// within one: "transports differ: base tcp, new http long polling", or
// without what, "base tcp, new http long polling". An empty value is
// unknown (a result older than the field) and not compared.
func (c *comparer) differ(what string, get func(*reports.Result) string) (string, bool) {
	values := func(set Set) []string {
		var v []string
		for _, r := range set.Results {
			if x := get(r); x != "" && !slices.Contains(v, x) {
				v = append(v, x)
			}
		}
		slices.Sort(v)
		return v
	}
	b, n := values(c.base), values(c.new)
	if len(b) == 0 || len(n) == 0 || len(b) == 1 && len(n) == 1 && b[0] == n[0] {
		return "", false
	}
	sides := fmt.Sprintf("base %s, new %s", strings.Join(b, " and "), strings.Join(n, " and "))
	if what == "" {
		return sides, true
	}
	return what + " differ: " + sides, true
}

// checkHosts lists in Mixed how the machines of the runs differ, and warns
// when only one side says which machine it ran on.
func (c *comparer) checkHosts() {
	first := func(set Set) (*reports.Host, int) {
		for i, r := range set.Results {
			if r.Host != nil {
				return r.Host, i
			}
		}
		return nil, 0
	}
	bh, bi := first(c.base)
	nh, _ := first(c.new)
	switch {
	case bh == nil && nh == nil:
		return
	case bh == nil || nh == nil:
		none := "base"
		if nh == nil {
			none = "new"
		}
		c.warn("the %s runs do not say which machine they ran on (results older than the host field): "+
			"a difference of machines would not show", none)
		return
	}
	seen := map[string]bool{}
	for _, side := range []struct {
		name string
		set  Set
	}{{"base", c.base}, {"new", c.new}} {
		for i, r := range side.set.Results {
			d := bh.Differs(r.Host)
			if len(d) == 0 || seen[strings.Join(d, "; ")] {
				continue
			}
			seen[strings.Join(d, "; ")] = true
			c.rep.Mixed = append(c.rep.Mixed, fmt.Sprintf("machines differ: %s against %s: %s; "+
				"the verdict compares machines, not only builds", resultName(c.base, "base", bi), resultName(side.set, side.name, i), strings.Join(d, ", ")))
		}
	}
}

// durationTolerance is the relative difference of the sides' median
// scenario time past which counts and CPU seconds are warned of as not
// comparable: runs of one scenario file differ by a few seconds of drain
// under load (two runs of a 120s scenario under -race played 2m27s and
// 2m28s, more than 1% apart), while a --duration override differs by far
// more.
const durationTolerance = 0.05

// durations returns the scenario time each of set's runs played, in
// seconds: what counts and CPU seconds accrue over (wall time differs with
// setup and with the machine's load).
func durations(set Set) []float64 {
	var d []float64
	for _, r := range set.Results {
		d = append(d, r.ScenarioSeconds())
	}
	return d
}

// percentile is one percentile compared of each latency metric.
type percentile struct {
	name string
	// p is the percentile, 50 for p50.
	p        float64
	run      func(reports.Latency) float64
	interval func(reports.IntervalLatency) float64
}

var percentiles = []percentile{
	{"p50", 50, func(l reports.Latency) float64 { return l.P50Ms }, func(l reports.IntervalLatency) float64 { return l.P50Ms }},
	{"p90", 90, func(l reports.Latency) float64 { return l.P90Ms }, func(l reports.IntervalLatency) float64 { return l.P90Ms }},
	{"p99", 99, func(l reports.Latency) float64 { return l.P99Ms }, func(l reports.IntervalLatency) float64 { return l.P99Ms }},
}

// latencyRows compares the percentiles of every latency metric that both
// sides recorded.
func (c *comparer) latencyRows() {
	names := map[string]bool{}
	for _, set := range []Set{c.base, c.new} {
		for _, r := range set.Results {
			for name, l := range r.Latency {
				if l.Count > 0 {
					names[name] = true
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		var keys []string
		for _, p := range percentiles {
			if c.selected(name + "." + p.name) {
				keys = append(keys, name+"."+p.name)
			}
		}
		if len(keys) == 0 {
			continue
		}
		bRuns, nRuns := recorded(c.base, name), recorded(c.new, name)
		if len(bRuns) == 0 || len(nRuns) == 0 {
			only := "base"
			if len(bRuns) == 0 {
				only = "new"
			}
			c.warn("latency %s recorded only in the %s runs: not compared", name, only)
			continue
		}
		c.warnPartial("latency "+name+" recorded", "base", len(bRuns), len(c.base.Results))
		c.warnPartial("latency "+name+" recorded", "new", len(nRuns), len(c.new.Results))
		perRun := len(bRuns) >= c.opt.MinRuns && len(nRuns) >= c.opt.MinRuns
		for _, p := range percentiles {
			key := name + "." + p.name
			if !slices.Contains(keys, key) {
				continue
			}
			var b, n []float64
			samples := SamplesRuns
			if perRun {
				b, n = runValues(bRuns, name, p), runValues(nRuns, name, p)
			} else {
				samples = SamplesIntervals
				b, n = c.intervalValues(bRuns, name, p), c.intervalValues(nRuns, name, p)
			}
			row := c.statRow(key, "ms", samples, b, n)
			if samples == SamplesIntervals {
				c.perInterval(&row, p)
			}
			c.rep.Rows = append(c.rep.Rows, row)
		}
	}
}

// perInterval makes row, compared per recording interval because its metric
// was recorded in fewer than MinRuns runs of a side, inconclusive: the
// intervals of a run are not independent samples (a slow spell spans
// several), so what they show is kept as Suggests, a hint, never a verdict.
func (c *comparer) perInterval(row *Row, p percentile) {
	if row.Verdict != VerdictInconclusive {
		row.Suggests, row.Verdict = row.Verdict, VerdictInconclusive
		row.Note = strings.TrimSuffix(fmt.Sprintf("intervals of fewer than %d runs a side; %s", c.opt.MinRuns, row.Note), "; ")
		return
	}
	least := c.intervalMin(p)
	why := fmt.Sprintf("%d values", least)
	if least > c.opt.MinIntervalCount {
		why += fmt.Sprintf(", %d above the %s", tailValues, p.name)
	}
	row.Note = fmt.Sprintf("%d base and %d new intervals of ≥%s; ≥%d a side needed",
		row.Base.N, row.New.N, why, c.opt.MinRuns)
}

// recorded returns the runs of set that recorded latency metric name.
func recorded(set Set, name string) []*reports.Result {
	var out []*reports.Result
	for _, r := range set.Results {
		if r.Latency[name].Count > 0 {
			out = append(out, r)
		}
	}
	return out
}

// runValues returns percentile p of metric name of each run.
func runValues(runs []*reports.Result, name string, p percentile) []float64 {
	var v []float64
	for _, r := range runs {
		v = append(v, p.run(r.Latency[name]))
	}
	return v
}

// tailValues is the fewest values an interval must hold above a
// percentile for that percentile to be a sample: with fewer, an interval's
// p99 is its largest value or near it, an extreme that swings from
// interval to interval whatever the build.
const tailValues = 5

// intervalMin returns the fewest values an interval must hold for its
// percentile p to be a sample: MinIntervalCount, and enough that tailValues
// of them lie above p (500 for p99, 50 for p90), by the one rule of
// reports.PercentileSamples.
func (c *comparer) intervalMin(p percentile) int64 {
	return max(c.opt.MinIntervalCount, reports.PercentileSamples(p.p, tailValues))
}

// intervalValues returns percentile p of metric name of every interval of
// runs that holds at least intervalMin(p) values.
func (c *comparer) intervalValues(runs []*reports.Result, name string, p percentile) []float64 {
	var v []float64
	least := c.intervalMin(p)
	for _, r := range runs {
		for _, pt := range r.Series {
			if l := pt.Latency[name]; l.Count >= least {
				v = append(v, p.interval(l))
			}
		}
	}
	return v
}

// resources are the resource rows, in key order.
var resources = []struct {
	key, unit string
	get       func(*reports.Result) float64
}{
	{"generator.cpu_seconds", "s", func(r *reports.Result) float64 { return r.Generator.CPUSeconds }},
	{"server.cpu_seconds", "s", func(r *reports.Result) float64 { return r.Server.CPUSeconds }},
	{"server.peak_rss_bytes", "bytes", func(r *reports.Result) float64 { return float64(r.Server.PeakRSSBytes) }},
}

// resourceRows compares the resources sampled on both sides, one value per
// run.
func (c *comparer) resourceRows() {
	for _, res := range resources {
		if !c.selected(res.key) {
			continue
		}
		sampled := func(set Set) []float64 {
			var v []float64
			for _, r := range set.Results {
				if x := res.get(r); x > 0 {
					v = append(v, x)
				}
			}
			return v
		}
		b, n := sampled(c.base), sampled(c.new)
		switch {
		case len(b) == 0 && len(n) == 0:
			continue
		case len(b) == 0 || len(n) == 0:
			none := "base"
			if len(n) == 0 {
				none = "new"
			}
			c.warn("%s not sampled in the %s runs: not compared", res.key, none)
			continue
		}
		c.warnPartial(res.key+" sampled", "base", len(b), len(c.base.Results))
		c.warnPartial(res.key+" sampled", "new", len(n), len(c.new.Results))
		c.rep.Rows = append(c.rep.Rows, c.statRow(res.key, res.unit, SamplesRuns, b, n))
	}
}

// warnPartial warns when what happened in only some runs of a side.
func (c *comparer) warnPartial(what, side string, some, all int) {
	if some < all {
		c.warn("%s in %d of %d %s runs: compared over those", what, some, all, side)
	}
}

// counts are the count rows but runs.invalid, in key order.
var counts = []struct {
	key string
	get func(*reports.Result) int64
}{
	{"errors.total", func(r *reports.Result) int64 {
		var n int64
		for _, v := range r.Errors {
			n += v
		}
		return n
	}},
	{"messages.duplicated", func(r *reports.Result) int64 { return r.Messages.Duplicated }},
	{"messages.lost", func(r *reports.Result) int64 { return r.Messages.Lost }},
	{"messages.reordered", func(r *reports.Result) int64 { return r.Messages.Reordered }},
	{"messages.unacked", func(r *reports.Result) int64 { return r.Messages.Unacked }},
}

// countRows compares the correctness counts and the runs' validity.
func (c *comparer) countRows() {
	for _, k := range counts {
		values := func(set Set) []float64 {
			var v []float64
			for _, r := range set.Results {
				v = append(v, float64(k.get(r)))
			}
			return v
		}
		c.rep.Rows = append(c.rep.Rows, c.countRow(k.key, values(c.base), values(c.new)))
	}
	invalid := func(set Set) (v []float64, first string) {
		for _, r := range set.Results {
			if r.Valid {
				v = append(v, 0)
				continue
			}
			v = append(v, 1)
			if first == "" {
				first = strings.Join(r.InvalidReasons, "; ")
			}
		}
		return v, first
	}
	b, _ := invalid(c.base)
	n, reason := invalid(c.new)
	row := c.countRow("runs.invalid", b, n)
	row.Unit = "runs"
	switch {
	case reason != "":
		row.Verdict, row.Significant, row.Note = VerdictRegression, true, "new run invalid: "+reason
	case row.Verdict != VerdictUnchanged:
		// Invalid base runs only: warned of, neither better nor worse.
		row.Verdict, row.Significant, row.Note = VerdictUnchanged, false, "base runs invalid"
	}
	c.rep.Rows = append(c.rep.Rows, row)
}

// countRow judges a count, one value per run: from 0 to above 0 is a
// regression, from above 0 to 0 an improvement.
func (c *comparer) countRow(key string, b, n []float64) Row {
	row := Row{
		Metric: key, Unit: "count", Better: "lower", Samples: SamplesCounts,
		Base: countStat(b), New: countStat(n),
	}
	row.Change = change(row.Base.Center/float64(row.Base.N), row.New.Center/float64(row.New.N))
	switch bz, nz := row.Base.Hi == 0, row.New.Hi == 0; {
	case bz && nz:
		row.Verdict = VerdictUnchanged
	case bz:
		row.Verdict, row.Significant, row.Note = VerdictRegression, true, "was 0"
	case nz:
		row.Verdict, row.Significant, row.Note = VerdictImprovement, true, "now 0"
	default:
		row.Verdict, row.Note = VerdictNotTested, "above 0 on both sides"
		if key != "runs.invalid" {
			c.warn("%s above 0 in base and new runs: counts are not tested statistically; look at the runs", key)
		}
	}
	return row
}

// countStat summarises counts: total, smallest, largest.
func countStat(v []float64) Stat {
	var total float64
	for _, x := range v {
		total += x
	}
	return Stat{Center: total, Lo: slices.Min(v), Hi: slices.Max(v), N: len(v)}
}

// statRow compares two samples of a metric where lower is better.
func (c *comparer) statRow(key, unit, samples string, b, n []float64) Row {
	row := Row{Metric: key, Unit: unit, Better: "lower", Samples: samples, Threshold: c.threshold(key), P: 1}
	th := &benchmath.Thresholds{CompareAlpha: c.opt.Alpha}
	bs, ns := benchmath.NewSample(slices.Clone(b), th), benchmath.NewSample(slices.Clone(n), th)
	row.Base, row.New = c.stat(bs), c.stat(ns)
	if len(b) > 0 && len(n) > 0 {
		row.P = benchmath.AssumeNothing.Compare(bs, ns).P
	}
	row.Significant = row.P < c.opt.Alpha
	row.Change = change(row.Base.Center, row.New.Center)
	worse, better := row.Change > row.Threshold, -row.Change > row.Threshold
	if row.Base.Center == 0 && row.New.Center > 0 {
		worse, row.Note = true, "base is 0"
	}
	if unit == "ms" && math.Abs(row.New.Center-row.Base.Center) < c.opt.MinAbsMs {
		worse, better = false, false
		row.Note = fmt.Sprintf("change under %gms", c.opt.MinAbsMs)
	}
	switch {
	case len(b) < c.opt.MinRuns || len(n) < c.opt.MinRuns:
		row.Verdict = VerdictInconclusive
		row.Note = fmt.Sprintf("%d base and %d new %s; ≥%d a side needed", len(b), len(n), samples, c.opt.MinRuns)
	case !row.Significant:
		row.Verdict = VerdictNotSignificant
	case worse:
		row.Verdict = VerdictRegression
	case better:
		row.Verdict = VerdictImprovement
	default:
		row.Verdict = VerdictUnderThreshold
	}
	return row
}

// stat summarises a sample: its median and confidence interval.
func (c *comparer) stat(s *benchmath.Sample) Stat {
	if len(s.Values) == 0 {
		return Stat{}
	}
	sum := benchmath.AssumeNothing.Summary(s, c.opt.Confidence)
	for _, w := range sum.Warnings {
		c.warn("confidence intervals: %v: shown as ±∞", w)
	}
	return Stat{Center: sum.Center, Lo: sum.Lo, Hi: sum.Hi, N: len(s.Values)}
}

// threshold returns the minimum relevant change of row key.
func (c *comparer) threshold(key string) float64 {
	if v, ok := c.opt.Thresholds[key]; ok {
		c.used["threshold "+key] = true
		return v
	}
	if v, ok := c.opt.Thresholds[metricName(key)]; ok {
		c.used["threshold "+metricName(key)] = true
		return v
	}
	return c.opt.MinChange
}

// selected reports whether Options.Metrics lets row key through.
func (c *comparer) selected(key string) bool {
	if len(c.opt.Metrics) == 0 {
		return true
	}
	for _, m := range []string{key, metricName(key)} {
		if slices.Contains(c.opt.Metrics, m) {
			c.used["metric "+m] = true
			return true
		}
	}
	return false
}

// checkKeys warns of thresholds and metric filters that matched no row:
// most likely a typing error that would otherwise pass silently.
func (c *comparer) checkKeys() {
	for _, m := range c.opt.Metrics {
		if !c.used["metric "+m] {
			c.warn("metric %s selected but not compared: no such latency or resource metric on both sides", m)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.opt.Thresholds)) {
		if c.used["threshold "+k] {
			continue
		}
		if slices.ContainsFunc(c.rep.Rows, func(r Row) bool {
			return r.Samples == SamplesCounts && (r.Metric == k || metricName(r.Metric) == k)
		}) {
			c.warn("threshold %s ignored: counts take no threshold", k)
			continue
		}
		c.warn("threshold %s matches no metric compared", k)
	}
}

// metricName returns the part of a row key before its first dot:
// "delivery" of "delivery.p99".
func metricName(key string) string {
	name, _, _ := strings.Cut(key, ".")
	return name
}

// change returns the relative change from base to new, 0 when base is 0.
func change(base, new float64) float64 {
	if base == 0 {
		return 0
	}
	return (new - base) / base
}

// median returns the median of v, 0 when v is empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
