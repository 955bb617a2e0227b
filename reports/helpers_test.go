package reports

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// newHist returns an empty histogram of the bench's default geometry:
// nanoseconds, 1µs to 1h, 3 significant digits.
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(int64(time.Microsecond), int64(time.Hour), 3)
}

// histOf returns a histogram holding values (nanoseconds).
func histOf(t testing.TB, values ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := newHist()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// summaryOf summarises values, failing the test on error.
func summaryOf(t testing.TB, values ...int64) Summary {
	t.Helper()
	s, err := NewSummary(histOf(t, values...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// intervalOf summarises one interval's values, failing the test on error.
func intervalOf(t testing.TB, values ...int64) IntervalLatency {
	t.Helper()
	il, err := NewIntervalLatency(histOf(t, values...))
	if err != nil {
		t.Fatal(err)
	}
	return il
}

// latencies draws n log-normal latencies around median, with a stall of
// stall added to one in every stallEvery (0: none).
func latencies(rng *rand.Rand, n int, median time.Duration, stall time.Duration, stallEvery int) (corrected, raw []int64) {
	for i := range n {
		v := int64(float64(median) * math.Exp(0.5*rng.NormFloat64()))
		raw = append(raw, v)
		c := v
		if stallEvery > 0 && i%stallEvery == 0 {
			c += int64(stall)
		}
		corrected = append(corrected, c)
	}
	return corrected, raw
}

// latencyOf builds a Latency from corrected and raw values.
func latencyOf(t testing.TB, corrected, raw []int64) Latency {
	t.Helper()
	return Latency{Summary: summaryOf(t, corrected...), Raw: summaryOf(t, raw...)}
}

// shardResult builds shard index of count of a run of scenario "smoke",
// seed 42, with deterministic figures drawn from the shard's own seed. It
// returns the raw values it recorded for the delivery metric, so a test can
// check a merge against one histogram of all of them. Each call returns a
// copy of its own: a shard is built once per test binary, since encoding
// its histograms is most of what the merge tests cost under the race
// detector.
func shardResult(t testing.TB, index, count int) (r *Result, deliveryCorrected, deliveryRaw []int64) {
	t.Helper()
	key := [2]int{index, count}
	v, ok := shardCache.Load(key)
	if !ok {
		var s builtShard
		s.r, s.dc, s.dr = buildShard(t, index, count)
		v, _ = shardCache.LoadOrStore(key, s)
	}
	s := v.(builtShard)
	b, err := json.Marshal(s.r)
	if err != nil {
		t.Fatal(err)
	}
	r = new(Result)
	if err := json.Unmarshal(b, r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, s.r) {
		t.Fatalf("shard %d of %d: a copy through JSON differs from the original", index, count)
	}
	return r, slices.Clone(s.dc), slices.Clone(s.dr)
}

// shardCache holds the shards shardResult built, by [index, count].
var shardCache sync.Map

type builtShard struct {
	r      *Result
	dc, dr []int64
}

// buildShard builds what shardResult returns.
func buildShard(t testing.TB, index, count int) (r *Result, deliveryCorrected, deliveryRaw []int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, uint64(index)))
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Add(time.Duration(index) * 50 * time.Millisecond)
	end := start.Add(10 * time.Second)
	dc, dr := latencies(rng, 2000+100*index, 400*time.Microsecond, 200*time.Millisecond, 500)
	qc, qr := latencies(rng, 40, 2*time.Second, 0, 0)
	lag, _ := latencies(rng, 3000, 50*time.Microsecond, 0, 0)
	lagSummary := summaryOf(t, lag...)
	reply, _ := latencies(rng, 30, 3*time.Second, 0, 0)
	r = &Result{
		Schema: Schema,
		Run: Run{
			Tool:         "swarmdesk bench",
			ToolVersion:  "v0.1.0",
			Scenario:     "smoke",
			ScenarioFile: "embedded:smoke",
			Seed:         42,
			Start:        start,
			End:          end,
			DurationS:    end.Sub(start).Seconds(),
			Shard:        ShardIndex{Index: index, Count: count},
			Target:       "embedded refserver 127.0.0.1:7400",
		},
		Valid: true,
		Latency: map[string]Latency{
			"delivery":   latencyOf(t, dc, dr),
			"queue_wait": latencyOf(t, qc, qr),
		},
		Messages: Messages{Sent: 1000 + int64(index), Delivered: 2000 + 2*int64(index), Lost: int64(index), CutOff: 2 * int64(index)},
		Actions: Actions{
			Started: 3000, Late: int64(index), LateBoundMs: 10, MaxLateFraction: 0.01, Lag: lagSummary,
		},
		Errors:   map[string]int64{"connect": 1, "110": int64(index) + 1},
		Sessions: Sessions{Started: 50, BotResolved: 40, ToHuman: 10, Completed: 9, Abandoned: 1},
		Agents: Agents{
			Count:          4,
			MaxConcurrent:  2 + index,
			MeanConcurrent: 1,
			Concurrency: []ConcurrencyLevel{
				{Chats: 0, AgentSeconds: 10, Share: 0.25, Peaked: 1},
				{Chats: 1, AgentSeconds: 20, Share: 0.5, Peaked: 2},
				{Chats: 2, AgentSeconds: 10, Share: 0.25, Peaked: 1},
			},
			Reply: []ReplyLevel{{Chats: 1, Summary: summaryOf(t, reply[:20]...)}, {Chats: 2, Summary: summaryOf(t, reply[20:]...)}},
		},
		Objectives: []Objective{
			{Expression: "delivery.p99 < 50ms", Value: 1.5, Unit: "ms", Samples: 400, MinSamples: 100, Pass: true},
			{Expression: "queue_wait.p99 < 60s", Value: 0, Unit: "ms", Samples: 30, MinSamples: 100,
				Insufficient: "too few samples: 30 queue_wait values, and a p99 needs 100"},
		},
		Generator: Resources{Source: "self", CPUSeconds: 1.5, PeakRSSBytes: 40 << 20, Connections: 1000, BytesPerConnection: 900},
		Server:    Resources{Source: "pid 1234", CPUSeconds: 2.5, PeakRSSBytes: 30 << 20, Connections: 1004, BytesPerConnection: 700},
		Series: []Point{
			{StartS: 0, EndS: 1, Messages: 100, MessagesPerS: 100, Deliveries: 200, DeliveriesPerS: 200, Connections: 1000, QueueLength: 3,
				Latency: map[string]IntervalLatency{"delivery": intervalOf(t, dc[:200]...)}},
			{StartS: 1, EndS: 2, Messages: 110, MessagesPerS: 110, Deliveries: 220, DeliveriesPerS: 220, Errors: 1, Connections: 1000},
		},
	}
	r.Saturation = &Saturation{
		Split: "bench 0, server 1 (of 0-1)", Pinned: true,
		Generator: CPUUse{CPUs: "0", Count: 1, CPUSeconds: 1.25, WallS: 10, Intervals: 10, BusyIntervals: 0, PeakUtilisation: 0.25, SetCPUSeconds: 2.5, SetBusyIntervals: 1},
		Server:    &CPUUse{CPUs: "1", Count: 1, CPUSeconds: 2.5, WallS: 10, Intervals: 10, BusyIntervals: 1, PeakUtilisation: 0.9375, SetCPUSeconds: 3, SetBusyIntervals: 1},
	}
	r.Saturation.Judge(r)
	return r, dc, dr
}
