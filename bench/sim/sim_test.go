package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/internal/longtest"
	"github.com/swarmdesk/swarmdesk/reports"
)

// small is smoke shortened to a minute and a half of scenario time (about
// 25 sessions, every step of the script): enough for the tests of the
// package's behaviour, and seconds under the race detector.
func small(seed uint64) Options {
	d := 90 * time.Second
	opts := Options{Scenario: "smoke"}
	opts.Overrides.Duration = &d
	opts.Overrides.Seed = &seed
	return opts
}

// played runs opts and returns its result document and every file of its
// output directory, the figures that depend on the machine and not on the
// simulation (wall times, CPU, memory, the build) cleared.
func played(t *testing.T, opts Options) (doc []byte, files map[string][]byte) {
	t.Helper()
	files = map[string][]byte{}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if opts.OutDir != "" {
		ents, err := os.ReadDir(opts.OutDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() == ResultFile {
				continue // compared as res, whose wall figures are cleared
			}
			b, err := os.ReadFile(filepath.Join(opts.OutDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = b
		}
		if res, err = reports.ReadFile(filepath.Join(opts.OutDir, ResultFile)); err != nil {
			t.Fatal(err)
		}
	}
	if !res.Valid || res.Sessions.Started == 0 || res.Messages.Sent == 0 || res.Sessions.Abandoned+res.Sessions.Completed == 0 {
		t.Fatalf("valid %v %v, sessions %+v, messages %+v", res.Valid, res.InvalidReasons, res.Sessions, res.Messages)
	}
	res.Start, res.End, res.DurationS = time.Time{}, time.Time{}, 0
	res.Generator = reports.Resources{}
	res.ToolVersion = ""
	res.Host = nil
	res.Sim.WallS, res.Sim.EventsPerS, res.Sim.SessionsPerS = 0, 0, 0
	if doc, err = json.Marshal(res); err != nil {
		t.Fatal(err)
	}
	return doc, files
}

// TestDeterministic: a scenario and seed give the same result document,
// byte for byte, on one core or all of them; TotalsOnly changes the series
// and nothing else; another seed gives another result. The runs keep no
// series but one: encoding each interval's histograms allocates a
// compressor, which the race detector makes the bulk of a small run
// (TestDeterministicLogs compares the interval logs).
func TestDeterministic(t *testing.T) {
	totals := func(seed uint64) Options { o := small(seed); o.TotalsOnly = true; return o }
	a, _ := played(t, totals(1))
	prev := runtime.GOMAXPROCS(1)
	b, _ := played(t, totals(1))
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs of seed 1 (GOMAXPROCS %d and 1) differ:\n%s", prev, firstDiff(a, b))
	}
	if c, _ := played(t, totals(2)); bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same result")
	}

	full, _ := played(t, small(1))
	var withSeries, only reports.Result
	if err := errors.Join(json.Unmarshal(full, &withSeries), json.Unmarshal(a, &only)); err != nil {
		t.Fatal(err)
	}
	if len(withSeries.Series) < 2 || len(only.Series) != 1 {
		t.Errorf("series of %d points, and %d totals only: want several and 1", len(withSeries.Series), len(only.Series))
	}
	withSeries.Series, only.Series = nil, nil
	if !reflect.DeepEqual(withSeries, only) {
		fb, _ := json.Marshal(withSeries)
		ob, _ := json.Marshal(only)
		t.Errorf("TotalsOnly changed more than the series:\n%s", firstDiff(fb, ob))
	}
	withOut := totals(1)
	withOut.OutDir = t.TempDir()
	if d, logs := played(t, withOut); !bytes.Equal(a, d) || len(logs) != 0 {
		t.Errorf("TotalsOnly with an output directory: %d files besides the result, want none; result the same: %v", len(logs), bytes.Equal(a, d))
	}
}

// TestDeterministicLogs: two runs of a seed, on all cores and on one,
// write the same result document and interval logs, byte for byte.
func TestDeterministicLogs(t *testing.T) {
	longtest.Require(t, "interval logs: minutes under -race")
	run := func() ([]byte, map[string][]byte) {
		o := small(1)
		o.OutDir = t.TempDir()
		return played(t, o)
	}
	a, aLogs := run()
	prev := runtime.GOMAXPROCS(1)
	b, bLogs := run()
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs of seed 1 (GOMAXPROCS %d and 1) differ:\n%s", prev, firstDiff(a, b))
	}
	if len(aLogs) == 0 || !maps.EqualFunc(aLogs, bLogs, bytes.Equal) {
		t.Errorf("the interval logs of two runs of seed 1 differ (%d and %d files)", len(aLogs), len(bLogs))
	}
}

// TestDeterministicPeakHour is TestDeterministic at scale: peak-hour (about
// 34,000 sessions, a million events) twice, on all cores and on one.
func TestDeterministicPeakHour(t *testing.T) {
	longtest.Require(t, "two simulations of peak-hour, minutes under -race")
	opts := Options{Scenario: "peak-hour", TotalsOnly: true}
	a, _ := played(t, opts)
	prev := runtime.GOMAXPROCS(1)
	b, _ := played(t, opts)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs of peak-hour differ:\n%s", firstDiff(a, b))
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
