package suite

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmdesk/swarmdesk/bench/plan"
)

// BotAccuracy is TestSampleHeldout's report of the bot on its held-out
// questions.
type BotAccuracy struct {
	// Status is the test's PASS or FAIL.
	Status string
	// Threshold is the confidence threshold the test judged answers at.
	Threshold float64
	// Sets are "all", "zh" and "en", as logged.
	Sets []BotSet
	// Misses counts answerable questions whose top answer was wrong;
	// OffTopicAnswered counts off-topic questions answered above the
	// threshold.
	Misses, OffTopicAnswered int
}

// BotSet is the bot's accuracy on one set of held-out questions. Shares
// are fractions (0.895).
type BotSet struct {
	// Name is the set: "all", "zh" or "en".
	Name string
	// Answerable counts the questions with an expected entry; Top1 is the
	// share whose best match is it, Correct the share answered with it at
	// the threshold, Wrong the share answered with another.
	Answerable           int
	Top1, Correct, Wrong float64
	// OffTopic counts the questions without an answer; Below is the share
	// of them under the threshold (not answered).
	OffTopic int
	Below    float64
}

var botLineRE = regexp.MustCompile(`^(\S+)\s+answerable\s+(\d+): top-1\s+([\d.]+)%, answered correctly at threshold ([\d.]+)\s+([\d.]+)%, answered wrongly\s+([\d.]+)%; off-topic\s+(\d+): below threshold\s+([\d.]+)%$`)

// parseBot reads TestSampleHeldout's log lines.
func parseBot(l *TestLog) (*BotAccuracy, error) {
	t, ok := l.Test("TestSampleHeldout")
	if !ok {
		return nil, fmt.Errorf("TestSampleHeldout did not run")
	}
	b := &BotAccuracy{Status: t.Status}
	for _, m := range t.Logs {
		switch {
		case strings.HasPrefix(m, "miss: "):
			b.Misses++
		case strings.HasPrefix(m, "off-topic answered: "):
			b.OffTopicAnswered++
		}
		f := botLineRE.FindStringSubmatch(m)
		if f == nil {
			continue
		}
		var s BotSet
		var err error
		s.Name = f[1]
		s.Answerable, _ = strconv.Atoi(f[2])
		s.OffTopic, _ = strconv.Atoi(f[7])
		nums := []*float64{&s.Top1, &b.Threshold, &s.Correct, &s.Wrong}
		for i, p := range nums {
			if *p, err = strconv.ParseFloat(f[3+i], 64); err != nil {
				return nil, fmt.Errorf("log line %q: %w", m, err)
			}
		}
		if s.Below, err = strconv.ParseFloat(f[8], 64); err != nil {
			return nil, fmt.Errorf("log line %q: %w", m, err)
		}
		s.Top1, s.Correct, s.Wrong, s.Below = s.Top1/100, s.Correct/100, s.Wrong/100, s.Below/100
		b.Sets = append(b.Sets, s)
	}
	if len(b.Sets) == 0 {
		return nil, fmt.Errorf("TestSampleHeldout logged no accuracy line (%s)", t.Status)
	}
	return b, nil
}

// Faults are the tests of bench against a faulty server, one per test
// that has no subtests.
type Faults struct {
	Tests []FaultTest
}

// Passed counts the tests that passed.
func (f *Faults) Passed() int {
	return passed(f.Tests, func(t FaultTest) string { return t.Status })
}

// passed counts the items whose go test status is PASS.
func passed[T any](items []T, status func(T) string) int {
	n := 0
	for _, it := range items {
		if status(it) == "PASS" {
			n++
		}
	}
	return n
}

// FaultTest is one test against a faulty server and what it logged.
type FaultTest struct {
	// Name is the test's full name; Status its PASS, FAIL or SKIP.
	Name   string
	Status string
	// Runs are the summaries of the bench runs the test logged.
	Runs []RunSummary
	// ClosedLoop is TestStallShowsInTail's comparison with a closed-loop
	// client.
	ClosedLoop *ClosedLoop
	// Proxy is the fault proxy's counts ("Dropped", "Duplicated", ...),
	// when logged.
	Proxy map[string]int64
	// Knee is TestFindMaxKnee's search.
	Knee *Knee
}

// RunSummary is what bench's run summary (runner.Summary) says.
type RunSummary struct {
	// Messages is the accounting line: sent, delivered, lost,
	// duplicated, reordered, unacked.
	Messages map[string]int64
	// Objectives are the evaluated objectives.
	Objectives []SummaryObjective
	// Pass is the summary's "result: PASS".
	Pass bool
}

// Failed lists the failed objectives' expressions.
func (s RunSummary) Failed() []string {
	var out []string
	for _, o := range s.Objectives {
		if !o.Pass {
			out = append(out, o.Expression)
		}
	}
	return out
}

// SummaryObjective is one objective line of a run summary.
type SummaryObjective struct {
	Expression string
	// Measured is what the summary says was measured: "value 0" in older
	// summaries, "12.3ms" or why the objective was not judged in newer.
	Measured string
	Pass     bool
}

// ClosedLoop compares a closed-loop client with the open model, against a
// server that stalls. Times are milliseconds.
type ClosedLoop struct {
	// Requests is how many the closed-loop client made; P50, P99 and Max
	// are its latencies.
	Requests      int64
	P50, P99, Max float64
	// OpenP99 and OpenRawP99 are the open model's bot answer p99,
	// corrected and raw, against the same stalls.
	OpenP99, OpenRawP99 float64
}

// Knee is a find-max search against a server of known capacity.
type Knee struct {
	// Parameter is the load stepped; Stopped why the search ended.
	Parameter, Stopped string
	// Best is the highest load that passed, Failed the lowest that
	// failed.
	Best, Failed float64
	// Steps are the loads tried, in order.
	Steps []KneeStep
}

// KneeStep is one step of the search: its load and whether it passed.
type KneeStep struct {
	Load float64
	Pass bool
}

var (
	summaryMessagesRE = regexp.MustCompile(`(?m)^messages\s+(.*)$`)
	summaryPairRE     = regexp.MustCompile(`([a-z]+) (\d+)`)
	summaryObjRE      = regexp.MustCompile(`(?m)^\s+(PASS|FAIL|NO DATA)\s+(.+?)  +(\S.*?)\s*$`)
	summaryResultRE   = regexp.MustCompile(`(?m)^result: (PASS|FAIL)`)
	closedLoopRE      = regexp.MustCompile(`^closed loop: (\d+) requests, p50 ([\d.]+)ms p99 ([\d.]+)ms max ([\d.]+)ms; open model: bot p99 ([\d.]+)ms \(raw ([\d.]+)ms\)`)
	proxyRE           = regexp.MustCompile(`proxy \{([^}]*)\}`)
	goFieldRE         = regexp.MustCompile(`(\w+):(\S+)`)
	kneeRE            = regexp.MustCompile(`^find-max \{Parameter:(\S+) Best:(\S+) Failed:(\S+) Precision:\S+ Stopped:(.+?) Steps:`)
	kneeStepRE        = regexp.MustCompile(`\{Load:(\S+) Pass:(true|false) `)
)

// parseFaults reads the faults tests' output.
func parseFaults(l *TestLog) (*Faults, error) {
	f := &Faults{}
	for _, t := range l.Tests {
		if len(l.Prefixed(t.Name)) > 0 {
			continue // a parent: its subtests are the rows
		}
		ft := FaultTest{Name: t.Name, Status: t.Status}
		for _, m := range t.Logs {
			if strings.Contains(m, "\nmessages ") {
				s, err := parseRunSummary(m)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", t.Name, err)
				}
				ft.Runs = append(ft.Runs, s)
			}
			if c := closedLoopRE.FindStringSubmatch(m); c != nil {
				cl := &ClosedLoop{}
				cl.Requests, _ = strconv.ParseInt(c[1], 10, 64)
				for i, p := range []*float64{&cl.P50, &cl.P99, &cl.Max, &cl.OpenP99, &cl.OpenRawP99} {
					*p, _ = strconv.ParseFloat(c[2+i], 64)
				}
				ft.ClosedLoop = cl
			}
			if c := proxyRE.FindStringSubmatch(m); c != nil {
				ft.Proxy = map[string]int64{}
				for _, kv := range goFieldRE.FindAllStringSubmatch(c[1], -1) {
					if n, err := strconv.ParseInt(kv[2], 10, 64); err == nil {
						ft.Proxy[kv[1]] = n
					}
				}
			}
			if c := kneeRE.FindStringSubmatch(m); c != nil {
				k := &Knee{Parameter: c[1], Stopped: c[4]}
				k.Best, _ = strconv.ParseFloat(c[2], 64)
				k.Failed, _ = strconv.ParseFloat(c[3], 64)
				for _, s := range kneeStepRE.FindAllStringSubmatch(m, -1) {
					load, _ := strconv.ParseFloat(s[1], 64)
					k.Steps = append(k.Steps, KneeStep{Load: load, Pass: s[2] == "true"})
				}
				ft.Knee = k
			}
		}
		f.Tests = append(f.Tests, ft)
	}
	return f, nil
}

// parseRunSummary reads a bench run summary logged by a test.
func parseRunSummary(m string) (RunSummary, error) {
	s := RunSummary{Messages: map[string]int64{}}
	line := summaryMessagesRE.FindStringSubmatch(m)
	if line == nil {
		return s, fmt.Errorf("run summary without a messages line")
	}
	for _, kv := range summaryPairRE.FindAllStringSubmatch(line[1], -1) {
		n, _ := strconv.ParseInt(kv[2], 10, 64)
		s.Messages[kv[1]] = n
	}
	for _, o := range summaryObjRE.FindAllStringSubmatch(m, -1) {
		s.Objectives = append(s.Objectives, SummaryObjective{Expression: o[2], Measured: o[3], Pass: o[1] == "PASS"})
	}
	if r := summaryResultRE.FindStringSubmatch(m); r != nil {
		s.Pass = r[1] == "PASS"
	}
	return s, nil
}

// Erlang is TestErlang: the simulator against queueing theory, point by
// point.
type Erlang struct {
	Points []ErlangPoint
}

// Passed counts the points within tolerance.
func (e *Erlang) Passed() int {
	return passed(e.Points, func(p ErlangPoint) string { return p.Status })
}

// ErlangPoint is one point of the grid: a queue model, a number of agents
// and a load. Shares are fractions; waits are seconds.
type ErlangPoint struct {
	// Queue is "C" (Erlang C, M/M/c) or "A" (Erlang A, M/M/c+M); Agents
	// and Load (the offered load per agent) are the point's.
	Queue  string
	Agents int
	Load   float64
	// Sim and theory figures, as the test logged them.
	PWait, PWaitTheory       float64
	PAbandon, PAbandonTheory float64
	MeanWait, MeanWaitTheory float64
	Sessions                 int64
	Utilisation, Offered     float64
	// Status is the subtest's PASS or FAIL; Failures are its error lines.
	Status   string
	Failures []string
}

var (
	erlangNameRE = regexp.MustCompile(`^TestErlang/([CA])/c=(\d+)/rho=([\d.]+)$`)
	erlangLineRE = regexp.MustCompile(`^P\(wait\) ([\d.]+) \(theory ([\d.]+)\)\s+P\(abandon\) ([\d.]+) \(([\d.]+)\)\s+mean wait ([\d.]+)s \(([\d.]+)s\)\s+sessions (\d+)\s+agent utilisation ([\d.]+) \(offered ([\d.]+)\)`)
)

// parseErlang reads TestErlang's subtests.
func parseErlang(l *TestLog) (*Erlang, error) {
	e := &Erlang{}
	for _, t := range l.Prefixed("TestErlang") {
		n := erlangNameRE.FindStringSubmatch(t.Name)
		if n == nil {
			continue
		}
		p := ErlangPoint{Queue: n[1], Status: t.Status}
		p.Agents, _ = strconv.Atoi(n[2])
		p.Load, _ = strconv.ParseFloat(n[3], 64)
		found := false
		for _, m := range t.Logs {
			f := erlangLineRE.FindStringSubmatch(m)
			if f == nil {
				p.Failures = append(p.Failures, m)
				continue
			}
			found = true
			for i, v := range []*float64{&p.PWait, &p.PWaitTheory, &p.PAbandon, &p.PAbandonTheory, &p.MeanWait, &p.MeanWaitTheory} {
				*v, _ = strconv.ParseFloat(f[1+i], 64)
			}
			p.Sessions, _ = strconv.ParseInt(f[7], 10, 64)
			p.Utilisation, _ = strconv.ParseFloat(f[8], 64)
			p.Offered, _ = strconv.ParseFloat(f[9], 64)
		}
		if !found {
			return nil, fmt.Errorf("%s logged no figures (%s)", t.Name, t.Status)
		}
		e.Points = append(e.Points, p)
	}
	if len(e.Points) == 0 {
		return nil, fmt.Errorf("no TestErlang point ran")
	}
	return e, nil
}

// Plan is bench plan's answer, with the accessors the template needs.
type Plan struct {
	*plan.Plan
}

// GroupShare is one skill group's agents in the recommendation.
type GroupShare struct {
	// Group is the skill group; Agents its share of the staffing.
	Group  string
	Agents int
}

// GroupShares returns the recommendation's agents by group, by name.
func (p Plan) GroupShares() []GroupShare {
	var out []GroupShare
	for _, g := range slices.Sorted(maps.Keys(p.Groups)) {
		out = append(out, GroupShare{g, p.Groups[g]})
	}
	return out
}

// CurvePoint is the agent reply p90 at one concurrency, in ms.
type CurvePoint struct {
	// Chats is the agent's concurrency at the moment of the reply; P90Ms
	// the reply latency's p90 there, in simulated ms.
	Chats int
	P90Ms float64
}

// Curve returns the reply-p90-by-concurrency curve of the staffing at the
// highest concurrency tried that some staffing answered, with that
// level.
func (p Plan) Curve() (plan.Level, []CurvePoint) {
	var lv plan.Level
	for _, l := range p.Levels {
		if l.Agents > 0 && l.Chats > lv.Chats {
			lv = l
		}
	}
	var out []CurvePoint
	for _, c := range slices.Sorted(maps.Keys(lv.ReplyByChats)) {
		out = append(out, CurvePoint{c, lv.ReplyByChats[c]})
	}
	return lv, out
}

// CurveLevel is the level Curve reads.
func (p Plan) CurveLevel() plan.Level { lv, _ := p.Curve(); return lv }

// CurvePoints are Curve's points.
func (p Plan) CurvePoints() []CurvePoint { _, pts := p.Curve(); return pts }
