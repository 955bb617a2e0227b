package record

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/swarmdesk/swarmdesk/reports"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 123_000_000, time.UTC)

func newRecorder(t *testing.T, cfg Config) *Recorder {
	t.Helper()
	r, err := New(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func closeResult(t *testing.T, r *Recorder, end time.Time) *reports.Result {
	t.Helper()
	if err := r.Close(end); err != nil {
		t.Fatal(err)
	}
	res, err := r.Result(reports.Run{Tool: "test", Scenario: "unit", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// hist returns a histogram of the default geometry holding values.
func hist(t *testing.T, values ...time.Duration) *hdrhistogram.Histogram {
	t.Helper()
	cfg := DefaultConfig()
	h := hdrhistogram.New(int64(cfg.Lowest), int64(cfg.Highest), cfg.Digits)
	for _, v := range values {
		if err := h.RecordValue(int64(v)); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestMetricNames(t *testing.T) {
	want := []string{"connect", "hello", "menu", "bot", "ack", "delivery", "queue_wait", "first_reply", "broadcast", "resume", "agent_reply", "session"}
	ms := Metrics()
	if len(ms) != len(want) || NumMetrics != len(want) {
		t.Fatalf("%d metrics, want %d", len(ms), len(want))
	}
	for i, m := range ms {
		if m.String() != want[i] {
			t.Errorf("metric %d is %q, want %q", i, m, want[i])
		}
		if back, ok := ParseMetric(want[i]); !ok || back != m {
			t.Errorf("ParseMetric(%q) = %v, %v", want[i], back, ok)
		}
	}
	if _, ok := ParseMetric("p99"); ok {
		t.Error("ParseMetric accepted an unknown name")
	}
	if s := Metric(200).String(); s != "metric(200)" {
		t.Errorf("unknown metric prints %q", s)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"default", func(*Config) {}, nil},
		{"lowest", func(c *Config) { c.Lowest = 0 }, []string{"lowest 0s"}},
		{"highest", func(c *Config) { c.Highest = c.Lowest }, []string{"highest 1µs"}},
		{"digits", func(c *Config) { c.Digits = 6 }, []string{"digits 6"}},
		{"interval", func(c *Config) { c.Interval = 0 }, []string{"interval 0s"}},
		{"late bound", func(c *Config) { c.LateBound = -time.Second }, []string{"late bound -1s"}},
		{"fraction", func(c *Config) { c.MaxLateFraction = math.NaN() }, []string{"max late fraction NaN"}},
		{"cut off", func(c *Config) { c.CutOff = -time.Second }, []string{"cut off -1s"}},
		{"every problem", func(c *Config) { c.Digits = 0; c.MaxChats = 0 }, []string{"digits 0", "max chats 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v, want ErrConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, err := New(c, t0); !errors.Is(err, ErrConfig) {
				t.Errorf("New accepted the config: %v", err)
			}
		})
	}
}

// TestRecordCorrectedAndRaw checks that each metric keeps the corrected
// latency (from the intended time) and the raw one (from the actual send)
// apart, and that the result's summaries are those of the values recorded.
func TestRecordCorrectedAndRaw(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	s := r.NewShard()
	var corrected, raw []time.Duration
	for i := range 100 {
		intended := t0.Add(time.Duration(i) * time.Millisecond)
		sent := intended.Add(time.Duration(i) * 10 * time.Microsecond) // the generator fell behind a little
		done := sent.Add(time.Duration(500+i) * time.Microsecond)
		s.Record(Delivery, intended, sent, done)
		corrected = append(corrected, done.Sub(intended))
		raw = append(raw, done.Sub(sent))
	}
	s.RecordDurations(Connect, -time.Millisecond, 2*time.Hour) // both out of range
	res := closeResult(t, r, t0.Add(time.Second))

	for _, c := range []struct {
		raw    bool
		values []time.Duration
	}{{false, corrected}, {true, raw}} {
		h, err := res.Histogram("delivery", c.raw)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Equals(hist(t, c.values...)) {
			t.Errorf("delivery raw=%v: histogram differs from the values recorded", c.raw)
		}
		want, err := reports.NewSummary(h)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Latency["delivery"].Summary
		if c.raw {
			got = res.Latency["delivery"].Raw
		}
		if got != want {
			t.Errorf("delivery raw=%v summary\n got %+v\nwant %+v", c.raw, got, want)
		}
	}
	if l := res.Latency["delivery"]; l.P99Ms <= l.Raw.P99Ms {
		t.Errorf("corrected p99 %v not above raw p99 %v although the sends were late", l.P99Ms, l.Raw.P99Ms)
	}
	c := res.Latency["connect"]
	if c.OutOfRange != 2 || c.MinMs != 0 || c.Raw.MaxMs < float64(time.Hour/time.Millisecond) {
		t.Errorf("out-of-range connect: %+v", c)
	}
	for _, m := range Metrics() {
		if _, ok := res.Latency[m.String()]; !ok {
			t.Errorf("result lacks metric %s", m)
		}
	}
	if res.Latency["menu"].Count != 0 || res.Latency["menu"].Histogram == "" {
		t.Error("an unused metric should be present, empty, with its (empty) histogram")
	}
}

// TestStallShowsInCorrected is the open model at the recorder: a server
// that stalls 200ms now and then holds up the messages scheduled during
// the stall. Measured from the intended time the stall shows in p99; from
// the actual send (what a closed loop measures) it does not.
func TestStallShowsInCorrected(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LateBound = 10 * time.Millisecond // the counts below are for 10ms
	r := newRecorder(t, cfg)
	s := r.NewShard()
	const every = 10 * time.Millisecond // one message every 10ms, for 10s
	service := 300 * time.Microsecond
	free := t0 // when the connection can next send
	for i := range 1000 {
		intended := t0.Add(time.Duration(i) * every)
		sent := intended
		if sent.Before(free) {
			sent = free
		}
		took := service
		if i%250 == 0 { // a 200ms stall every 2.5s
			took = 200 * time.Millisecond
		}
		done := sent.Add(took)
		free = done
		s.ActionStarted(intended, sent)
		s.Record(Ack, intended, sent, done)
	}
	res := closeResult(t, r, t0.Add(10*time.Second))
	ack := res.Latency["ack"]
	if ack.P99Ms < 100 {
		t.Errorf("corrected p99 %vms hides the 200ms stalls", ack.P99Ms)
	}
	if ack.Raw.P99Ms > 1 {
		t.Errorf("raw p99 %vms: the closed-loop measure should hide the stalls", ack.Raw.P99Ms)
	}
	// Four stalls held up 19 messages each behind them: 76 actions started late.
	if res.Actions.Late != 76 || res.Valid {
		t.Errorf("late %d, valid %v; want 76 late and the run invalid", res.Actions.Late, res.Valid)
	}
}

// TestGeneratorLag checks the lateness accounting and when it invalidates
// the run.
func TestGeneratorLag(t *testing.T) {
	tests := []struct {
		name      string
		onTime    int
		late      int
		dropped   int
		fraction  float64
		wantValid bool
		wantWhy   string
	}{
		{"all on time", 1000, 0, 0, 0.01, true, ""},
		{"at the limit", 990, 10, 0, 0.01, true, ""},
		{"past it", 989, 11, 0, 0.01, false, "11 of 1001 actions (1.10%) started more than 10ms late or were dropped (limit 1%)"},
		{"dropped count", 995, 0, 6, 0.005, false, "6 of 1002 actions"},
		{"none allowed", 100, 1, 0, 0, false, "1 of 102 actions"},
		{"one of a small run", 40, 1, 0, 0.01, true, ""},
		{"two of a small run", 40, 2, 0, 0.01, false, "2 of 43 actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.LateBound = 10 * time.Millisecond
			cfg.MaxLateFraction = tt.fraction
			r := newRecorder(t, cfg)
			s := r.NewShard()
			for i := range tt.onTime {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				if lag := s.ActionStarted(at, at.Add(cfg.LateBound)); lag != cfg.LateBound {
					t.Fatalf("lag %v", lag)
				}
			}
			for range tt.late {
				s.ActionStarted(t0, t0.Add(cfg.LateBound+time.Nanosecond))
			}
			for range tt.dropped {
				s.ActionDropped()
			}
			s.ActionStarted(t0, t0.Add(-time.Millisecond)) // early counts as on time
			res := closeResult(t, r, t0.Add(time.Second))
			a := res.Actions
			if a.Started != int64(tt.onTime+tt.late+1) || a.Late != int64(tt.late) || a.Dropped != int64(tt.dropped) {
				t.Errorf("actions %+v", a)
			}
			if a.Lag.Count != a.Started || a.LateBoundMs != 10 || a.MaxLateFraction != tt.fraction {
				t.Errorf("lag count %d, bound %v, fraction %v", a.Lag.Count, a.LateBoundMs, a.MaxLateFraction)
			}
			if res.Valid != tt.wantValid {
				t.Fatalf("valid %v, want %v (%q)", res.Valid, tt.wantValid, res.InvalidReasons)
			}
			if !tt.wantValid && (len(res.InvalidReasons) != 1 || !strings.Contains(res.InvalidReasons[0], tt.wantWhy)) {
				t.Errorf("reasons %q, want one containing %q", res.InvalidReasons, tt.wantWhy)
			}
		})
	}
}

// TestIntervalLogsMatchResult records from several shards, each on its own
// goroutine, while the recorder cuts intervals, then reads the .hlog files
// back with hdrhistogram-go's log reader: the intervals of each tag add up
// to the histograms, and the percentiles, of result.json.
func TestIntervalLogsMatchResult(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = filepath.Join(t.TempDir(), "out")
	cfg.Interval = 100 * time.Millisecond
	r := newRecorder(t, cfg)

	// Every cut encodes each histogram into the logs, which the race
	// detector makes costly: the cuts are counted, not spun.
	const shards, perShard, rounds = 4, 8_000, 4
	var clock sync.Mutex
	now := t0
	intervals := 0
	tick := func() {
		clock.Lock()
		defer clock.Unlock()
		now = now.Add(cfg.Interval)
		if _, err := r.Tick(now); err != nil {
			t.Error(err)
		}
		intervals++
	}
	var ss []*Shard
	var rngs []*rand.Rand
	for i := range shards {
		ss = append(ss, r.NewShard())
		rngs = append(rngs, rand.New(rand.NewPCG(7, uint64(i))))
	}
	// Each round, every shard records half its share on its own
	// goroutine, then the other half while the recorder cuts an interval;
	// the round ends with one more cut.
	const half = perShard / rounds / 2
	for range rounds {
		var wg, halfway sync.WaitGroup
		cutting := make(chan struct{})
		halfway.Add(shards)
		for i, s := range ss {
			wg.Go(func() {
				rng := rngs[i]
				for j := range 2 * half {
					if j == half {
						halfway.Done()
						<-cutting
					}
					m := Metric(rng.IntN(NumMetrics))
					rawD := time.Duration(float64(time.Millisecond) * math.Exp(rng.NormFloat64()))
					s.RecordDurations(m, rawD+time.Duration(rng.IntN(1000))*time.Microsecond, rawD)
					s.ActionStarted(t0, t0.Add(time.Duration(rng.IntN(2000))*time.Microsecond))
					if j%1000 == 0 {
						s.Error("110")
					}
				}
			})
		}
		halfway.Wait()
		close(cutting)
		tick()
		wg.Wait()
		tick()
	}
	// The run's result.json beside its logs, read back as a report would.
	path := filepath.Join(cfg.Dir, "result.json")
	if err := reports.WriteFile(path, closeResult(t, r, now.Add(cfg.Interval/2))); err != nil {
		t.Fatal(err)
	}
	res, err := reports.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var total int64
	for _, m := range Metrics() {
		total += res.Latency[m.String()].Count
	}
	if total != shards*perShard {
		t.Fatalf("result holds %d records, want %d", total, shards*perShard)
	}
	if res.Errors["110"] != shards*perShard/1000 {
		t.Errorf("errors %v", res.Errors)
	}
	if len(res.Series) != intervals+1 {
		t.Errorf("%d series points for %d ticks and a close", len(res.Series), intervals)
	}
	busy := 0
	for _, p := range res.Series {
		if p.Errors > 0 {
			busy++
		}
	}
	if busy < rounds {
		t.Errorf("only %d of %d intervals saw records: the test does not exercise the cuts", busy, len(res.Series))
	}
	var seriesErrors int64
	for _, p := range res.Series {
		seriesErrors += p.Errors
	}
	if seriesErrors != res.Errors["110"] {
		t.Errorf("series counts %d errors, result %d", seriesErrors, res.Errors["110"])
	}

	for _, m := range Metrics() {
		logged := readLog(t, filepath.Join(cfg.Dir, LogFile(m)))
		for _, raw := range []bool{false, true} {
			tag := Tag(m, raw)
			h := logged[tag]
			if h == nil {
				t.Fatalf("%s: no intervals tagged %s", LogFile(m), tag)
			}
			want := res.Latency[m.String()].Summary
			if raw {
				want = res.Latency[m.String()].Raw
			}
			checkSameDistribution(t, tag, h, want)
		}
	}
	lag := readLog(t, filepath.Join(cfg.Dir, LagName+".hlog"))[LagName]
	checkSameDistribution(t, LagName, lag, res.Actions.Lag)
}

// readLog reads an interval log with hdrhistogram-go's reader and adds up
// its intervals by tag. It checks that the intervals follow each other.
func readLog(t *testing.T, path string) map[string]*hdrhistogram.Histogram {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := hdrhistogram.NewHistogramLogReader(f)
	sums := map[string]*hdrhistogram.Histogram{}
	lastEnd := map[string]int64{}
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h == nil {
			break
		}
		// The reader converts seconds to milliseconds by truncation, so a
		// timestamp may come back 1ms early.
		tag := h.Tag()
		if end, ok := lastEnd[tag]; ok && abs(h.StartTimeMs()-end) > 1 {
			t.Errorf("%s: %s interval starts at %d, the last ended at %d", path, tag, h.StartTimeMs(), end)
		} else if !ok && abs(h.StartTimeMs()-t0.UnixMilli()) > 1 {
			t.Errorf("%s: first %s interval starts at %d, want the run's start %d", path, tag, h.StartTimeMs(), t0.UnixMilli())
		}
		lastEnd[tag] = h.EndTimeMs()
		if sums[tag] == nil {
			sums[tag] = h
			continue
		}
		if dropped := sums[tag].Merge(h); dropped != 0 {
			t.Fatalf("%s: %d values dropped merging intervals", path, dropped)
		}
	}
	return sums
}

// checkSameDistribution checks that h, added up from a log, has the
// summary the result document gives.
func checkSameDistribution(t *testing.T, what string, h *hdrhistogram.Histogram, want reports.Summary) {
	t.Helper()
	got, err := reports.NewSummary(h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != want.Count || got.P50Ms != want.P50Ms || got.P90Ms != want.P90Ms || got.P99Ms != want.P99Ms ||
		got.P999Ms != want.P999Ms || got.P9999Ms != want.P9999Ms || got.MaxMs != want.MaxMs || got.MinMs != want.MinMs {
		t.Errorf("%s: the log gives\n %+v\nthe result\n %+v", what, got, want)
	}
	if got.Histogram != want.Histogram {
		t.Errorf("%s: the log's intervals do not add up to the result's histogram", what)
	}
}

func TestIntervalLogHeader(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	r := newRecorder(t, cfg)
	s := r.NewShard()
	s.RecordDurations(Delivery, 3*time.Millisecond, 2*time.Millisecond)
	if ok, err := r.Tick(t0.Add(cfg.Interval / 2)); ok || err != nil {
		t.Fatalf("Tick before the interval ended: %v, %v", ok, err)
	}
	if ok, err := r.Tick(t0.Add(cfg.Interval)); !ok || err != nil {
		t.Fatalf("Tick at the interval's end: %v, %v", ok, err)
	}
	if err := r.Close(t0.Add(cfg.Interval)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Dir, "delivery.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, prefix := range []string{
		"#[Histogram log format version 1.3]",
		"#[swarmdesk bench interval log, tags delivery.corrected (from the intended time) and delivery.raw (from the actual start); values in nanoseconds",
		"#[StartTime: 1795255200 (seconds since epoch), 2026-11-21T10:00:00Z]",
		"#[BaseTime: 1795255200 (seconds since epoch)]",
		`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`,
		"Tag=delivery.corrected,0.123000,1.000000,3.000",
		"Tag=delivery.raw,0.123000,1.000000,2.000",
	} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d: %q, want it to start %q", i+1, lines[i], prefix)
		}
	}
	// The close at the same instant as the last tick, with nothing new,
	// writes no empty interval.
	if n := strings.Count(string(b), "Tag=delivery.raw,"); n != 1 {
		t.Errorf("%d raw intervals, want 1", n)
	}
}

func TestRecorderLifecycle(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	if _, err := r.Result(reports.Run{}); !errors.Is(err, ErrNotClosed) {
		t.Fatalf("Result before Close: %v", err)
	}
	if err := r.Close(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(t0.Add(2 * time.Second)); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Tick(t0.Add(3 * time.Second)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Tick after Close: %v", err)
	}
	res, err := r.Result(reports.Run{Scenario: "smoke", Shard: reports.ShardIndex{Index: 1, Count: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Start.Equal(t0) || !res.End.Equal(t0.Add(time.Second)) || res.DurationS != 1 || res.Shard.Count != 2 || !res.Valid {
		t.Errorf("run %+v valid %v", res.Run, res.Valid)
	}
	// The document the recorder fills is one reports reads back.
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(reports.Write(pw, res)) }()
	if _, err := reports.Read(pr); err != nil {
		t.Fatalf("reports.Read of the recorder's result: %v", err)
	}
}

// TestRecorderCutOff: a run cut off while a message is in flight counts it
// cut off, not lost: by default what was sent in the last ten intervals
// before Close (Config.CutOff). A message owed since long before is lost.
func TestRecorderCutOff(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cutOff    time.Duration
		sentAgo   time.Duration
		lost, cut int64
	}{
		{"in flight", 0, 2 * time.Second, 0, 1},
		{"sent long before", 0, time.Minute, 1, 0},
		{"sent before a shorter window", time.Second, 2 * time.Second, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CutOff = tc.cutOff
			r := newRecorder(t, cfg)
			end := t0.Add(5 * time.Minute)
			l := r.Ledger()
			if err := l.Join(conv, console); err != nil {
				t.Fatal(err)
			}
			at := end.Add(-tc.sentAgo)
			l.Sent(conv, phone, 101, at, at)
			l.Acked(conv, 101, 1)
			if err := r.Close(end); err != nil {
				t.Fatal(err)
			}
			res, err := r.Result(reports.Run{})
			if err != nil {
				t.Fatal(err)
			}
			if m := res.Messages; m.Lost != tc.lost || m.CutOff != tc.cut {
				t.Errorf("messages %+v, want lost %d, cut off %d", m, tc.lost, tc.cut)
			}
		})
	}
}

func TestLiveSummary(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	s := r.NewShard()
	s.RecordDurations(Delivery, 5*time.Millisecond, time.Millisecond)
	if sum, _ := r.Summary(Delivery, false); sum.Count != 0 {
		t.Fatal("the live summary counts what no interval has taken yet")
	}
	if _, err := r.Tick(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	sum, err := r.Summary(Delivery, false)
	if err != nil {
		t.Fatal(err)
	}
	rawSum, _ := r.Summary(Delivery, true)
	if sum.Count != 1 || sum.P99Ms < 4.99 || sum.P99Ms > 5.01 || rawSum.P99Ms > 1.01 {
		t.Errorf("live summaries %+v %+v", sum, rawSum)
	}
}

func TestSessionsErrorsGauges(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	a, b := r.NewShard(), r.NewShard()
	for _, ev := range []SessionEvent{SessionStarted, SessionStarted, SessionStarted, SessionBotResolved, SessionToHuman, SessionToHuman, SessionAbandoned, SessionCompleted} {
		a.Session(ev)
	}
	b.Session(SessionStarted)
	a.Error("connect")
	b.Error("connect")
	b.Error("104")
	a.AddConnections(10)
	b.AddConnections(5)
	b.AddConnections(-1)
	a.AddQueued(3)
	b.AddQueued(1)
	a.AddQueued(-1)
	for i := range 4 {
		a.RecordDurations(Ack, time.Millisecond, time.Millisecond)
		b.RecordDurations(Delivery, time.Millisecond, time.Millisecond)
		if i%2 == 0 {
			b.RecordDurations(Delivery, time.Millisecond, time.Millisecond)
		}
	}
	if _, err := r.Tick(t0.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res := closeResult(t, r, t0.Add(2*time.Second))
	if want := (reports.Sessions{Started: 4, BotResolved: 1, ToHuman: 2, Abandoned: 1, Completed: 1}); res.Sessions != want {
		t.Errorf("sessions %+v, want %+v", res.Sessions, want)
	}
	if len(res.Errors) != 2 || res.Errors["connect"] != 2 || res.Errors["104"] != 1 {
		t.Errorf("errors %v", res.Errors)
	}
	if len(res.Series) != 1 {
		t.Fatalf("series %+v, want one point", res.Series)
	}
	got := res.Series[0]
	lat := got.Latency
	got.Latency = nil
	want := reports.Point{StartS: 0, EndS: 2, Messages: 4, MessagesPerS: 2, Deliveries: 6, DeliveriesPerS: 3, Errors: 3, Connections: 14, QueueLength: 3}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("point %+v\nwant  %+v", got, want)
	}
	// The interval's latencies: only the metrics that recorded a value,
	// each with a histogram holding its count.
	if len(lat) != 2 || lat["ack"].Count != 4 || lat["delivery"].Count != 6 {
		t.Fatalf("interval latency %+v, want ack 4 and delivery 6", lat)
	}
	for name, il := range lat {
		h, err := reports.DecodeHistogram(il.Histogram)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h.TotalCount() != il.Count || il.P50Ms < 0.99 || il.P50Ms > 1.01 {
			t.Errorf("%s: histogram holds %d, p50 %.3f ms; want %d and 1 ms", name, h.TotalCount(), il.P50Ms, il.Count)
		}
	}
}

// TestLinks: link events add up over shards into the result's reconnects,
// drops and the down gauge are live, and a run without a drop has no
// reconnects section.
func TestLinks(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	a, b := r.NewShard(), r.NewShard()
	for _, ev := range []LinkEvent{LinkDropped, LinkRedial, LinkFailed, LinkRedial, LinkResumed} {
		a.Link(ev)
	}
	b.Link(LinkDropped)
	a.AddDown(1)
	b.AddDown(1)
	if down, dropped := r.Links(); down != 2 || dropped != 2 {
		t.Errorf("live: %d down, %d dropped; want 2 and 2", down, dropped)
	}
	a.AddDown(-1)
	b.AddDown(-1)
	if down, _ := r.Links(); down != 0 {
		t.Errorf("%d down after both came back", down)
	}
	res := closeResult(t, r, t0.Add(time.Second))
	if want := (reports.Reconnects{Dropped: 2, Attempts: 2, Failed: 1, Resumed: 1}); res.Reconnects == nil || *res.Reconnects != want {
		t.Errorf("reconnects %+v, want %+v", res.Reconnects, want)
	}
	if len(res.Errors) != 0 {
		t.Errorf("link events counted as errors: %v", res.Errors)
	}
	if res := closeResult(t, newRecorder(t, DefaultConfig()), t0.Add(time.Second)); res.Reconnects != nil {
		t.Errorf("reconnects %+v without a drop", res.Reconnects)
	}
}

// TestAgentConcurrency checks the time-weighted distribution of concurrent
// chats and the reply latency bucketed by concurrency.
func TestAgentConcurrency(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxChats = 3
	r := newRecorder(t, cfg)
	a, b := r.NewShard(), r.NewShard()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// Agent 1: idle 10s, 1 chat 20s, 2 chats 10s, away 30s, 1 chat to the end (at 100s).
	a.AgentChats(1, 0, at(0))
	a.AgentChats(1, 1, at(10))
	a.AgentChats(1, 2, at(30))
	a.AgentOffline(1, at(40))
	a.AgentChats(1, 1, at(70))
	// Agent 2 on another shard: 5 chats from 50s to 60s, then idle to the end.
	b.AgentChats(2, 0, at(0))
	b.AgentChats(2, 5, at(50))
	b.AgentChats(2, 0, at(60))
	b.AgentOffline(3, at(5)) // never online: ignored

	// Replies: at 1 chat 2s, 2s, 4s; at 2 chats 6s; at 5 chats (counted at 3) 9s.
	reply := func(s *Shard, chats int, secs int) {
		s.AgentReply(chats, at(0), at(0), at(secs))
	}
	reply(a, 1, 2)
	reply(a, 1, 2)
	reply(a, 1, 4)
	reply(a, 2, 6)
	reply(b, 5, 9)

	res := closeResult(t, r, at(100))
	ag := res.Agents
	if ag.Count != 2 || ag.MaxConcurrent != 5 {
		t.Errorf("count %d max %d, want 2 and 5", ag.Count, ag.MaxConcurrent)
	}
	// Agent seconds: 0 chats 10+50+40 = 100; 1: 20+30 = 50; 2: 10; 5: 10.
	wantSecs := []float64{100, 50, 10, 0, 0, 10}
	wantPeaked := []int64{0, 0, 1, 0, 0, 1}
	if len(ag.Concurrency) != len(wantSecs) {
		t.Fatalf("concurrency %+v", ag.Concurrency)
	}
	for i, lv := range ag.Concurrency {
		if lv.Chats != i || lv.AgentSeconds != wantSecs[i] || lv.Share != wantSecs[i]/170 || lv.Peaked != wantPeaked[i] {
			t.Errorf("level %d: %+v, want %v agent-seconds, %d peaked", i, lv, wantSecs[i], wantPeaked[i])
		}
	}
	if want := (50 + 20 + 50) / 170.0; math.Abs(ag.MeanConcurrent-want) > 1e-12 {
		t.Errorf("mean concurrency %v, want %v", ag.MeanConcurrent, want)
	}
	if len(ag.Reply) != 3 {
		t.Fatalf("reply levels %+v", ag.Reply)
	}
	for i, w := range []struct {
		chats int
		count int64
		p50   float64
	}{{1, 3, 2000}, {2, 1, 6000}, {3, 1, 9000}} {
		lv := ag.Reply[i]
		if lv.Chats != w.chats || lv.Count != w.count || math.Abs(lv.P50Ms-w.p50)/w.p50 > 0.001 {
			t.Errorf("reply level %d: chats %d count %d p50 %v, want %+v", i, lv.Chats, lv.Count, lv.P50Ms, w)
		}
	}
	if res.Latency["agent_reply"].Count != 5 {
		t.Errorf("agent_reply count %d, want 5", res.Latency["agent_reply"].Count)
	}
}

// TestRecordAllocs checks that recording allocates nothing once a metric
// is in use, whatever the interval cuts do meanwhile.
func TestRecordAllocs(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	s := r.NewShard()
	for _, m := range Metrics() { // first use allocates the histograms
		s.RecordDurations(m, time.Millisecond, time.Millisecond)
	}
	s.ActionStarted(t0, t0)
	s.Session(SessionStarted)
	s.Error("110")
	if _, err := r.Tick(t0.Add(time.Second)); err != nil { // and the other buffer's
		t.Fatal(err)
	}
	for _, m := range Metrics() {
		s.RecordDurations(m, time.Millisecond, time.Millisecond)
	}
	s.ActionStarted(t0, t0)
	s.Error("110")
	intended, sent := t0, t0.Add(time.Millisecond)
	tests := []struct {
		name string
		f    func()
	}{
		{"Record", func() { s.Record(Delivery, intended, sent, sent.Add(300*time.Microsecond)) }},
		{"RecordDurations", func() { s.RecordDurations(QueueWait, 3*time.Second, 2*time.Second) }},
		{"RecordDurations out of range", func() { s.RecordDurations(Ack, -1, 3*time.Hour) }},
		{"ActionStarted", func() { s.ActionStarted(intended, sent) }},
		{"ActionDropped", s.ActionDropped},
		{"Session", func() { s.Session(SessionCompleted) }},
		{"Error", func() { s.Error("110") }},
		{"AddConnections", func() { s.AddConnections(1) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tt.name, n)
		}
	}
}

// TestShardsWithTicks hammers shards from several goroutines while the
// recorder cuts intervals: under -race this checks the phaser, and every
// record must land in exactly one interval.
func TestShardsWithTicks(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Interval = time.Nanosecond
	r := newRecorder(t, cfg)
	const writers, each = 4, 5000
	var wg sync.WaitGroup
	for range writers {
		s := r.NewShard()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.RecordDurations(Delivery, time.Duration(i+1)*time.Microsecond, time.Microsecond)
				s.Error("e")
			}
		}()
	}
	stop := make(chan struct{})
	ticks := make(chan int)
	go func() {
		n := 0
		now := t0
		for {
			select {
			case <-stop:
				ticks <- n
				return
			default:
				now = now.Add(time.Millisecond)
				if _, err := r.Tick(now); err != nil {
					t.Error(err)
				}
				n++
			}
		}
	}()
	wg.Wait()
	close(stop)
	n := <-ticks
	res := closeResult(t, r, t0.Add(time.Hour))
	if got := res.Latency["delivery"].Count; got != writers*each {
		t.Errorf("delivery count %d, want %d", got, writers*each)
	}
	if got := res.Errors["e"]; got != writers*each {
		t.Errorf("errors %d, want %d", got, writers*each)
	}
	var series int64
	for _, p := range res.Series {
		series += p.Deliveries
	}
	if series != writers*each {
		t.Errorf("series adds up to %d deliveries, want %d", series, writers*each)
	}
	t.Logf("%d ticks during the writes", n)
}

func abs(v int64) int64 { return max(v, -v) }

// TestTickBoundaries checks that intervals end on the run's grid of
// Config.Interval, whether Tick comes from a jittery ticker or more often.
func TestTickBoundaries(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name  string
		ticks []int // milliseconds since the start
		ends  []int // the interval ends, in milliseconds
	}{
		{"ticker", []int{1000, 2000, 3000}, []int{1000, 2000, 3000}},
		{"jittery ticker", []int{999, 2003, 2998, 4010}, []int{999, 2003, 2998, 4010}},
		{"often", []int{100, 500, 899, 900, 1300, 1950, 2100}, []int{900, 1950, 2100}}, // the last ended by Close
		{"a missed tick", []int{1000, 3500, 4000}, []int{1000, 3500, 4000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, DefaultConfig())
			for _, tk := range tt.ticks {
				if _, err := r.Tick(ms(tk)); err != nil {
					t.Fatal(err)
				}
			}
			res := closeResult(t, r, ms(tt.ticks[len(tt.ticks)-1]))
			var ends []int
			for _, p := range res.Series {
				ends = append(ends, int(math.Round(p.EndS*1000)))
			}
			if fmt.Sprint(ends) != fmt.Sprint(tt.ends) {
				t.Errorf("intervals end at %v, want %v", ends, tt.ends)
			}
		})
	}
}

// TestSummarizeEmpty: an empty histogram's summary, through the
// Recorder's reused encoder, is the one the library's own encoding gives,
// for each geometry, and for a histogram emptied by a reset as for a new
// one.
func TestSummarizeEmpty(t *testing.T) {
	r := &Recorder{}
	for _, g := range []struct{ lowest, highest, digits int64 }{{1000, int64(time.Hour), 3}, {1, 1_000_000, 2}} {
		for _, reset := range []bool{false, true} {
			p := hdrhistogram.NewPacked(g.lowest, g.highest, int(g.digits))
			if reset {
				_ = p.RecordValue(g.lowest * 7)
				p.Reset()
			}
			enc, err := p.Encode() // the library's own encoding
			if err != nil {
				t.Fatal(err)
			}
			h, err := hdrhistogram.Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			want := reports.NewSummaryEncoded(h, enc)
			for range 2 { // with a fresh encoder, then a reused one
				if got, err := r.summarize(p); err != nil || got != want {
					t.Errorf("geometry %+v reset %v: summarize = %+v, %v; want %+v", g, reset, got, err, want)
				}
			}
		}
	}
	full := hdrhistogram.NewPacked(1000, int64(time.Hour), 3)
	_ = full.RecordValue(5000)
	if s, err := r.summarize(full); err != nil || s.Count != 1 {
		t.Errorf("summarize of one value = %+v, %v", s, err)
	}
}
