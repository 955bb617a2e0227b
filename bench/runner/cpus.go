package runner

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/swarmdesk/swarmdesk/internal/cpuset"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

// placement is where bench and the embedded server run (issue 14, item
// 4): on disjoint CPU sets by default when there are two CPUs or more, so
// that each one's CPU is its own and bench's lag is not the server's load.
type placement struct {
	allowed cpuset.Set // the CPUs bench could run on before the run
	bench   cpuset.Set // bench's CPUs during the run
	server  cpuset.Set // the embedded server's; nil for a --target server
	want    bool       // place chose CPUs: pin pins bench to them
	pinned  bool       // bench pinned itself (and the server was placed)
	// split says where they ran, for the header and saturation.split:
	// "bench 0, server 1 (of 0-1)".
	split string
	// note says why they were not pinned, when they were not.
	note string

	procs int // bench's GOMAXPROCS before the run
}

// pinMu is held by the run that pinned this process: a process has one
// set of CPUs, so two runs in one process (tests) cannot each pin it.
var pinMu sync.Mutex

// place decides where bench and, when embedded, the server run, from
// opts.CPUs, opts.ServerCPUs and opts.NoPin, and checks the lists against
// the CPUs bench may run on. It pins nothing: pin does, once the
// embedded server is built (a build forked from a pinned bench would run
// on bench's CPUs only).
func place(opts Options, embedded bool) (*placement, error) {
	allowed, err := cpuset.Allowed()
	if err != nil {
		return nil, fmt.Errorf("%w: the CPUs bench may run on: %w", ErrSetup, err)
	}
	pl := &placement{allowed: allowed, bench: allowed}
	if embedded {
		pl.server = allowed
	}
	parse := func(flag, list string) (cpuset.Set, error) {
		s, err := cpuset.Parse(list)
		if err != nil {
			return nil, fmt.Errorf("%w: --%s: %w", ErrSetup, flag, err)
		}
		if out := s.Minus(allowed); len(out) > 0 {
			return nil, fmt.Errorf("%w: --%s %s: CPU %s is not among the CPUs bench may run on (%s)", ErrSetup, flag, s, out, allowed)
		}
		return s, nil
	}
	var bench, server cpuset.Set
	if opts.CPUs != "" {
		if bench, err = parse("cpus", opts.CPUs); err != nil {
			return nil, err
		}
	}
	if opts.ServerCPUs != "" {
		if !embedded {
			return nil, fmt.Errorf("%w: --server-cpus places the embedded server; the server at --target is not bench's to place (--cpus places bench)", ErrSetup)
		}
		if server, err = parse("server-cpus", opts.ServerCPUs); err != nil {
			return nil, err
		}
	}
	if opts.NoPin && (bench != nil || server != nil) {
		return nil, fmt.Errorf("%w: --no-pin leaves bench and the server where they are allowed; --cpus and --server-cpus pin them: give one or the other", ErrSetup)
	}
	switch {
	case opts.NoPin:
		pl.note = "not pinned (--no-pin)"
		return pl, nil
	case !embedded && bench == nil:
		pl.note = "not pinned"
		return pl, nil
	case !embedded:
	case bench != nil && server == nil:
		if server = allowed.Minus(bench); len(server) == 0 {
			return nil, fmt.Errorf("%w: --cpus %s leaves no CPU of %s to the server: give --server-cpus too", ErrSetup, bench, allowed)
		}
	case bench == nil && server != nil:
		if bench = allowed.Minus(server); len(bench) == 0 {
			return nil, fmt.Errorf("%w: --server-cpus %s leaves no CPU of %s to bench: give --cpus too", ErrSetup, server, allowed)
		}
	case bench == nil && server == nil:
		var ok bool
		if bench, server, ok = cpuset.Split(allowed, cpuset.Cores(allowed)); !ok {
			pl.note = fmt.Sprintf("not split: one CPU (%s)", allowed)
			return pl, nil
		}
	}
	pl.bench, pl.want = bench, true
	if embedded {
		pl.server = server
	}
	return pl, nil
}

// pin pins bench to its CPUs (every thread of it) and sets its GOMAXPROCS
// to their number, when place chose CPUs. unpin undoes it.
func (pl *placement) pin() error {
	if !pl.want || pl.pinned {
		return nil
	}
	if !pinMu.TryLock() {
		pl.want, pl.bench, pl.note = false, pl.allowed, "not pinned: another run in this process holds its CPUs"
		if pl.server != nil {
			pl.server = pl.allowed
		}
		return nil
	}
	procs := runtime.GOMAXPROCS(0)
	if err := cpuset.Pin(os.Getpid(), pl.bench); err != nil {
		_ = cpuset.Pin(os.Getpid(), pl.allowed)
		pinMu.Unlock()
		return fmt.Errorf("%w: pinning bench to CPUs %s: %w", ErrSetup, pl.bench, err)
	}
	runtime.GOMAXPROCS(len(pl.bench))
	pl.procs, pl.pinned = procs, true
	return nil
}

// serverCPUs is where the embedded server is to start: its CPUs when
// bench pinned, nil (bench's own, inherited) otherwise.
func (pl *placement) serverCPUs() cpuset.Set {
	if !pl.pinned {
		return nil
	}
	return pl.server
}

// unpin puts bench back on the CPUs it had, with its GOMAXPROCS, after a
// pinned run.
func (pl *placement) unpin() {
	if !pl.pinned {
		return
	}
	// Best effort: a thread that cannot be set back keeps the run's CPUs.
	_ = cpuset.Pin(os.Getpid(), pl.allowed)
	runtime.GOMAXPROCS(pl.procs)
	pl.pinned = false
	pinMu.Unlock()
}

// loops is the number of swarm event loops: opts.Loops when given,
// otherwise one per CPU of bench's (runtime.NumCPU was read before the
// pin, so swarm's own default would not follow it).
func (pl *placement) loops(opts Options) int {
	if opts.Loops > 0 {
		return opts.Loops
	}
	return len(pl.bench)
}

// describe sets pl.split and returns the header line: "cpus: bench 0,
// server 1 (of 0-1); GOMAXPROCS bench 1 (1 swarm loop), server 1".
// srvProcs is the GOMAXPROCS the server said (0: unknown).
func (pl *placement) describe(opts Options, srvProcs int) string {
	switch {
	case pl.server == nil && pl.pinned:
		pl.split = fmt.Sprintf("bench %s (of %s)", pl.bench, pl.allowed)
	case pl.server == nil:
		pl.split = fmt.Sprintf("bench %s, %s", pl.bench, pl.note)
	case pl.pinned:
		pl.split = fmt.Sprintf("bench %s, server %s (of %s)", pl.bench, pl.server, pl.allowed)
		if shared := pl.bench.And(pl.server); len(shared) > 0 {
			pl.split += fmt.Sprintf(", sharing %s", shared)
		}
	default:
		pl.split = fmt.Sprintf("bench and server share %s, %s", pl.allowed, pl.note)
	}
	line := "cpus: " + pl.split
	procs := fmt.Sprintf("bench %d (%s)", runtime.GOMAXPROCS(0), plural(pl.loops(opts), "swarm loop"))
	if srvProcs > 0 {
		procs += fmt.Sprintf(", server %d", srvProcs)
	}
	line += "; GOMAXPROCS " + procs
	if pl.server == nil {
		line += "; the server at --target is not bench's to place"
	}
	return line
}

// cpuSampler measures each process's use of its CPUs over the load phase,
// once a second (reports.Saturation).
type cpuSampler struct {
	pl        *placement
	gen, srv  cpuTrack
	shared    bool // the sets overlap: track the two together too
	both      cpuTrack
	union     cpuset.Set
	srvSample func() (time.Duration, int64, error)
}

// minInterval is the shortest interval judged on its own: /proc counts CPU
// time in ticks of 10ms, 2% of half a second.
const minInterval = 500 * time.Millisecond

// cpuTrack follows one process (or two together) from sample to sample:
// its own CPU time, and the time its set of CPUs was busy with anything.
type cpuTrack struct {
	set             cpuset.Set
	t0, last        time.Time
	first, prev     reading
	end             time.Time // the last sample, kept even when
	endAt           reading   // its interval was too short to judge
	started         bool
	noSet           bool // the set's busy time could not be read
	intervals, busy int
	setBusy         int
	peak            float64
}

// reading is one sample: the process's CPU time, the set's busy time.
type reading struct{ cpu, set time.Duration }

// sample takes the reading r at now; setOK is false when the set's busy
// time could not be read (r.set is then meaningless).
func (k *cpuTrack) sample(now time.Time, r reading, setOK bool) {
	k.noSet = k.noSet || !setOK
	if !k.started {
		k.started, k.t0, k.first, k.last, k.prev = true, now, r, now, r
	}
	k.end, k.endAt = now, r
	dt := now.Sub(k.last)
	if dt < minInterval {
		// Too short to judge (the phase's last moments): its CPU time
		// counts in the totals, which run from the first sample.
		return
	}
	if n := len(k.set); n > 0 {
		capacity := dt.Seconds() * float64(n)
		u := (r.cpu - k.prev.cpu).Seconds() / capacity
		k.intervals++
		if u >= reports.SaturatedUtilisation {
			k.busy++
		}
		k.peak = max(k.peak, u)
		if (r.set-k.prev.set).Seconds()/capacity >= reports.SaturatedUtilisation {
			k.setBusy++
		}
	}
	k.last, k.prev = now, r
}

// use is what the track measured, judged later by reports.Saturation.
func (k *cpuTrack) use() reports.CPUUse {
	u := reports.CPUUse{
		CPUs: k.set.String(), Count: len(k.set),
		CPUSeconds: (k.endAt.cpu - k.first.cpu).Seconds(), WallS: k.end.Sub(k.t0).Seconds(),
		Intervals: k.intervals, BusyIntervals: k.busy, PeakUtilisation: k.peak,
	}
	if !k.noSet {
		u.SetCPUSeconds, u.SetBusyIntervals = (k.endAt.set - k.first.set).Seconds(), k.setBusy
	}
	return u
}

// newCPUSampler samples bench and, when its CPUs are known (embedded), the
// server through srvSample.
func newCPUSampler(pl *placement, srvSample func() (time.Duration, int64, error)) *cpuSampler {
	c := &cpuSampler{pl: pl, srvSample: srvSample}
	c.gen.set = pl.bench
	if pl.server != nil {
		c.srv.set = pl.server
		if len(pl.bench.And(pl.server)) > 0 {
			c.shared, c.union = true, pl.bench.Or(pl.server)
			c.both.set = c.union
		}
	}
	return c
}

// sample reads both processes' CPU time now, and the time their sets
// were busy; srvCPU and srvErr are the server's reading when the caller
// has just taken it.
func (c *cpuSampler) sample(srvCPU time.Duration, srvErr error) {
	now := time.Now()
	gen, _, gerr := child.ProcUsage(os.Getpid())
	if gerr == nil {
		set, err := cpuset.Busy(c.gen.set)
		c.gen.sample(now, reading{gen, set}, err == nil)
	}
	if c.pl.server == nil || srvErr != nil {
		return
	}
	set, err := cpuset.Busy(c.srv.set)
	c.srv.sample(now, reading{srvCPU, set}, err == nil)
	if c.shared && gerr == nil {
		set, err := cpuset.Busy(c.both.set)
		c.both.sample(now, reading{gen + srvCPU, set}, err == nil)
	}
}

// sampleAll reads the server too.
func (c *cpuSampler) sampleAll() {
	var (
		cpu time.Duration
		err = errors.New("server not sampled")
	)
	if c.pl.server != nil {
		cpu, _, err = c.srvSample()
	}
	c.sample(cpu, err)
}

// saturation is the section of the result, judged against res.
func (c *cpuSampler) saturation(res *reports.Result) *reports.Saturation {
	s := &reports.Saturation{Split: c.pl.split, Pinned: c.pl.pinned, Generator: c.gen.use()}
	if c.pl.server != nil && c.srv.started {
		u := c.srv.use()
		s.Server = &u
		if c.shared && c.both.started {
			b := c.both.use()
			s.Shared = &b
		}
	}
	s.Judge(res)
	return s
}

// kneeSays says what the side whose CPUs were full at the knee means.
// Full is saturated by the process itself or starved by other processes;
// the knee step's saturation verdicts say which.
func kneeSays(side string) string {
	switch side {
	case reports.SideBench:
		return "bench's CPUs were full (the generator saturated or starved): the knee may be bench's, not the server's"
	case reports.SideServer:
		return "the server's CPUs were full (the server saturated or starved)"
	case reports.SideBoth:
		return "both bench's CPUs and the server's were full: the knee may be bench's, not the server's"
	case reports.SideShared:
		return "bench and the server together saturated the CPUs they share (place them apart: --cpus, --server-cpus)"
	case reports.SideNeither:
		return "neither bench's CPUs nor the server's were full: the limit is not CPU"
	case reports.SideUnknown:
		return "bench's CPUs were not full; the server's are not known"
	}
	return side
}
