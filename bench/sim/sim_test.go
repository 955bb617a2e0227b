package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/reports"
)

// TestDeterministic: the same scenario and seed give the same result
// document twice, wall-clock figures aside; another seed gives another.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		t.Helper()
		dir := t.TempDir()
		s := seed
		opts := Options{Scenario: "smoke", OutDir: dir}
		opts.Overrides.Seed = &s
		if _, err := Run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		res, err := reports.ReadFile(filepath.Join(dir, ResultFile))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Valid || res.Sessions.Started == 0 || res.Messages.Sent == 0 {
			t.Fatalf("seed %d: valid %v %v, sessions %+v, messages %+v", seed, res.Valid, res.InvalidReasons, res.Sessions, res.Messages)
		}
		// What depends on the machine, not the simulation.
		res.Generator = reports.Resources{}
		res.ToolVersion = ""
		res.Sim.WallS, res.Sim.EventsPerS, res.Sim.SessionsPerS = 0, 0, 0
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(1), run(1)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs of seed 1 differ:\n%s\n%s", firstDiff(a, b), "")
	}
	if c := run(2); bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same result")
	}
}

// firstDiff shows where two documents start to differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "…" + string(a[lo:min(len(a), i+200)]) + "\n   vs\n…" + string(b[lo:min(len(b), i+200)])
}

// TestClockOrder: events run in time order, and those at the same time in
// the order they were set.
func TestClockOrder(t *testing.T) {
	start := Epoch
	c := NewClock(start)
	var got []int
	add := func(at time.Duration, id int) { c.Call(start.Add(at), func() { got = append(got, id) }) }
	add(3*time.Second, 4)
	add(time.Second, 1)
	add(2*time.Second, 2)
	add(2*time.Second, 3)
	add(-time.Second, 0) // in the past: now
	c.Call(start.Add(time.Second), func() {
		c.callNow(func() { got = append(got, 5) }) // after what is due now
	})
	if !c.Run(start.Add(10*time.Second), 0) {
		t.Fatal("Run did not reach its end")
	}
	want := []int{0, 1, 5, 2, 3, 4}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if !c.Now().Equal(start.Add(10*time.Second)) || c.Events() != 7 {
		t.Errorf("now %v, events %d", c.Now(), c.Events())
	}
}
