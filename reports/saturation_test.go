package reports

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// use is a CPU use of count CPUs over 10 one-second intervals.
func use(cpus string, count int, cpuSeconds float64, busy int) CPUUse {
	return CPUUse{CPUs: cpus, Count: count, CPUSeconds: cpuSeconds, WallS: 10, Intervals: 10, BusyIntervals: busy}
}

func ptr(u CPUUse) *CPUUse { return &u }

// starved sets u's set figures: the set busy setCPU seconds, busy in
// busy intervals.
func starved(u CPUUse, setCPU float64, busy int) CPUUse {
	u.SetCPUSeconds, u.SetBusyIntervals = setCPU, busy
	return u
}

// TestSaturationRule: the rule flags the side whose CPUs were busy in a
// fifth of the intervals or over the whole phase, and not a side below
// both marks.
func TestSaturationRule(t *testing.T) {
	for _, c := range []struct {
		name    string
		s       Saturation
		side    string
		gen     bool
		verdict string // a substring of the verdicts; "" for none
	}{
		{"idle", Saturation{Generator: use("0", 1, 2, 0), Server: ptr(use("1", 1, 3, 0))}, SideNeither, false, ""},
		{"bench busy in 2 of 10 seconds", Saturation{Generator: use("0", 1, 5, 2), Server: ptr(use("1", 1, 3, 0))}, SideBench, true, "generator saturated: bench used 0.50 of 1 CPU (0), busiest second 0.00, 2 of 10 seconds at 90% or more: the figures"},
		{"bench busy in 1 of 10 seconds", Saturation{Generator: use("0", 1, 5, 1), Server: ptr(use("1", 1, 3, 0))}, SideNeither, false, ""},
		{"bench at 0.9 over the phase, no interval sampled", Saturation{Generator: CPUUse{CPUs: "0", Count: 1, CPUSeconds: 9, WallS: 10}, Server: ptr(use("1", 1, 3, 0))}, SideBench, true, "generator saturated"},
		{"bench at 0.9 of two CPUs", Saturation{Generator: use("0-1", 2, 18, 0), Server: ptr(use("2-3", 2, 3, 0))}, SideBench, true, "of 2 CPUs (0-1)"},
		{"bench at 0.45 of two CPUs", Saturation{Generator: use("0-1", 2, 9, 0), Server: ptr(use("2-3", 2, 3, 0))}, SideNeither, false, ""},
		{"server", Saturation{Generator: use("0", 1, 2, 0), Server: ptr(use("1", 1, 9.5, 9))}, SideServer, false, "server saturated"},
		{"both", Saturation{Generator: use("0", 1, 9, 5), Server: ptr(use("1", 1, 9.5, 9))}, SideBoth, true, "server saturated"},
		{"shared CPUs, neither alone", Saturation{Generator: use("0-1", 2, 10, 0), Server: ptr(use("0-1", 2, 9, 0)), Shared: ptr(use("0-1", 2, 19, 8))}, SideShared, false, "together saturated the CPUs they share"},
		{"shared CPUs, room to spare", Saturation{Generator: use("0-1", 2, 5, 0), Server: ptr(use("0-1", 2, 5, 0)), Shared: ptr(use("0-1", 2, 10, 0))}, SideNeither, false, ""},
		{"server not known", Saturation{Generator: use("0-1", 2, 2, 0)}, SideUnknown, false, ""},
		{"bench starved by other processes", Saturation{Generator: starved(use("0", 1, 3, 0), 9.6, 8), Server: ptr(use("1", 1, 3, 0))}, SideBench, false, "generator starved: other processes kept bench's CPUs busy: bench used 0.30 of 1 CPU (0)"},
		{"bench's CPUs busy in 1 of 10 seconds", Saturation{Generator: starved(use("0", 1, 3, 0), 4, 1), Server: ptr(use("1", 1, 3, 0))}, SideNeither, false, ""},
		{"server starved, sharing", Saturation{Generator: use("0-1", 2, 2, 0), Server: ptr(starved(use("0-1", 2, 3, 0), 19, 10)), Shared: ptr(use("0-1", 2, 5, 0))}, SideServer, false, "server starved: other processes (the server and bench share them) kept its CPUs busy"},
		{"bench saturated itself, not starved", Saturation{Generator: starved(use("0", 1, 9.5, 10), 9.8, 10), Server: ptr(use("1", 1, 3, 0))}, SideBench, true, "generator saturated"},
		{"server not known, bench saturated", Saturation{Generator: use("0-1", 2, 19, 10)}, SideBench, true, "generator saturated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.s
			s.Judge(&Result{})
			if s.Generator.Saturated && s.Generator.Starved {
				t.Error("the generator both saturated and starved")
			}
			if s.Saturated != c.side || s.Generator.Saturated != c.gen {
				t.Errorf("saturated %q, generator %v; want %q, %v", s.Saturated, s.Generator.Saturated, c.side, c.gen)
			}
			all := strings.Join(s.Verdicts, "\n")
			switch {
			case c.verdict == "" && len(s.Verdicts) > 0:
				t.Errorf("verdicts %q, want none", s.Verdicts)
			case c.verdict != "" && !strings.Contains(all, c.verdict):
				t.Errorf("verdicts %q, want one saying %q", s.Verdicts, c.verdict)
			}
		})
	}
}

// lagResult is a result with n delivery latencies of delivery (corrected)
// and raw, and n actions lagging by lag.
func lagResult(t *testing.T, n int, delivery, raw, lag time.Duration) *Result {
	t.Helper()
	d := make([]int64, n)
	r := make([]int64, n)
	l := make([]int64, n)
	for i := range n {
		d[i], r[i], l[i] = int64(delivery), int64(raw), int64(lag)
	}
	return &Result{
		Latency: map[string]Latency{"delivery": latencyOf(t, d, r), "queue_wait": latencyOf(t, d[:n/2], d[:n/2])},
		Actions: Actions{Lag: summaryOf(t, l...)},
	}
}

// TestLagDominates: lag whose p99 is half the corrected delivery p99 or
// more dominates it; less does not; and a tail of too few values is not
// judged.
func TestLagDominates(t *testing.T) {
	for _, c := range []struct {
		name               string
		n                  int
		delivery, raw, lag time.Duration
		want               []string
	}{
		{"lag is most of the tail", 200, 14 * time.Millisecond, 7 * time.Millisecond, 8 * time.Millisecond, []string{"delivery.p99"}},
		{"lag just over half", 200, 10 * time.Millisecond, 5 * time.Millisecond, 5100 * time.Microsecond, []string{"delivery.p99"}},
		{"lag just under half", 200, 10 * time.Millisecond, 5 * time.Millisecond, 4900 * time.Microsecond, nil},
		{"lag a small part", 200, 10 * time.Millisecond, 9 * time.Millisecond, 1 * time.Millisecond, nil},
		{"too few values", 99, 14 * time.Millisecond, 7 * time.Millisecond, 8 * time.Millisecond, nil},
		{"a tail under a millisecond", 200, 900 * time.Microsecond, 100 * time.Microsecond, 800 * time.Microsecond, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := lagResult(t, c.n, c.delivery, c.raw, c.lag)
			s := Saturation{Generator: use("0", 1, 1, 0), Server: ptr(use("1", 1, 1, 0))}
			s.Judge(r)
			if !slices.Equal(s.LagDominates, c.want) {
				t.Fatalf("lag_dominates %q, want %q", s.LagDominates, c.want)
			}
			if len(s.Verdicts) != len(c.want) || c.want != nil && !strings.HasPrefix(s.Verdicts[0], "generator lag dominates delivery.p99: action lag p99 ") {
				t.Errorf("verdicts %q", s.Verdicts)
			}
			t.Logf("verdicts %q", s.Verdicts)
			if s.Saturated != SideNeither {
				t.Errorf("saturated %q: lag is not saturation", s.Saturated)
			}
		})
	}
}

// TestSaturationInTurn: runs merged in turn add their intervals and CPU
// time, and are judged again: a run busy in 3 of 10 seconds beside one
// busy in none is busy in 3 of 20, under a fifth.
func TestSaturationInTurn(t *testing.T) {
	a, _, _ := shardResult(t, 0, 1)
	b, _, _ := shardResult(t, 0, 1)
	a.Saturation.Generator = use("0", 1, 6, 3)
	a.Saturation.Judge(a)
	b.Saturation.Generator = use("0", 1, 2, 0)
	b.Saturation.Judge(b)
	if a.Saturation.Saturated != SideBench || b.Saturation.Saturated != SideNeither {
		t.Fatalf("runs judged %q and %q", a.Saturation.Saturated, b.Saturation.Saturated)
	}
	m, err := MergeInTurn(a, b)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Saturation.Generator
	if g.Intervals != 20 || g.BusyIntervals != 3 || g.WallS != 20 || g.CPUSeconds != 8 || g.Utilisation != 0.4 || g.Saturated {
		t.Errorf("merged generator %+v", g)
	}
	if m.Saturation.Saturated != SideNeither || m.Saturation.Split != a.Saturation.Split || !m.Saturation.Pinned {
		t.Errorf("merged %+v", *m.Saturation)
	}
	// A run without the section (an older one) leaves the merge without.
	b.Saturation = nil
	if m, err = MergeInTurn(a, b); err != nil || m.Saturation != nil {
		t.Errorf("merged with a run without saturation: %+v, %v", m.Saturation, err)
	}
}

// TestSaturationShards: shards' generators add up; their server, on the
// same CPUs, counts once.
func TestSaturationShards(t *testing.T) {
	a, _, _ := shardResult(t, 0, 2)
	b, _, _ := shardResult(t, 1, 2)
	a.Saturation.Generator = use("0", 1, 9.5, 10)
	b.Saturation.Generator = use("1", 1, 1, 0)
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Saturation
	if s.Generator.Count != 2 || s.Generator.CPUs != "0; 1" || s.Generator.BusyIntervals != 10 || !s.Generator.Saturated {
		t.Errorf("merged generators %+v", s.Generator)
	}
	if *s.Server != *a.Saturation.Server {
		t.Errorf("merged server %+v, want shard 0's %+v", *s.Server, *a.Saturation.Server)
	}
	if s.Saturated != SideBench {
		t.Errorf("saturated %q", s.Saturated)
	}
}

// TestSaturationRead: a document whose saturation contradicts itself is
// refused.
func TestSaturationRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(*Saturation)
	}{
		{"unknown side", func(s *Saturation) { s.Saturated = "bench and then some" }},
		{"more busy than intervals", func(s *Saturation) { s.Generator.BusyIntervals = 11 }},
		{"set busy more than intervals", func(s *Saturation) { s.Server.SetBusyIntervals = 11 }},
		{"negative count", func(s *Saturation) { s.Server.Count = -1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _, _ := shardResult(t, 0, 1)
			c.spoil(r.Saturation)
			var buf bytes.Buffer
			if err := Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(&buf); !errors.Is(err, ErrInvalid) {
				t.Errorf("Read: %v, want ErrInvalid", err)
			}
		})
	}
}
