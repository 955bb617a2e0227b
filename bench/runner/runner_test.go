package runner

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/internal/cpuset"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

// TestRunSmoke plays a shortened smoke scenario against an embedded child
// refserver and checks what bench run's exit 0 rests on.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds refserver and runs it for seconds")
	}
	bin, err := child.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	allBefore, err := cpuset.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	dur := 3 * time.Minute // broadcast.at 2m30s of 5m moves to 1m30s
	out := filepath.Join(t.TempDir(), "out")
	var progress bytes.Buffer
	res, err := Run(context.Background(), Options{
		Scenario: "smoke", ServerBinary: bin, OutDir: out, Progress: &progress,
		Overrides: scenario.Overrides{Duration: &dur},
		// The race detector slows the generator several times over on
		// two shared cores; a 10ms bound would test the machine, not
		// the runner.
		LateBound: 100 * time.Millisecond,
	})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	var sum bytes.Buffer
	if err := Summary(&sum, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("summary:\n%s", sum.String())

	if !res.Valid {
		t.Errorf("run invalid: %v", res.InvalidReasons)
	}
	if len(res.Objectives) == 0 {
		t.Error("no objectives evaluated")
	}
	// What the code controls must pass: nothing lost, duplicated,
	// reordered, unacknowledged, no error. A latency objective is the
	// machine's to meet (a busy two-core machine under -race is not the
	// smoke scenario's): it must have been measured, not met.
	for _, o := range res.Objectives {
		latency := o.Unit == "ms"
		switch {
		case latency && o.Samples == 0:
			t.Errorf("%s: not measured: %+v", o.Expression, o)
		case !latency && !o.Pass:
			t.Errorf("%s: %s %s", o.Expression, o.Verdict(), o.Measured())
		}
	}
	// result.json's times are the wall clock's; the scenario time played
	// is its own field (smoke plays 30 scenario seconds a second).
	if res.ScenarioS < dur.Seconds() || res.DurationS >= res.ScenarioS/10 {
		t.Errorf("scenario_s %g, duration_s %g: want %gs of scenario time played in about a thirtieth of it", res.ScenarioS, res.DurationS, dur.Seconds())
	}
	if got := res.End.Sub(res.Start).Seconds(); got != res.DurationS {
		t.Errorf("end - start = %gs, duration_s %g", got, res.DurationS)
	}
	if !strings.Contains(progress.String(), "results in "+out) {
		t.Error("the progress output does not say where the results went")
	}
	m := res.Messages
	if m.Sent == 0 || m.Delivered == 0 {
		t.Errorf("no messages sent or delivered: %+v", m)
	}
	if m.Lost != 0 || m.Duplicated != 0 || m.Reordered != 0 {
		t.Errorf("lost %d, duplicated %d, reordered %d; want 0", m.Lost, m.Duplicated, m.Reordered)
	}
	if res.Sessions.Started == 0 {
		t.Error("no sessions started")
	}
	// The broadcast is posted to the embedded server's admin
	// endpoint and measured at each connected customer.
	if b := res.Latency["broadcast"]; b.Count == 0 {
		t.Error("the scenario's broadcast was not received by any customer")
	}
	if !strings.Contains(progress.String(), "broadcast at 1m30s of scenario time sent to") {
		t.Error("no broadcast in the progress output")
	}
	if res.Server.CPUSeconds <= 0 || res.Server.PeakRSSBytes <= 0 {
		t.Errorf("server resources not sampled: %+v", res.Server)
	}
	if res.Generator.PeakRSSBytes <= 0 {
		t.Errorf("generator resources not sampled: %+v", res.Generator)
	}
	if !strings.Contains(progress.String(), "sessions ") {
		t.Error("no progress line")
	}
	// Each process's use of its CPUs, on disjoint sets when the machine
	// has two CPUs or more: the header says the split, the result holds it.
	sat := res.Saturation
	if sat == nil {
		t.Fatal("no saturation section")
	}
	if !strings.Contains(progress.String(), "cpus: "+sat.Split+"; GOMAXPROCS bench ") {
		t.Errorf("the header does not say the split %q", sat.Split)
	}
	if sat.Server == nil || sat.Generator.Intervals == 0 || sat.Server.Intervals == 0 || sat.Generator.CPUSeconds <= 0 || sat.Saturated == "" {
		t.Errorf("saturation not measured: %+v", *sat)
	}
	if all, _ := cpuset.Allowed(); len(all) >= 2 {
		b, _ := cpuset.Parse(sat.Generator.CPUs)
		s, _ := cpuset.Parse(sat.Server.CPUs)
		if !sat.Pinned || len(b.And(s)) != 0 || sat.Shared != nil || b.Len()+s.Len() != all.Len() {
			t.Errorf("on %v: bench %v, server %v, pinned %v, shared %+v; want the CPUs split between them", all, b, s, sat.Pinned, sat.Shared)
		}
	}
	if now, _ := cpuset.Allowed(); !slices.Equal(now, allBefore) {
		t.Errorf("after the run this process runs on %v, before on %v", now, allBefore)
	}
	if !strings.Contains(sum.String(), "PASS") {
		t.Error("summary shows no PASS")
	}

	back, err := reports.ReadFile(filepath.Join(out, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if back.Scenario != "smoke" || back.Messages != res.Messages || len(back.Objectives) != len(res.Objectives) {
		t.Errorf("result.json read back differs: %+v vs %+v", back.Messages, res.Messages)
	}
	// Every metric's interval log reads back, with the standard reader, to
	// the figures of result.json.
	if n := checkLogs(t, out, back); n < 5 {
		t.Errorf("only %d metrics' logs checked", n)
	}
	for _, name := range []string{record.LogFile(record.Delivery), record.LogFile(record.Ack), record.LagName + ".hlog"} {
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Error(err)
		} else if fi.Size() == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

// TestRunTypo checks that a scenario file with a misspelt field fails
// before anything starts, as a bad scenario naming file, line and field.
func TestRunTypo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "typo.yaml")
	doc := "name: typo\nseed: 1\nduration: 1m\ncustomers:\n  arrival: poisson\n  rte: 1\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Scenario: path, OutDir: filepath.Join(dir, "out"), ServerBinary: "/nonexistent"})
	if err == nil {
		t.Fatalf("no error; result %+v", res)
	}
	if !errors.Is(err, ErrScenario) || errors.Is(err, ErrSetup) {
		t.Errorf("error not classified as a bad scenario: %v", err)
	}
	if !errors.Is(err, scenario.ErrUnknownField) {
		t.Errorf("error is not an unknown field: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"typo.yaml:6", "rte"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("output directory created for a bad scenario")
	}
}

// TestEvaluate checks objective values taken from a result, and that an
// objective over too little data is not judged.
func TestEvaluate(t *testing.T) {
	res := &reports.Result{
		Messages: reports.Messages{Sent: 10, Lost: 1},
		Sessions: reports.Sessions{Started: 20, Abandoned: 2},
		Errors:   map[string]int64{"connect": 2, "404": 1},
		Latency: map[string]reports.Latency{
			"delivery": {Summary: reports.Summary{Count: 500, P99Ms: 12}},
			"menu":     {Summary: reports.Summary{Count: 40, P90Ms: 3, P99Ms: 3}},
			"hello":    {Summary: reports.Summary{Count: 20, P99Ms: 1}},
		},
	}
	res.DurationS = 100
	res.ScenarioS = 10
	for _, c := range []struct {
		expr         string
		want         float64
		pass         bool
		insufficient string
	}{
		{"lost == 0", 1, false, ""},
		{"errors.rate < 0.5", 0.3, true, ""},
		{"abandoned.ratio < 5%", 0.1, false, ""},
		{"delivery.p99 < 50ms", 12, true, ""},
		{"menu.p99 < 50ms", 3, false, "too few samples: 40 menu values, and a p99 needs 100"},
		{"menu.p90 < 50ms", 3, true, ""},
		{"ack.p99 < 50ms", 0, false, "no data: ack values is 0"},
		{"ack.max < 50ms", 0, false, "no data: ack values is 0"},
		{"duplicated == 0", 0, true, ""},
		{"max_concurrent <= 20", 0, false, "no data: sessions handed to agents is 0"},
		{"completed.ratio >= 0", 0, true, ""},
		{"late.ratio < 1%", 0, false, "no data: generator actions is 0"},
	} {
		o, err := scenario.ParseObjective(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		sc := &scenario.Scenario{Objectives: []scenario.Objective{o}}
		got := Evaluate(sc, res)
		if len(got) != 1 || got[0].Pass != c.pass || math.Abs(got[0].Value-c.want) > 1e-9 || got[0].Insufficient != c.insufficient {
			t.Errorf("%s: got %+v, want value %g pass %v insufficient %q", c.expr, got, c.want, c.pass, c.insufficient)
		}
	}
}

// TestEvaluateNoServer checks the result of a run that reached no server:
// every objective fails for want of data, none passes on zeros.
func TestEvaluateNoServer(t *testing.T) {
	sc, err := scenario.LoadWith(DefaultScenario, scenario.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	res := &reports.Result{Latency: map[string]reports.Latency{}, Errors: map[string]int64{"connect": 48}}
	res.ScenarioS = 240
	objs := Evaluate(sc, res)
	if len(objs) == 0 {
		t.Fatal("smoke has no objectives")
	}
	for _, o := range objs {
		if o.Pass || o.Insufficient == "" || o.Verdict() != "NO DATA" {
			t.Errorf("%s passed or was judged on no data: %+v", o.Expression, o)
		}
	}
}
