package reports

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestMergeExact checks that merging shards gives the figures of one
// histogram of every shard's values.
func TestMergeExact(t *testing.T) {
	const n = 3
	var shards []*Result
	var allC, allR []int64
	for i := range n {
		r, dc, dr := shardResult(t, i, n)
		shards = append(shards, r)
		allC = append(allC, dc...)
		allR = append(allR, dr...)
	}
	// Shards in any order.
	got, err := Merge(shards[2], shards[0], shards[1])
	if err != nil {
		t.Fatal(err)
	}
	if want := latencyOf(t, allC, allR); !reflect.DeepEqual(got.Latency["delivery"], want) {
		t.Errorf("merged delivery latency\n got %+v\nwant %+v", got.Latency["delivery"], want)
	}
	h, err := got.Histogram("delivery", true)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Equals(histOf(t, allR...)) {
		t.Error("merged raw histogram differs from the histogram of all values")
	}

	if want := (Messages{Sent: 3003, Delivered: 6006, Lost: 3, CutOff: 6}); got.Messages != want {
		t.Errorf("messages %+v, want %+v", got.Messages, want)
	}
	if want := map[string]int64{"connect": 3, "110": 6}; !reflect.DeepEqual(got.Errors, want) {
		t.Errorf("errors %v, want %v", got.Errors, want)
	}
	if got.Actions.Started != 9000 || got.Actions.Late != 3 || got.Actions.Lag.Count != 9000 {
		t.Errorf("actions %+v", got.Actions)
	}
	if want := (Sessions{Started: 150, BotResolved: 120, ToHuman: 30, Completed: 27, Abandoned: 3}); got.Sessions != want {
		t.Errorf("sessions %+v, want %+v", got.Sessions, want)
	}
	if !got.Valid || got.Objectives != nil {
		t.Errorf("valid %v objectives %v, want valid and none (to evaluate again)", got.Valid, got.Objectives)
	}
	if got.Shard != (ShardIndex{0, 1}) || got.MergedShards != n {
		t.Errorf("shard %+v merged %d", got.Shard, got.MergedShards)
	}
	if want := shards[0].Start; !got.Start.Equal(want) {
		t.Errorf("start %v, want the earliest %v", got.Start, want)
	}
	if want := shards[2].End; !got.End.Equal(want) || got.DurationS != got.End.Sub(got.Start).Seconds() {
		t.Errorf("end %v duration %v, want the latest end %v", got.End, got.DurationS, want)
	}

	// Generator: every shard its own process. Server: one pid sampled by
	// all three counts once.
	if g := got.Generator; g.CPUSeconds != 4.5 || g.PeakRSSBytes != 120<<20 || g.Connections != 3000 || g.BytesPerConnection != 900 {
		t.Errorf("generator %+v", g)
	}
	if s := got.Server; s.CPUSeconds != 2.5 || s.PeakRSSBytes != 30<<20 || s.Source != "pid 1234" {
		t.Errorf("server %+v", s)
	}

	ag := got.Agents
	if ag.Count != 12 || ag.MaxConcurrent != 4 || len(ag.Concurrency) != 3 || ag.Concurrency[1].AgentSeconds != 60 || ag.Concurrency[1].Share != 0.5 || ag.MeanConcurrent != 1 {
		t.Errorf("agents %+v", ag)
	}
	if len(ag.Reply) != 2 || ag.Reply[0].Count != 60 || ag.Reply[1].Count != 30 {
		t.Errorf("reply by concurrency %+v", ag.Reply)
	}

	if len(got.Series) != 2 || got.Series[0].Deliveries != 600 || got.Series[0].DeliveriesPerS != 600 || got.Series[1].Errors != 3 || got.Series[0].Connections != 3000 {
		t.Errorf("series %+v", got.Series)
	}

	// Interval histograms merge exactly too.
	var first []int64
	for _, r := range shards {
		h, err := DecodeHistogram(r.Series[0].Latency["delivery"].Histogram)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range h.Distribution() {
			for range b.Count {
				first = append(first, b.From)
			}
		}
	}
	if want := intervalOf(t, first...); !reflect.DeepEqual(got.Series[0].Latency["delivery"], want) {
		t.Errorf("merged interval latency\n got %+v\nwant %+v", got.Series[0].Latency["delivery"], want)
	}
	if len(got.Series[1].Latency) != 0 {
		t.Errorf("second interval latency %+v, want none", got.Series[1].Latency)
	}

	// What Merge returns is a document Read accepts.
	if err := got.check(); err != nil {
		t.Errorf("merged result contradicts itself: %v", err)
	}
}

func TestMergeServers(t *testing.T) {
	a, _, _ := shardResult(t, 0, 2)
	b, _, _ := shardResult(t, 1, 2)
	b.Server.Source = "pid 999"
	b.Server.Connections = 996
	got, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	s := got.Server
	if s.CPUSeconds != 5 || s.PeakRSSBytes != 60<<20 || s.Connections != 2000 || s.Source != "pid 1234, pid 999" || s.BytesPerConnection != 700 {
		t.Errorf("two servers: %+v", s)
	}
}

// TestMergeReconnects: the reconnect counts of the shards add up; a run
// whose shards dropped nothing has none.
func TestMergeReconnects(t *testing.T) {
	a, _, _ := shardResult(t, 0, 3)
	b, _, _ := shardResult(t, 1, 3)
	c, _, _ := shardResult(t, 2, 3)
	a.Reconnects = &Reconnects{Dropped: 10, Attempts: 30, Failed: 20, Resumed: 10}
	c.Reconnects = &Reconnects{Dropped: 1, Attempts: 2, Failed: 1, Resumed: 1}
	got, err := Merge(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Reconnects{Dropped: 11, Attempts: 32, Failed: 21, Resumed: 11}); got.Reconnects == nil || *got.Reconnects != want {
		t.Errorf("reconnects %+v, want %+v", got.Reconnects, want)
	}
	a.Reconnects, c.Reconnects = nil, nil
	if got, err := Merge(a, b, c); err != nil || got.Reconnects != nil {
		t.Errorf("no reconnects merged to %+v, %v", got.Reconnects, err)
	}
}

func TestMergeInvalid(t *testing.T) {
	a, _, _ := shardResult(t, 0, 2)
	b, _, _ := shardResult(t, 1, 2)
	b.Invalidate("generator fell behind")
	got, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Valid || !reflect.DeepEqual(got.InvalidReasons, []string{"shard 1/2: generator fell behind"}) {
		t.Errorf("valid %v reasons %q", got.Valid, got.InvalidReasons)
	}
}

func TestMergeSingle(t *testing.T) {
	r, _, _ := shardResult(t, 0, 1)
	got, err := Merge(r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Latency, r.Latency) || got.Messages != r.Messages {
		t.Error("merging one whole run changed its figures")
	}
}

func TestMergeRefuses(t *testing.T) {
	shards := func(n int) []*Result {
		var rs []*Result
		for i := range n {
			r, _, _ := shardResult(t, i, n)
			rs = append(rs, r)
		}
		return rs
	}
	tests := []struct {
		name   string
		change func(rs []*Result) []*Result
		want   string
	}{
		{"none", func([]*Result) []*Result { return nil }, "no results"},
		{"scenario", func(rs []*Result) []*Result { rs[1].Scenario = "peak-hour"; return rs }, `scenario ("smoke" and "peak-hour")`},
		{"seed", func(rs []*Result) []*Result { rs[2].Seed = 7; return rs }, "seed (42 and 7)"},
		{"shard count", func(rs []*Result) []*Result { rs[1].Shard.Count = 4; return rs }, "shard count (3 and 4)"},
		{"missing", func(rs []*Result) []*Result { return rs[:2] }, "shards 2 of 3 missing"},
		{"two missing", func(rs []*Result) []*Result { return rs[1:2] }, "shards 0, 2 of 3 missing"},
		{"repeated", func(rs []*Result) []*Result { return []*Result{rs[0], rs[1], rs[1]} }, "shard 1 of 3 given twice"},
		{"out of range", func(rs []*Result) []*Result { rs[2].Shard.Index = 3; return rs }, "shard 3 of 3 out of range"},
		{"find-max", func(rs []*Result) []*Result { rs[1].FindMax = &FindMax{Parameter: "customers.rate"}; return rs }, "shard 1/3 is a --find-max search"},
		{"chaos", func(rs []*Result) []*Result { rs[2].Chaos = &Chaos{Fault: "kill-server"}; return rs }, "shard 2/3 is a --chaos run"},
		{"late bound", func(rs []*Result) []*Result { rs[1].Actions.LateBoundMs = 5; return rs }, "late_bound_ms"},
		{"histogram range", func(rs []*Result) []*Result {
			rs[0].Latency["delivery"] = Latency{Summary: narrow(t, 2000), Raw: rs[0].Latency["delivery"].Raw}
			return rs
		}, "histogram ranges differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(tt.change(shards(3))...)
			if !errors.Is(err, ErrMerge) {
				t.Fatalf("error %v, want ErrMerge", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "merge: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// narrow summarises values in a histogram of a smaller range than the
// default (up to 1ms), which cannot hold another shard's longer values.
func narrow(t *testing.T, values ...int64) Summary {
	t.Helper()
	n := hdrhistogram.New(1000, 1_000_000, 3)
	for _, v := range values {
		if err := n.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewSummary(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
