package swarm

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestLatestWithin checks the heap's pruned search against a scan of
// every timer.
func TestLatestWithin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	t0 := time.Unix(1000, 0)
	for round := range 200 {
		var h timerHeap
		n := r.IntN(300)
		for i := range n {
			h.push(timer{at: t0.Add(time.Duration(r.IntN(5000)) * time.Microsecond), seq: uint64(i)})
		}
		for _, span := range []time.Duration{0, 50 * time.Microsecond, 200 * time.Microsecond, time.Second} {
			var limit, want time.Time
			if n > 0 {
				limit = h[0].at.Add(span)
			}
			for _, e := range h {
				if !e.at.After(limit) && e.at.After(want) {
					want = e.at
				}
			}
			if got := h.latestWithin(limit, 1<<20); !got.Equal(want) {
				t.Fatalf("round %d, %d timers, span %v: latestWithin %v, want %v", round, n, span, got.Sub(t0), want.Sub(t0))
			}
			if got := h.latestWithin(limit, 3); n > 0 && (got.Before(h[0].at) || got.After(want)) {
				t.Fatalf("round %d: bounded search %v outside [%v, %v]", round, got.Sub(t0), h[0].at.Sub(t0), want.Sub(t0))
			}
		}
	}
}
