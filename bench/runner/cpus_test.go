package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/internal/cpuset"
	"github.com/swarmdesk/swarmdesk/reports"
)

// allowed returns the CPUs this test process may run on.
func allowed(t *testing.T) cpuset.Set {
	t.Helper()
	a, err := cpuset.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPlace: the lists bench run accepts and refuses, and where each
// leaves bench and the server. Nothing is pinned.
func TestPlace(t *testing.T) {
	all := allowed(t)
	last := cpuset.Of(all[len(all)-1]).String()
	for _, c := range []struct {
		name     string
		opts     Options
		embedded bool
		err      string // a substring of the error; "" for none
		bench    string // "" for the CPUs allowed
		server   string // "" for the CPUs allowed (embedded) or none (target)
		want     bool   // bench is to be pinned
	}{
		{name: "outside the allowed set", opts: Options{CPUs: "1023"}, embedded: true, err: "CPU 1023 is not among the CPUs bench may run on (" + all.String() + ")"},
		{name: "not a list", opts: Options{ServerCPUs: "one"}, embedded: true, err: "--server-cpus: cpu list"},
		{name: "server cpus with a target", opts: Options{ServerCPUs: last}, err: "not bench's to place"},
		{name: "no-pin and cpus", opts: Options{CPUs: last, NoPin: true}, embedded: true, err: "--no-pin"},
		{name: "cpus leave the server nothing", opts: Options{CPUs: all.String()}, embedded: true, err: "leaves no CPU of " + all.String() + " to the server"},
		{name: "server cpus leave bench nothing", opts: Options{ServerCPUs: all.String()}, embedded: true, err: "leaves no CPU of " + all.String() + " to bench"},
		{name: "no-pin", opts: Options{NoPin: true}, embedded: true},
		{name: "target, no cpus", opts: Options{}},
		{name: "target, cpus", opts: Options{CPUs: last}, bench: last, want: true},
		{name: "both given, overlapping", opts: Options{CPUs: all.String(), ServerCPUs: last}, embedded: true, bench: all.String(), server: last, want: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pl, err := place(c.opts, c.embedded)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrSetup) {
					t.Fatalf("place: %v; want ErrSetup saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			bench, server := c.bench, c.server
			if bench == "" {
				bench = all.String()
			}
			if server == "" && c.embedded {
				server = all.String()
			}
			if pl.bench.String() != bench || pl.server.String() != server || pl.want != c.want || pl.pinned {
				t.Errorf("bench %q server %q want %v pinned %v; want %q %q %v false", pl.bench, pl.server, pl.want, pl.pinned, bench, server, c.want)
			}
		})
	}
	t.Run("default", func(t *testing.T) {
		pl, err := place(Options{}, true)
		if err != nil {
			t.Fatal(err)
		}
		b, s, ok := cpuset.Split(all, cpuset.Cores(all))
		if !ok {
			if pl.want || !strings.Contains(pl.describe(Options{}, 0), "not split: one CPU") {
				t.Errorf("one CPU: %+v", pl)
			}
			return
		}
		if !pl.bench.Equal(b) || !pl.server.Equal(s) || !pl.want {
			t.Errorf("default bench %v server %v, want the split %v %v", pl.bench, pl.server, b, s)
		}
	})
}

// TestPinBench pins this process as a run with the embedded server does:
// every thread on bench's CPUs, GOMAXPROCS and the swarm loops their
// number, the header saying so; a second run in the process does not pin
// over it; unpin puts everything back.
func TestPinBench(t *testing.T) {
	all := allowed(t)
	if len(all) < 2 {
		t.Skipf("one CPU allowed (%v): nothing to split", all)
	}
	procs := runtime.GOMAXPROCS(0)
	pl, err := place(Options{}, true)
	if err != nil {
		t.Fatal(err)
	}
	// A second run in the process, placed before the first pins.
	other, err := place(Options{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.pin(); err != nil {
		t.Fatal(err)
	}
	defer pl.unpin()
	threads, err := cpuset.Threads(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for tid, s := range threads {
		if !s.Equal(pl.bench) {
			t.Errorf("thread %d on %v, want bench's %v", tid, s, pl.bench)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != len(pl.bench) || pl.loops(Options{}) != len(pl.bench) || pl.loops(Options{Loops: 7}) != 7 {
		t.Errorf("GOMAXPROCS %d, loops %d; want %d each", got, pl.loops(Options{}), len(pl.bench))
	}
	if got := pl.serverCPUs(); !got.Equal(pl.server) || len(got.And(pl.bench)) != 0 {
		t.Errorf("server on %v, bench on %v: want disjoint", got, pl.bench)
	}
	head := pl.describe(Options{}, 1)
	want := "cpus: bench " + pl.bench.String() + ", server " + pl.server.String() + " (of " + all.String() + "); GOMAXPROCS bench "
	if !strings.HasPrefix(head, want) || !strings.HasSuffix(head, ", server 1") {
		t.Errorf("header %q, want it to begin %q", head, want)
	}

	if err := other.pin(); err != nil || other.pinned || other.serverCPUs() != nil || !strings.Contains(other.describe(Options{}, 0), "another run") {
		t.Errorf("a second pin in the process: %v, %+v", err, other)
	}

	pl.unpin()
	threads, err = cpuset.Threads(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for tid, s := range threads {
		if !s.Equal(all) {
			t.Errorf("after unpin, thread %d on %v, want %v", tid, s, all)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS %d after unpin, want %d", got, procs)
	}
}

// TestCPUTrack: a track of one CPU sampled each second counts the
// intervals at 90% or more, of the process and of its set, and the
// busiest, and its totals; an interval under half a second is not judged.
func TestCPUTrack(t *testing.T) {
	k := cpuTrack{set: cpuset.Of(3)}
	t0 := time.Unix(1000, 0)
	var r reading
	k.sample(t0, r, true)
	for i, busy := range []struct{ own, set time.Duration }{
		{950 * time.Millisecond, 980 * time.Millisecond},
		{500 * time.Millisecond, 990 * time.Millisecond}, // starved: others took the rest
		{920 * time.Millisecond, 930 * time.Millisecond},
		{0, 100 * time.Millisecond},
	} {
		r.cpu += busy.own
		r.set += busy.set
		k.sample(t0.Add(time.Duration(i+1)*time.Second), r, true)
	}
	u := k.use()
	if u.Intervals != 4 || u.BusyIntervals != 2 || u.SetBusyIntervals != 3 || u.PeakUtilisation != 0.95 || u.CPUs != "3" || u.Count != 1 ||
		u.WallS != 4 || u.CPUSeconds != 2.37 || u.SetCPUSeconds != 3 {
		t.Errorf("use %+v", u)
	}
	// The phase's last 300ms, all busy, count in the totals but are too
	// short to judge as an interval.
	r.cpu += 300 * time.Millisecond
	r.set += 300 * time.Millisecond
	k.sample(t0.Add(4300*time.Millisecond), r, true)
	u = k.use()
	if u.Intervals != 4 || u.BusyIntervals != 2 || u.WallS != 4.3 || u.CPUSeconds != 2.67 || u.SetCPUSeconds != 3.3 {
		t.Errorf("after a short last interval: %+v", u)
	}
	two := cpuTrack{set: cpuset.Of(0, 1)}
	two.sample(t0, reading{}, true)
	two.sample(t0.Add(time.Second), reading{cpu: 1900 * time.Millisecond, set: 1950 * time.Millisecond}, false)
	if u := two.use(); u.BusyIntervals != 1 || u.PeakUtilisation != 0.95 || u.SetCPUSeconds != 0 || u.SetBusyIntervals != 0 {
		t.Errorf("two CPUs, the set's time not read: %+v", u)
	}
}

// saturatedAbove gives the fake server's runs a saturation section: the
// side named saturates (every second busy) when the population is above
// at, nothing below.
func saturatedAbove(side string, at int) func(pop int) *reports.Saturation {
	return func(pop int) *reports.Saturation {
		idle := reports.CPUUse{CPUs: "0", Count: 1, CPUSeconds: 0.5, WallS: 3.5, Intervals: 3}
		busy := reports.CPUUse{CPUs: "0", Count: 1, CPUSeconds: 3.4, WallS: 3.5, Intervals: 3, BusyIntervals: 3, PeakUtilisation: 1}
		s := &reports.Saturation{Split: "bench 0, server 1 (of 0-1)", Pinned: true, Generator: idle}
		srv := idle
		srv.CPUs = "1"
		if pop > at {
			if side == reports.SideBench || side == reports.SideBoth {
				s.Generator = busy
			}
			if side == reports.SideServer || side == reports.SideBoth {
				srv = busy
				srv.CPUs = "1"
			}
		}
		s.Server = &srv
		return s
	}
}

// TestFindMaxKneeSide: at the knee of a search over synthetic steps (the
// fake server of known knee 37), the side whose runs saturated is named,
// in find_max, in each step and in the output.
func TestFindMaxKneeSide(t *testing.T) {
	for _, c := range []struct {
		side string
		at   int // saturated above this population
		want string
	}{
		{reports.SideBench, 30, reports.SideBench},
		{reports.SideServer, 37, reports.SideServer},
		{reports.SideBoth, 37, reports.SideBoth},
		{reports.SideBench, 100, reports.SideNeither}, // saturates only above the knee's step
	} {
		t.Run(fmt.Sprintf("%s above %d", c.side, c.at), func(t *testing.T) {
			fs := &fakeServer{knee: 37, saturation: saturatedAbove(c.side, c.at)}
			var out bytes.Buffer
			f, err := newFinder(kneeScenario(t), FindMaxOptions{Start: 10}, t.TempDir(), &out, fs.play)
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			fm := res.FindMax
			if fm.Failed != 38 || fm.KneeSaturated != c.want {
				t.Fatalf("failed %g, knee saturated %q; want 38, %q", fm.Failed, fm.KneeSaturated, c.want)
			}
			for _, st := range fm.Steps {
				want := reports.SideNeither
				if int(st.Load) > c.at {
					want = c.side
				}
				if st.Saturated != want {
					t.Errorf("step %g: saturated %q, want %q", st.Load, st.Saturated, want)
				}
			}
			if says := kneeSays(c.want); !strings.Contains(out.String(), "find-max: at the knee (customers.population = 38): "+says) {
				t.Errorf("the progress does not name the knee's side:\n%s", out.String())
			}
			var sum bytes.Buffer
			if err := Summary(&sum, res); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sum.String(), "at the knee (38): "+kneeSays(c.want)) || !strings.Contains(sum.String(), "(CPUs full: "+c.want+")") {
				t.Errorf("summary:\n%s", sum.String())
			}
		})
	}
}

// TestSummarySaturation: the summary prints each process's use of its
// CPUs and a WARNING line per verdict.
func TestSummarySaturation(t *testing.T) {
	res := &reports.Result{Valid: true, Saturation: saturatedAbove(reports.SideBench, 0)(1)}
	res.Saturation.Judge(res)
	var sum bytes.Buffer
	if err := Summary(&sum, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"cpus      bench 0, server 1 (of 0-1)\n",
		"  bench   0.97 of 1 CPU (0), busiest second 1.00, 3 of 3 seconds at 90% or more\n",
		"  server  0.14 of 1 CPU (1)",
		"WARNING: generator saturated: bench used 0.97 of 1 CPU (0)",
	} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

// TestRunBadCPUs: a CPU list bench may not use fails the run at once, as a
// setup error, before a server is built or started.
func TestRunBadCPUs(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), Options{Scenario: "smoke", CPUs: "1023", ServerBinary: "/nonexistent", OutDir: dir + "/out",
		Overrides: scenario.Overrides{}, Progress: io.Discard})
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "--cpus 1023") {
		t.Fatalf("Run: %v", err)
	}
	if _, serr := os.Stat(dir + "/out"); serr == nil {
		t.Error("a run that failed its setup left its directory")
	}
}
