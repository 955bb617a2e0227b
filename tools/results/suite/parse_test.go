package suite

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture is the work directory captured from a --quick run of the suite
// (ten-million and plan from short stand-ins: bench sim smoke, and bench
// plan smoke --chats 1,2,4), with the series and .hlog files left out.
// soak is the soak.json alone of a real `make soak` (10 minutes, the
// standard command), its paths moved from results/soak to the suite's
// results/suite/soak. floor is a real run of the floor entry's quick
// command, added later.
const fixture = "testdata/suite"

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestParseBenchmarks(t *testing.T) {
	bs, err := ParseBenchmarks(open(t, filepath.Join(fixture, "micro", StdoutFile)), StdoutFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 26 {
		t.Errorf("%d benchmarks, want 26", len(bs))
	}
	enc := bs[0]
	if enc.Label() != "wire EncodeMessage" || enc.Pkg != "github.com/swarmdesk/swarmdesk/refserver/wire" {
		t.Errorf("first benchmark %q in %q", enc.Label(), enc.Pkg)
	}
	var units []string
	for _, m := range enc.Metrics {
		units = append(units, m.Unit)
	}
	if got := strings.Join(units, ","); got != "sec/op,B/op,allocs/op,B/s" {
		t.Errorf("units %s", got)
	}
	tm := enc.M("sec/op")
	// Two runs: 10.37 and 10.28 ns/op.
	if tm.Runs != 2 || !near(tm.Min, 10.28e-9) || !near(tm.Max, 10.37e-9) || tm.Median < tm.Min || tm.Median > tm.Max {
		t.Errorf("EncodeMessage time %+v", tm)
	}
	rr := bs.Find("routing", "RouteRelease10k/")
	if len(rr) != 3 {
		t.Fatalf("%d RouteRelease10k sub-benchmarks, want 3", len(rr))
	}
	if rr[0].Name != "RouteRelease10k/least-loaded" {
		t.Errorf("name %q: want the -procs suffix gone", rr[0].Name)
	}
	d := rr[0].M("decisions/s")
	if !near(d.Min, 3462126) || !near(d.Max, 3692628) {
		t.Errorf("decisions/s %+v", d)
	}
	if other := rr[0].Other(); len(other) != 2 || other[0].Unit != "decisions/s" || other[1].Unit != "queued/op" {
		t.Errorf("other metrics %+v", other)
	}
	lo, hi, _, hiB, ok := rr.Extremes("decisions/s")
	if !ok || lo.Median > hi.Median || !strings.HasPrefix(hiB.Name, "RouteRelease10k/") {
		t.Errorf("extremes %v %v %v", lo, hi, ok)
	}

	fan, err := ParseBenchmarks(open(t, filepath.Join(fixture, "fanout", StdoutFile)), StdoutFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(fan) != 3 || fan[2].Name != "BroadcastProcess/customers=19000/burst=1" {
		t.Fatalf("fanout %+v", fan)
	}
	if m := fan[2].M("rss-B/idle-conn"); m.Runs != 1 || !near(m.Median, 972.7) {
		t.Errorf("rss %+v", m)
	}
	if m := fan[1].M("server-cpu-s/1M-deliveries"); !near(m.Median, 3.875) {
		t.Errorf("cpu %+v", m)
	}
}

func TestParseBenchmarksErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", "PASS\nok  \tx\t0.1s\n", "no benchmark results"},
		{"failed", "BenchmarkX-2 \t 10\t 5 ns/op\n--- FAIL: BenchmarkY\nFAIL\n", "a benchmark failed"},
	} {
		_, err := ParseBenchmarks(strings.NewReader(c.text), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestParseTestLog(t *testing.T) {
	l, err := ParseTestLog(open(t, filepath.Join(fixture, "faults", StdoutFile)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tr := range l.Tests {
		names = append(names, tr.Name+"="+tr.Status)
	}
	want := "TestStallShowsInTail=PASS TestHealthyRunClean=PASS TestFaultsCounted=PASS TestFaultsCounted/drop=PASS TestFaultsCounted/duplicate=PASS TestFaultsCounted/swap=PASS TestFindMaxKnee=PASS"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("tests\n got %s\nwant %s", got, want)
	}
	stall, _ := l.Test("TestStallShowsInTail")
	if len(stall.Logs) != 2 {
		t.Fatalf("stall logged %d messages, want 2 (the run summary, the closed loop)", len(stall.Logs))
	}
	if !strings.Contains(stall.Logs[0], "\nmessages  sent ") || !strings.HasSuffix(stall.Logs[0], "result: FAIL") {
		t.Errorf("multi-line message not kept whole:\n%s", stall.Logs[0])
	}
	if !strings.HasPrefix(stall.Logs[1], "closed loop: ") {
		t.Errorf("second message %q", stall.Logs[1])
	}

	if _, err := ParseTestLog(strings.NewReader("# x\nfoo.go:1: undefined: y\nFAIL\tgithub.com/x/y [build failed]\nFAIL\n")); err == nil || !strings.Contains(err.Error(), "build failed") {
		t.Errorf("build failure: %v", err)
	}
	if _, err := ParseTestLog(strings.NewReader("PASS\n")); err == nil {
		t.Error("no test ran: no error")
	}
}

func TestParseBot(t *testing.T) {
	l, err := ParseTestLog(open(t, filepath.Join(fixture, "bot", StdoutFile)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseBot(l)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != "PASS" || b.Threshold != 0.3 || len(b.Sets) != 3 {
		t.Fatalf("%+v", b)
	}
	all := b.Sets[0]
	if all.Name != "all" || all.Answerable != 105 || !near(all.Top1, 0.895) || !near(all.Correct, 0.886) || !near(all.Wrong, 0.105) || all.OffTopic != 30 || !near(all.Below, 0.867) {
		t.Errorf("all: %+v", all)
	}
	if b.Misses == 0 || b.OffTopicAnswered == 0 {
		t.Errorf("misses %d, off-topic answered %d", b.Misses, b.OffTopicAnswered)
	}
}

func TestParseFaults(t *testing.T) {
	l, err := ParseTestLog(open(t, filepath.Join(fixture, "faults", StdoutFile)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFaults(l)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tests) != 6 || f.Passed() != 6 {
		t.Fatalf("%d tests, %d passed; want 6 leaves, all passed", len(f.Tests), f.Passed())
	}
	stall := f.Tests[0]
	if c := stall.ClosedLoop; c == nil || c.Requests == 0 || c.P99 >= c.OpenP99 {
		t.Errorf("closed loop %+v", c)
	}
	if len(stall.Runs) != 1 || stall.Runs[0].Pass || strings.Join(stall.Runs[0].Failed(), ",") != "bot.p99 < 50ms" {
		t.Errorf("stall run %+v", stall.Runs)
	}
	drop := f.Tests[2]
	if drop.Name != "TestFaultsCounted/drop" || drop.Proxy["Dropped"] == 0 || drop.Runs[0].Messages["lost"] != drop.Proxy["Dropped"] {
		t.Errorf("drop %+v", drop)
	}
	k := f.Tests[5].Knee
	if k == nil || k.Best != 37 || k.Failed != 38 || k.Stopped != "settled" || len(k.Steps) != 7 || k.Steps[2].Pass || !k.Steps[3].Pass {
		t.Errorf("knee %+v", k)
	}
}

func TestParseErlang(t *testing.T) {
	l, err := ParseTestLog(open(t, filepath.Join(fixture, "erlang", StdoutFile)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := parseErlang(l)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Points) != 30 || e.Passed() != 30 {
		t.Errorf("%d points, %d passed", len(e.Points), e.Passed())
	}
	p := e.Points[4] // C, 2 agents, 0.8
	if p.Queue != "C" || p.Agents != 2 || p.Load != 0.8 || p.PWaitTheory != 0.7111 || p.Sessions == 0 || p.Offered != 0.8 {
		t.Errorf("point %+v", p)
	}

	// A run with a point out of tolerance: the error line is kept.
	l, err = ParseTestLog(open(t, "testdata/erlang-fail.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if e, err = parseErlang(l); err != nil {
		t.Fatal(err)
	}
	if len(e.Points) != 8 || e.Passed() != 7 {
		t.Fatalf("%d points, %d passed; want 8, 7", len(e.Points), e.Passed())
	}
	bad := e.Points[1]
	if bad.Status != "FAIL" || len(bad.Failures) != 1 || !strings.HasPrefix(bad.Failures[0], "mean wait 2.445s") {
		t.Errorf("failed point %+v", bad)
	}
}

// durabilityOutput is BenchmarkDurability's output of the standard
// command (-benchtime 100000x -count 3), from this machine.
const durabilityOutput = "testdata/durability.txt"

// crashBatchOutput is TestCrashRecovery's output with the server run on
// --durability batch instead of sync (a copy of the test outside the
// repository): a real failure, acknowledged messages lost in the crash.
const crashBatchOutput = "testdata/crash-batch.txt"

func TestParseDurability(t *testing.T) {
	bs, err := ParseBenchmarks(open(t, durabilityOutput), StdoutFile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDurability(bs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range d.Modes {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, " "); got != "none batch sync" || d.Rounds != 3 {
		t.Fatalf("modes %s, %d rounds; want none batch sync, 3", got, d.Rounds)
	}
	none, _ := d.Mode("none")
	synced, _ := d.Mode("sync")
	batch, _ := d.Mode("batch")
	// none: 30479, 44332, 54618 msgs/s; sync: 30549, 34042, 33793.
	if th := none.Throughput; th.Runs != 3 || th.Median != 44332 || th.Min != 30479 || th.Max != 54618 {
		t.Errorf("none msgs/s %+v", th)
	}
	if r := synced.Ratio; r.Runs != 3 || !near(r.Median, 33793.0/44332) || !near(r.Min, 30549.0/54618) || !near(r.Max, 34042.0/30479) {
		t.Errorf("sync against none %+v", r)
	}
	if none.Ratio.Runs != 0 || batch.Ratio.Runs != 3 || !near(batch.Ratio.Median, 29239.0/44332) {
		t.Errorf("ratios: none %+v, batch %+v", none.Ratio, batch.Ratio)
	}
	// Microseconds become seconds.
	if m := none.ServerCPU; !near(m.Median, 12.0e-6) || !near(m.Min, 11.2e-6) {
		t.Errorf("none server CPU %+v", m)
	}
	if m := synced.ClientCPU; !near(m.Median, 9.8e-6) {
		t.Errorf("sync client CPU %+v", m)
	}
	if m := synced.SyncTime; !near(m.Median, 543.8e-6) || !near(m.Max, 556.4e-6) {
		t.Errorf("sync time %+v", m)
	}
	if m := synced.PerSync; !near(m.Median, 21.95) || batch.PerSync.Runs != 0 || batch.SyncTime.Runs != 0 {
		t.Errorf("msgs/sync: sync %+v, batch %+v", m, batch.PerSync)
	}

	// The suite's fixture: the quick command, one run each.
	bs, err = ParseBenchmarks(open(t, filepath.Join(fixture, "durability", StdoutFile)), StdoutFile)
	if err != nil {
		t.Fatal(err)
	}
	if d, err = parseDurability(bs); err != nil {
		t.Fatal(err)
	}
	if synced, _ = d.Mode("sync"); d.Rounds != 1 || synced.Ratio.Runs != 1 || synced.Ratio.Min != synced.Ratio.Max {
		t.Errorf("quick: %d rounds, ratio %+v", d.Rounds, synced.Ratio)
	}

	// Without none there is nothing to compare with; without the
	// benchmark there is nothing at all.
	bs, err = ParseBenchmarks(strings.NewReader("pkg: github.com/swarmdesk/swarmdesk/refserver/daemon\nBenchmarkDurability/durability=sync-2 \t 10\t 5 ns/op\t 7 msgs/s\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if d, err = parseDurability(bs); err != nil || d.Modes[0].Ratio.Runs != 0 {
		t.Errorf("sync alone: %+v, %v", d, err)
	}
	bs, err = ParseBenchmarks(strings.NewReader("pkg: github.com/swarmdesk/swarmdesk/refserver/daemon\nBenchmarkOther-2 \t 10\t 5 ns/op\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = parseDurability(bs); err == nil || !strings.Contains(err.Error(), "no BenchmarkDurability") {
		t.Errorf("no durability benchmark: %v", err)
	}
}

func TestParseCrash(t *testing.T) {
	l, err := ParseTestLog(open(t, filepath.Join(fixture, "crash", StdoutFile)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCrash(l)
	if err != nil {
		t.Fatal(err)
	}
	want := Crash{Status: "PASS", Killed: true, InFlight: 20, Customers: 20, RestartS: 0.073, Audited: true, Checked: 68325}
	if !c.Passed() || c.Errors != nil || c.Status != want.Status || c.Killed != want.Killed || c.InFlight != want.InFlight || c.Customers != want.Customers ||
		!near(c.RestartS, want.RestartS) || c.Audited != want.Audited || c.Checked != want.Checked || c.Lost+c.Duplicated+c.Reordered != 0 {
		t.Errorf("passed:\n got %+v\nwant %+v", *c, want)
	}

	// A real failure: every lost message is a line of a joined error.
	l, err = ParseTestLog(open(t, crashBatchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if c, err = parseCrash(l); err != nil {
		t.Fatal(err)
	}
	if c.Passed() || c.Status != "FAIL" || c.Lost != 465 || c.Duplicated != 0 || c.Reordered != 0 || c.Checked != 120303 || !near(c.RestartS, 0.128) {
		t.Errorf("batch: %+v", *c)
	}
	if len(c.Errors) != 1 || !strings.HasPrefix(c.Errors[0], "crash-0: audit after seq 6268 of 6330: ") {
		t.Errorf("batch errors %q", c.Errors)
	}

	// The other kinds of damage the audit reports, and a test that ended
	// before it logged its figures.
	l, err = ParseTestLog(strings.NewReader(`=== RUN   TestCrashRecovery
    crash_test.go:70: crash-3: client id 1017 stored twice, at 12 and 14
    crash_test.go:70: crash-4: seq 9 after 7: a gap or a reorder
    crash_test.go:70: crash-5: client id 1002 acked at 3 is lost
        crash-5: client id 1004 acked at 5 is stored at 6
    crash_test.go:50: signal: killed
--- FAIL: TestCrashRecovery (1.00s)
`))
	if err != nil {
		t.Fatal(err)
	}
	if c, err = parseCrash(l); err != nil {
		t.Fatal(err)
	}
	if c.Killed || c.Audited || c.Lost != 1 || c.Duplicated != 1 || c.Reordered != 2 || len(c.Errors) != 1 || c.Errors[0] != "signal: killed" {
		t.Errorf("damage: %+v", *c)
	}

	l, err = ParseTestLog(open(t, filepath.Join(fixture, "bot", StdoutFile)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseCrash(l); err == nil || !strings.Contains(err.Error(), "TestCrashRecovery did not run") {
		t.Errorf("another test's log: %v", err)
	}
}

// TestReadChaos reads the fixture's chaos run: the quick command, the
// server killed every 5s for 30s of wall time.
func TestReadChaos(t *testing.T) {
	c, err := readChaos("chaos", filepath.Join(fixture, "chaos"))
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Result.Chaos
	if ch.Fault != "kill-server" || ch.EveryS != 5 || ch.Durability != "sync" || ch.Count != 5 || len(c.Kills()) != 5 {
		t.Fatalf("chaos %+v", ch)
	}
	if ch.InFlight != 0 || c.MaxInFlight() != 0 || c.MaxConnections() != 96 || c.Restarted() != 5 || c.Resumed() != 5 || ch.NotResumed != 0 {
		t.Errorf("in flight %d (max %d), connections max %d, restarted %d, resumed %d, not resumed %d",
			ch.InFlight, c.MaxInFlight(), c.MaxConnections(), c.Restarted(), c.Resumed(), ch.NotResumed)
	}
	// Restarts 68, 58, 53, 44, 44 ms; clients back 349, 779, 424, 399,
	// 254 ms.
	if !near(c.MedianRestartS(), 0.052889918) || !near(ch.MaxServerRestartS, 0.068208785) {
		t.Errorf("restart median %v, max %v", c.MedianRestartS(), ch.MaxServerRestartS)
	}
	if !near(c.MedianClientsBackS(), 0.399298906) || !near(ch.MaxClientsResumedS, 0.778611745) {
		t.Errorf("clients back median %v, max %v", c.MedianClientsBackS(), ch.MaxClientsResumedS)
	}
	if r := c.Reconnects; r == nil || r.Dropped != 412 || r.Attempts != 635 || r.Failed != 226 || r.Resumed != 412 {
		t.Errorf("reconnects %+v", r)
	}
	if m := c.Messages; m.Sent != 1521 || m.Delivered != 2885 || m.Lost+m.Duplicated+m.Reordered+m.Unacked != 0 {
		t.Errorf("messages %+v", m)
	}
	if !c.Passed() || c.Failures() != nil || !c.Run.Passed() {
		t.Errorf("failures %q, objectives %+v", c.Failures(), c.Objectives)
	}

	// What fails the crash test: damage, with the counts; a failed
	// restart; no kill at all.
	c.Messages.Lost, c.Messages.Reordered = 3, 1
	c.Result.Chaos.Kills[1].Error = "start refserver: exit status 1"
	want := "the restart after kill 2 failed (start refserver: exit status 1); 3 messages lost, 0 duplicated, 1 reordered, 0 never acknowledged"
	if got := strings.Join(c.Failures(), "; "); c.Passed() || got != want || c.Restarted() != 4 {
		t.Errorf("failures %q, restarted %d; want %q, 4", got, c.Restarted(), want)
	}
	c.Result.Chaos.Kills, c.Messages.Lost, c.Messages.Reordered = nil, 0, 0
	if got := strings.Join(c.Failures(), "; "); got != "the server was never killed" || c.MedianRestartS() != 0 || c.MedianClientsBackS() != 0 {
		t.Errorf("no kill: %q", got)
	}

	// A run without --chaos is not a crash test.
	if _, err := readChaos("chaos", filepath.Join(fixture, "smoke")); err == nil || !strings.Contains(err.Error(), "entry chaos:") || !strings.Contains(err.Error(), "no chaos section") {
		t.Errorf("smoke's result: %v", err)
	}
}

func TestMedianOf(t *testing.T) {
	for _, c := range []struct {
		vs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{4, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := slices.Clone(c.vs)
		if got := medianOf(c.vs); got != c.want || !slices.Equal(in, c.vs) {
			t.Errorf("median of %v: %v (input now %v), want %v", in, got, c.vs, c.want)
		}
	}
}

func TestReadSoak(t *testing.T) {
	s, err := readSoak("soak", filepath.Join(fixture, "soak"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Pass || s.Growth || s.Reasons != nil || s.Minutes() != 10 || s.WarmupMinutes() != 2 || s.WallRate() != 36 || s.Connections() != 58 {
		t.Errorf("pass %v, growth %v, reasons %q, %v minutes (warm-up %v), %v/s, %v connections",
			s.Pass, s.Growth, s.Reasons, s.Minutes(), s.WarmupMinutes(), s.WallRate(), s.Connections())
	}
	if b := s.Bench; !b.Valid || b.Sessions.Started != 20528 || b.Messages.Sent != 91582 || b.Messages.Lost != 0 || b.ObjectivesMet() != 6 || len(b.ObjectivesFailed()) != 0 {
		t.Errorf("bench %+v", b)
	}
	rows := s.Rows()
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r.Label, r.Start, r.End, r.Range, r.Slope, r.Limit, r.Verdict}, " | "))
	}
	want := []string{
		"RSS | 36.4 MiB | 40.9 MiB | 36.4 MiB–40.9 MiB | +3.54 MiB | 8.00 MiB | pass",
		"heap in use | 9.95 MiB | 12.9 MiB | 9.95 MiB–14.4 MiB | +2.68 MiB | 8.00 MiB | pass",
		"goroutines | 14 | 14 | 14–15 | +0.6 | max − median 0 (limit 10.3); last minute − first 0.9 (limit 10.3) | pass",
		"open fds | 91 | 87 | 65–92 | +1.0 | 20.0 | pass",
		"connections | 73 | 69 | 46–73 | -0.1 | — | —",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %q\nwant %q", got, want)
	}

	// A series judged without the samples to judge it, and one that grew.
	s.Series[0].Steady = nil
	s.Verdicts[0] = SoakVerdict{Series: "rss_bytes", Check: "slope", Detail: "cannot judge rss_bytes: fewer than two points at distinct times in the steady window (1 samples)"}
	s.Verdicts[4].Measured, s.Verdicts[4].Pass = 25, false
	rows = s.Rows()
	if r := rows[0]; r.Start != "—" || r.Range != "—" || r.Slope != "—" || r.Verdict != "**FAIL**" || !strings.HasPrefix(r.Limit, "cannot judge rss_bytes") {
		t.Errorf("RSS without samples: %+v", r)
	}
	if r := rows[3]; r.Limit != "20.0" || r.Verdict != "**FAIL**" {
		t.Errorf("fds grown: %+v", r)
	}

	// Another schema, or another file, is refused.
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{`{"schema": "swarmdesk.soak/v2", "series": [{"name": "x"}]}`, "schema"},
		{`{"schema": "swarmdesk.soak/v1"}`, "no series"},
		{`{"schema": `, "unexpected end"},
	} {
		if err := os.WriteFile(filepath.Join(dir, SoakFile), []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := readSoak("soak", dir)
		if err == nil || !strings.Contains(err.Error(), "entry soak:") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestReadFloor(t *testing.T) {
	f, err := readFloor("floor", filepath.Join(fixture, "floor"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Requested != 1000 || f.Tried != 1000 || f.Connections != 1000 || f.ServerAnswered != 1000 || !f.Held() || f.CPURatio != 1.5 || f.Client.CPUS != 0.03 || f.Server.CPUS != 0.02 {
		t.Errorf("floor %+v", f.Result)
	}

	// Another schema, or another file, is refused.
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{`{"schema": "swarmdesk.floor/v2", "tried": 10}`, "schema"},
		{`{"schema": "swarmdesk.floor/v1"}`, "no connections tried"},
		{`{"schema": `, "unexpected end"},
	} {
		if err := os.WriteFile(filepath.Join(dir, FloorFile), []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := readFloor("floor", dir)
		if err == nil || !strings.Contains(err.Error(), "entry floor:") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestReadRuns(t *testing.T) {
	smoke, err := readRun("smoke", filepath.Join(fixture, "smoke"), "")
	if err != nil {
		t.Fatal(err)
	}
	lats := smoke.Latencies()
	if len(lats) == 0 || lats[0].Name != "connect" {
		t.Errorf("latencies %v", lats)
	}
	if smoke.ObjectivesMet() != len(smoke.Objectives) || !smoke.Passed() {
		t.Errorf("objectives %+v", smoke.Objectives)
	}
	fm, err := readFindMax("find-max", filepath.Join(fixture, "find-max"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fm.Steps) != 2 || fm.Best() != 0.24 || fm.Steps[1].Run.Sessions.Started == 0 {
		t.Errorf("find-max %+v", fm.Result.FindMax)
	}
	if lo, hi, ok := fm.CPURatios(); !ok || lo > hi || lo <= 0 {
		t.Errorf("cpu ratios %v %v %v", lo, hi, ok)
	}
	rate, skip, err := halfRate("half-load", filepath.Join(fixture, "find-max"))
	if err != nil || skip != "" || rate != "0.12" {
		t.Errorf("half rate %q %q %v", rate, skip, err)
	}
}

func FuzzParseTestLog(f *testing.F) {
	b, err := os.ReadFile("testdata/erlang-fail.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("=== RUN   TestX\n    x.go:1: a\n        b\n\n--- PASS: TestX (0.00s)\n")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseTestLog(strings.NewReader(s))
		if err != nil {
			return
		}
		_, _ = parseFaults(l)
		_, _ = parseErlang(l)
		_, _ = parseBot(l)
		_, _ = parseCrash(l)
	})
}

func FuzzParseBenchmarks(f *testing.F) {
	f.Add("pkg: x\nBenchmarkA-2 \t 10\t 5 ns/op\t 3 B/op\t 7 things/s\n")
	f.Add("BenchmarkA/b=1-2 10 5 ns/op\nBenchmarkA/b=1-2 10 6 ns/op\n")
	f.Add("pkg: x/refserver/daemon\nBenchmarkDurability/durability=none-2 10 5 ns/op 7 msgs/s\nBenchmarkDurability/durability=sync-2 10 5 ns/op 0 msgs/s 2 msgs/sync\n")
	f.Fuzz(func(t *testing.T, s string) {
		bs, err := ParseBenchmarks(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		_, _ = parseDurability(bs)
		for _, b := range bs {
			for _, m := range b.Metrics {
				if m.Runs == 0 || m.Min > m.Max {
					t.Fatalf("%s: %+v", b.Name, m)
				}
			}
		}
	})
}
