package runner

import (
	"testing"
)

// TestSearch plays the find-max search against knees of known position,
// with a pass whenever the load is at or below the knee.
func TestSearch(t *testing.T) {
	for _, c := range []struct {
		name    string
		integer bool
		first   float64
		knee    float64
	}{
		{"rate up", false, 1, 37.3},
		{"rate down", false, 100, 3.3},
		{"rate at start", false, 5, 5},
		{"population up", true, 10, 437},
		{"population down", true, 400, 23},
		{"population small", true, 8, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &search{opts: FindMaxOptions{MaxSteps: 40}.withDefaults(), integer: c.integer, first: c.first}
			var tried []float64
			stop := ""
			for {
				load, why := s.next()
				if why != "" {
					stop = why
					break
				}
				tried = append(tried, load)
				s.record(load, load <= c.knee)
			}
			if stop != "settled" {
				t.Fatalf("stopped %q after %v", stop, tried)
			}
			if s.lo > c.knee || s.hi <= c.knee {
				t.Errorf("bounds [%g, %g] do not hold the knee %g (tried %v)", s.lo, s.hi, c.knee, tried)
			}
			if s.lo < c.knee*0.9 {
				t.Errorf("best %g is more than 10%% below the knee %g (tried %v)", s.lo, c.knee, tried)
			}
			if len(tried) > 16 {
				t.Errorf("%d steps: %v", len(tried), tried)
			}
		})
	}
	t.Run("none passes", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{MaxSteps: 40}.withDefaults(), integer: true, first: 16}
		for {
			load, why := s.next()
			if why != "" {
				if why != "none passed" || s.lo != 0 {
					t.Errorf("stopped %q with best %g, want none passed", why, s.lo)
				}
				return
			}
			s.record(load, false)
		}
	})
	t.Run("step budget", func(t *testing.T) {
		s := &search{opts: FindMaxOptions{MaxSteps: 3}.withDefaults(), first: 1}
		for {
			load, why := s.next()
			if why != "" {
				if why != "steps" || s.lo != 4 {
					t.Errorf("stopped %q with best %g, want steps at 4", why, s.lo)
				}
				return
			}
			s.record(load, true)
		}
	})
}
