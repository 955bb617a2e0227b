package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/runner"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/reports"
)

// ErrSweep marks a sweep specification that does not parse.
var ErrSweep = errors.New("sim: bad sweep")

// MaxSweepValues bounds the values of one sweep.
const MaxSweepValues = 1000

// Sweep is a scenario field and the values a sweep gives it, each written
// as a scenario file would write it.
type Sweep struct {
	// Path is the field, as scenario.Scenario.Set takes it
	// ("agents.groups[0].max_chats").
	Path string
	// Values are the values, in order.
	Values []string
}

// ParseSweep parses PATH=FROM..TO[:STEP]. FROM, TO and STEP are numbers
// (integers stay integers), durations ("30s..5m:30s") or percentages
// ("50%..90%:10%"), all three of one kind. STEP defaults to 1 for numbers
// and to a tenth of the range for durations and percentages.
func ParseSweep(spec string) (Sweep, error) {
	path, rng, ok := strings.Cut(spec, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		return Sweep{}, fmt.Errorf("%w: %q: want PATH=FROM..TO[:STEP]", ErrSweep, spec)
	}
	from, rest, ok := strings.Cut(rng, "..")
	if !ok {
		return Sweep{}, fmt.Errorf("%w: %q: want FROM..TO[:STEP] after the =", ErrSweep, spec)
	}
	to, step, hasStep := strings.Cut(rest, ":")
	kind, a, err := sweepValue(from)
	if err != nil {
		return Sweep{}, fmt.Errorf("%w: %q: from: %w", ErrSweep, spec, err)
	}
	kb, b, err := sweepValue(to)
	if err != nil {
		return Sweep{}, fmt.Errorf("%w: %q: to: %w", ErrSweep, spec, err)
	}
	if kb != kind {
		return Sweep{}, fmt.Errorf("%w: %q: from and to are of different kinds", ErrSweep, spec)
	}
	var d float64
	switch {
	case hasStep:
		ks, s, err := sweepValue(step)
		if err != nil {
			return Sweep{}, fmt.Errorf("%w: %q: step: %w", ErrSweep, spec, err)
		}
		if ks != kind && !(kind == kindInt && ks == kindFloat) {
			return Sweep{}, fmt.Errorf("%w: %q: the step is of another kind than from and to", ErrSweep, spec)
		}
		if ks == kindFloat {
			kind = kindFloat
		}
		d = s
	case kind == kindInt || kind == kindFloat:
		d = 1
	default:
		d = (b - a) / 10
	}
	if d <= 0 || b < a {
		return Sweep{}, fmt.Errorf("%w: %q: want FROM <= TO and a step above 0", ErrSweep, spec)
	}
	n := int(math.Floor((b-a)/d+1e-9)) + 1
	if n > MaxSweepValues {
		return Sweep{}, fmt.Errorf("%w: %q: %d values, at most %d", ErrSweep, spec, n, MaxSweepValues)
	}
	sw := Sweep{Path: path}
	for i := range n {
		sw.Values = append(sw.Values, formatSweep(kind, a+float64(i)*d))
	}
	return sw, nil
}

type sweepKind int

const (
	kindInt sweepKind = iota
	kindFloat
	kindDuration
	kindPercent
)

// sweepValue parses one end or step of a range.
func sweepValue(s string) (sweepKind, float64, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, 0, errors.New("empty")
	case strings.HasSuffix(s, "%"):
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		return kindPercent, v, err
	case strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0:
		d, err := time.ParseDuration(s)
		return kindDuration, float64(d), err
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return kindInt, float64(v), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	return kindFloat, v, err
}

func formatSweep(k sweepKind, v float64) string {
	switch k {
	case kindInt:
		return strconv.FormatInt(int64(math.Round(v)), 10)
	case kindDuration:
		return time.Duration(math.Round(v)).String()
	case kindPercent:
		return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'g', -1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(v*1e9)/1e9, 'g', -1, 64)
}

// SweepPoint is the outcome of one value of a sweep.
type SweepPoint struct {
	// Value is the field's value.
	Value string `json:"value"`
	// Dir holds the point's result.json and logs.
	Dir string `json:"dir"`
	// Pass is whether the point met every objective in a valid run.
	Pass bool `json:"pass"`
	// Sessions is the number of sessions started.
	Sessions int64 `json:"sessions"`
	// QueueWaitP90Ms, FirstReplyP90Ms and AgentReplyP90Ms are the p90s
	// of those metrics, in simulated milliseconds.
	QueueWaitP90Ms  float64 `json:"queue_wait_p90_ms"`
	FirstReplyP90Ms float64 `json:"first_reply_p90_ms"`
	AgentReplyP90Ms float64 `json:"agent_reply_p90_ms"`
	// AbandonedRatio is the share of sessions abandoned in the queue.
	AbandonedRatio float64 `json:"abandoned_ratio"`
	// MeanConcurrent and MaxConcurrent are the agents' chats at once.
	MeanConcurrent float64 `json:"mean_concurrent"`
	MaxConcurrent  int     `json:"max_concurrent"`
	// Result is the point's whole result.
	Result *reports.Result `json:"-"`
}

// SweepFile is the name of a sweep's summary in its output directory.
const SweepFile = "sweep.json"

// RunSweep simulates the scenario of opts once per value of sw, each in
// its own directory under opts.OutDir, and writes a summary (SweepFile).
func RunSweep(ctx context.Context, opts Options, sw Sweep) ([]SweepPoint, error) {
	name := opts.Scenario
	if name == "" {
		name = runner.DefaultScenario
	}
	base, err := scenario.LoadWith(name, opts.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	out := opts.Progress
	if out == nil {
		out = io.Discard
	}
	var pts []SweepPoint
	for i, v := range sw.Values {
		sc := base.Clone()
		if err := sc.Set(sw.Path, v); err != nil {
			return pts, fmt.Errorf("%w: sweep %s=%s: %w", ErrScenario, sw.Path, v, err)
		}
		o := opts
		if opts.OutDir != "" {
			o.OutDir = filepath.Join(opts.OutDir, fmt.Sprintf("%03d", i+1))
		}
		fmt.Fprintf(out, "sweep %d/%d: %s = %s\n", i+1, len(sw.Values), sw.Path, v)
		res, err := Simulate(ctx, sc, o)
		if err != nil {
			return pts, fmt.Errorf("sweep %s=%s: %w", sw.Path, v, err)
		}
		pts = append(pts, point(v, o.OutDir, res))
		if ctx.Err() != nil {
			break
		}
	}
	if opts.OutDir != "" {
		b, err := json.MarshalIndent(struct {
			Scenario string       `json:"scenario"`
			Path     string       `json:"path"`
			Points   []SweepPoint `json:"points"`
		}{base.Name, sw.Path, pts}, "", "  ")
		if err != nil {
			return pts, fmt.Errorf("%w: sweep summary: %w", ErrSetup, err)
		}
		if err := os.WriteFile(filepath.Join(opts.OutDir, SweepFile), append(b, '\n'), 0o644); err != nil {
			return pts, fmt.Errorf("%w: sweep summary: %w", ErrSetup, err)
		}
	}
	return pts, nil
}

// point summarises one result of a sweep.
func point(v, dir string, res *reports.Result) SweepPoint {
	p := SweepPoint{
		Value: v, Dir: dir, Pass: runner.Passed(res), Sessions: res.Sessions.Started,
		QueueWaitP90Ms: res.Latency["queue_wait"].P90Ms, FirstReplyP90Ms: res.Latency["first_reply"].P90Ms,
		AgentReplyP90Ms: res.Latency["agent_reply"].P90Ms,
		MeanConcurrent:  res.Agents.MeanConcurrent, MaxConcurrent: res.Agents.MaxConcurrent, Result: res,
	}
	if res.Sessions.Started > 0 {
		p.AbandonedRatio = float64(res.Sessions.Abandoned) / float64(res.Sessions.Started)
	}
	return p
}

// SweepTable writes the points as a Markdown table.
func SweepTable(w io.Writer, path string, pts []SweepPoint) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | sessions | queue wait p90 s | first reply p90 s | agent reply p90 s | abandoned | chats per agent, mean (max) | objectives |\n", path)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, p := range pts {
		verdict := "pass"
		if !p.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %.1f | %.1f%% | %.2f (%d) | %s |\n", p.Value, p.Sessions,
			p.QueueWaitP90Ms/1000, p.FirstReplyP90Ms/1000, p.AgentReplyP90Ms/1000, 100*p.AbandonedRatio, p.MeanConcurrent, p.MaxConcurrent, verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
