// Package runner is bench run: it plays a scenario on real connections
// against a server (by default refserver, started as a child process so that
// its CPU and memory are its own), measures it with bench/record and returns
// the result document, with the scenario's objectives evaluated.
//
// It wires the parts that already exist: bench/scenario says what to play,
// bench/behavior plays each customer and agent, bench/swarm runs them on gnet
// event loops over TCP, bench/record measures, and refserver/child runs the
// embedded server. It imports no server transport (DESIGN.md §3).
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/bench/probe"
	"github.com/swarmdesk/swarmdesk/bench/progress"
	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Errors classifying why Run failed, matched with errors.Is; bench maps
// both to exit status 2 (DESIGN.md §4).
var (
	// ErrScenario means the scenario could not be loaded, or is invalid
	// as given or after the overrides. The wrapped error names the file,
	// line and field.
	ErrScenario = errors.New("bad scenario")
	// ErrSetup means the run could not be set up: the embedded server
	// could not be built or started, the output directory could not be
	// written, the runtime could not start.
	ErrSetup = errors.New("setup failed")
)

// DefaultScenario is the scenario played when Options.Scenario is empty.
const DefaultScenario = "smoke"

// Options configure a run.
type Options struct {
	// Scenario is an embedded scenario's name or a scenario file's path.
	// Default "smoke".
	Scenario string
	// Target is the server's address: host:port or tcp://host:port for
	// long connections, http://host:port for the protocol's HTTP binding
	// (polling). "" starts refserver as a child process on loopback and
	// stops it after the run.
	Target string
	// Transport is the embedded server's design (refserver --transport):
	// gnet (the default), netstd or poll. bench speaks to poll over HTTP.
	// With Target, the target's scheme says how to speak to it instead.
	Transport string
	// PollInterval, for an HTTP target or the poll transport, makes the
	// clients short-poll once per interval; 0 long-polls (each poll held
	// by the server until a frame or PollWait).
	PollInterval time.Duration
	// PollWait is how long a long poll may be held; 0 means swarm's
	// default.
	PollWait time.Duration
	// Overrides change the scenario's common fields (flags over files).
	Overrides scenario.Overrides
	// OutDir is where result.json and the .hlog files go. Default
	// results/<scenario>-<UTC timestamp>.
	OutDir string
	// Progress receives a progress line every second and notices (the run
	// being capped, the server being built); nil discards them.
	Progress io.Writer
	// ServerBinary is a refserver binary to run as the embedded server
	// instead of building one; used only without Target.
	ServerBinary string
	// LateBound is how late, in wall time, a scheduled action may start
	// before it counts as late; more than 1% late makes the run invalid.
	// 0 means record.DefaultConfig's. Lateness below the bound is not hidden:
	// latencies are measured from the intended time, so it is in the
	// corrected histograms either way.
	LateBound time.Duration
	// Loops is the number of event loops; 0 means one per CPU bench runs
	// on (after CPUs are placed).
	Loops int
	// CPUs is the CPU list (Linux cpulist syntax, "0-3,6") bench is
	// pinned to; ServerCPUs the embedded server's. Empty: with the
	// embedded server and two CPUs or more, bench takes the lower half of
	// the CPUs it may run on (rounded down, in whole SMT cores where they
	// fit: cpuset.Split) and the server the rest; one of the two given,
	// the other takes the rest. With Target only CPUs applies, and bench
	// is not pinned without it. Every list must be within the CPUs bench
	// may run on.
	CPUs, ServerCPUs string
	// NoPin leaves bench and the embedded server on every CPU bench may
	// run on, as before CPU placement; not with CPUs or ServerCPUs.
	NoPin bool
	// Grace bounds how long, after the scenario's wall duration, the run
	// waits for sessions still in progress. Default 30s.
	Grace time.Duration
	// MetricsAddr, when set, is where the run serves its live figures in
	// the Prometheus format (/metrics), for watching a long run.
	MetricsAddr string
	// AdminURL is the target server's admin base URL (http://host:port),
	// where a scenario's broadcasts are posted (POST /admin/broadcast).
	// Without it, a Target run skips them; an embedded server's is known.
	AdminURL string
	// ServerMetrics is the URL of the target server's Prometheus page
	// (refserver's admin /metrics); with Target, the server's CPU and
	// memory are sampled from it. An embedded server is sampled from /proc.
	ServerMetrics string
	// FindMax, when not nil, makes Run search for the highest load that
	// meets every objective instead of playing the scenario once.
	FindMax *FindMaxOptions
	// Durability is the embedded server's --durability: none (the
	// default), batch or sync. With batch or sync the server stores in
	// OutDir/data (emptied first).
	Durability string
	// Chaos, when not nil, kills the embedded server on a schedule and
	// restarts it on the same data directory and address (a crash test).
	// It needs the embedded server (no Target) and is not combined with
	// FindMax; the durability defaults to sync.
	Chaos *Chaos
}

// ResultFile is the name of the result document in Options.OutDir.
const ResultFile = "result.json"

// Passed reports whether res is a run bench exits 0 for: valid, with every
// objective met.
func Passed(res *reports.Result) bool {
	if res == nil || !res.Valid {
		return false
	}
	for _, o := range res.Objectives {
		if !o.Pass {
			return false
		}
	}
	return true
}

// Run plays the scenario opts names and returns its result, written to
// opts.OutDir. A run that fails its objectives or is invalid is not an error:
// Passed tells. Errors wrap ErrScenario or ErrSetup. Cancelling ctx ends the
// run early; the result is then marked invalid.
func Run(ctx context.Context, opts Options) (res *reports.Result, err error) {
	defer tuneGC()()
	out := io.Writer(lineFor(opts.Progress))
	name := opts.Scenario
	if name == "" {
		name = DefaultScenario
	}
	link, err := opts.link()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if opts.Durability != "" && opts.Target != "" {
		return nil, fmt.Errorf("%w: --durability sets the embedded server's store; the server at --target is not bench's to configure", ErrSetup)
	}
	if opts.Chaos != nil {
		switch {
		case opts.Target != "":
			return nil, fmt.Errorf("%w: --chaos %s kills and restarts the embedded server; bench cannot restart a server it did not start (run without --target)", ErrChaos, opts.Chaos)
		case opts.FindMax != nil:
			return nil, fmt.Errorf("%w: --chaos and --find-max do not go together: the search compares loads on a healthy server", ErrChaos)
		case opts.Chaos.Fault != FaultKillServer || opts.Chaos.Every <= 0:
			return nil, fmt.Errorf("%w: %s: want %s:EVERY with EVERY > 0", ErrChaos, opts.Chaos, FaultKillServer)
		}
		if opts.Durability == "" {
			opts.Durability = "sync"
		}
	}
	if opts.Durability == "" {
		opts.Durability = "none"
	}
	if err := checkDurability(opts.Durability); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	sc, err := scenario.LoadWith(name, opts.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	if len(sc.Storms) > 0 {
		fmt.Fprintf(out, "note: storms are not played yet (only each customer's own kill steps); %d storm(s) skipped\n", len(sc.Storms))
	}
	corpus, err := sc.Corpus()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrScenario, name, err)
	}
	if opts.FindMax == nil {
		if err := fitLimit(sc, link.fdsPerLink(), out); err != nil {
			return nil, err
		}
	}
	pl, err := place(opts, link.addr == "")
	if err != nil {
		return nil, err
	}

	if link.addr != "" {
		// A target that is not a protocol server ends the run here, in
		// seconds, with what is there instead: not after the whole
		// scenario played on no data.
		hello := &wire.Hello{Role: wire.RoleCustomer, Tenant: sc.CustomerTenant(), User: fmt.Sprintf("bench-probe-%d", os.Getpid()), Device: "probe"}
		if _, err := probe.Check(ctx, probe.Target{Addr: link.addr, HTTP: link.poll != nil}, hello); err != nil {
			return nil, fmt.Errorf("%w: --target %s: %w", ErrSetup, opts.Target, err)
		}
	}

	dir := opts.OutDir
	if dir == "" {
		dir = filepath.Join("results", sc.Name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
		// A run that fails before its result is written leaves no
		// half-written directory behind (a report of results/* would
		// trip on it).
		defer func() {
			if err != nil {
				_ = os.RemoveAll(dir)
			}
		}()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: output directory: %w", ErrSetup, err)
	}

	addr, target := link.addr, opts.Target
	var srv *child.Process
	if addr == "" {
		bin := opts.ServerBinary
		if bin == "" {
			var err error
			if bin, err = buildServer(out); err != nil {
				return nil, err
			}
		}
		var args []string
		if len(sc.Tenants) > 0 && sc.Tenants[0].File != "" {
			args = append(args, "--config", sc.Path(sc.Tenants[0].File))
		}
		if opts.Durability != "none" {
			data := filepath.Join(dir, "data")
			if err := os.RemoveAll(data); err != nil {
				return nil, fmt.Errorf("%w: emptying the server's data directory: %w", ErrSetup, err)
			}
			args = append(args, "--data-dir", data, "--durability", opts.Durability)
		}
		args = append(args, "--transport", link.transport)
		if err := pl.pin(); err != nil {
			return nil, err
		}
		defer pl.unpin()
		srv, err = child.StartOn(pl.serverCPUs(), bin, args...)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		defer func() { _ = srv.Stop() }()
		addr = srv.Addr
		target = fmt.Sprintf("embedded refserver (%s) %s", link.transport, addr)
		fmt.Fprintf(out, "started embedded refserver (pid %d, transport %s) on %s, durability %s\n", srv.Pid(), link.transport, addr, opts.Durability)
		if opts.Chaos != nil {
			fmt.Fprintf(out, "chaos: %s: SIGKILL every %v, restarted on the same address and data directory\n", opts.Chaos.Fault, opts.Chaos.Every)
			if opts.Durability == "none" {
				fmt.Fprintf(out, "note: --durability none: a killed server forgets everything; expect lost and unacked messages\n")
			}
		}
	}
	if err := pl.pin(); err != nil {
		return nil, err
	}
	defer pl.unpin()
	srvProcs := 0
	if srv != nil {
		srvProcs = srv.GOMAXPROCS()
	}
	fmt.Fprintln(out, pl.describe(opts, srvProcs))
	if opts.FindMax != nil {
		res, err = findMax(ctx, sc, corpus, opts, dir, addr, target, srv, pl, out)
	} else {
		res, err = play(ctx, sc, corpus, opts, dir, addr, target, srv, pl, "", out)
	}
	if err == nil {
		fmt.Fprintf(out, "results in %s (result.json and .hlog interval logs; bench report %s -o report.html)\n", dir, dir)
	}
	return res, err
}

// fitLimit sizes the run to the file-descriptor limit, raising the soft limit
// first and scaling the arrivals down if it is still short, and says so.
func fitLimit(sc *scenario.Scenario, fdsPerLink int, out io.Writer) error {
	need := sc.PeakConnections() * fdsPerLink
	limit, err := swarm.Limit()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if need <= limit {
		return nil
	}
	if _, err := swarm.RaiseLimit(); err == nil {
		if limit, err = swarm.Limit(); err != nil {
			return fmt.Errorf("%w: %w", ErrSetup, err)
		}
	}
	if need <= limit {
		fmt.Fprintf(out, "raised the open-file limit: %d connections allowed, %d needed at the peak\n", limit, need)
		return nil
	}
	sessions := sc.Schedule().Sessions()
	n := int(math.Floor(sessions * float64(limit-fdsPerLink*sc.AgentCount()-1) / float64(need)))
	if n < 1 {
		return fmt.Errorf("%w: the open-file limit allows %d connections; the scenario needs %d at its peak", ErrSetup, limit, need)
	}
	if err := sc.Apply(scenario.Overrides{Customers: &n}); err != nil {
		return fmt.Errorf("%w: capping the run: %w", ErrScenario, err)
	}
	fmt.Fprintf(out, "capped the run to the open-file limit (RLIMIT_NOFILE): %d connections allowed, %d needed at the peak; about %d customers instead of %.0f\n",
		limit, need, n, sessions)
	return nil
}

// buildServer compiles refserver into the user's cache directory; go build's
// own cache makes a rebuild of an unchanged tree quick.
func buildServer(out io.Writer) (string, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("%w: the embedded refserver is built with the go command, which is not on PATH: install Go, or run a server and pass --target host:port", ErrSetup)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "swarmdesk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: cache directory: %w", ErrSetup, err)
	}
	fmt.Fprintf(out, "building refserver into %s ...\n", dir)
	bin, err := child.Build(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %w (the embedded refserver is built from this module's source: run bench from the repository, or pass --target)", ErrSetup, err)
	}
	return bin, nil
}

// play runs the scenario against addr and fills the result, written to
// dir. User ids begin with prefix.
//
// pl is where bench and the server run: bench's swarm loops follow its
// CPUs, and each process's use of its CPUs is sampled once a second over
// the load phase into the result's saturation section.
func play(ctx context.Context, sc *scenario.Scenario, corpus *scenario.Corpus, opts Options, dir, addr, target string, srv *child.Process, pl *placement, prefix string, out io.Writer) (*reports.Result, error) {
	line := lineFor(out) // safe for the broadcaster's goroutine too
	out = line
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: output directory: %w", ErrSetup, err)
	}
	genCPU0, genRSS0, _ := child.ProcUsage(os.Getpid())
	usage := serverUsage(srv, opts.ServerMetrics)
	srvCPU0, _, err := usage()
	if err != nil && srv == nil && opts.ServerMetrics != "" {
		return nil, fmt.Errorf("%w: --server-metrics: %w", ErrSetup, err)
	}

	start := time.Now().UTC()
	link, err := opts.link()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	rt, err := swarm.New(swarm.Options{Addr: addr, Loops: pl.loops(opts), Timescale: sc.Timescale, Start: start, Poll: link.poll})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	var closeOnce sync.Once
	closeRT := func() { closeOnce.Do(rt.Close) }
	defer closeRT()
	cfg := record.DefaultConfig()
	cfg.Dir = dir
	if opts.LateBound > 0 {
		cfg.LateBound = opts.LateBound
	}
	// One recording interval per wall second: the recorder's clock is
	// scenario time.
	cfg.Interval = time.Duration(float64(time.Second) * sc.Timescale)
	rec, err := record.New(cfg, start)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	recClosed := false
	defer func() {
		if !recClosed {
			_ = rec.Close(rt.Now())
		}
	}()
	var lv *live
	if opts.MetricsAddr != "" {
		if lv, err = startLive(opts.MetricsAddr, rt, rec); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		defer func() { _ = lv.close() }()
		fmt.Fprintf(out, "serving live figures on http://%s/metrics\n", opts.MetricsAddr)
	}

	loops := rt.Loops()
	arr := make([]*behavior.Arrivals, len(loops))
	for i, lp := range loops {
		env := &behavior.Env{
			Sched: lp, Dial: lp, Rec: rec.NewShard(), Ledger: rec.Ledger(),
			Rand: rand.New(rand.NewPCG(sc.Seed, uint64(10+i))), Scenario: sc, Corpus: corpus,
			Tenant: sc.CustomerTenant(), Timescale: sc.Timescale,
			Prefix: prefix,
		}
		arr[i] = &behavior.Arrivals{Env: env}
	}
	lanes := make([]behavior.Lane, len(arr))
	for i, lp := range rt.Loops() {
		lanes[i] = behavior.Lane{Arrivals: arr[i], Do: lp.Do}
	}
	agents, total := behavior.Populate(sc, start, lanes)
	bctx, stopBroadcasts := context.WithCancel(ctx)
	var bc *broadcaster
	if sc.Broadcast.Enabled() {
		adminURL := opts.AdminURL
		if srv != nil {
			adminURL = srv.AdminURL
		}
		if adminURL == "" {
			fmt.Fprintf(out, "note: the scenario broadcasts, but the server's admin endpoint is not known (--admin URL): broadcasts skipped\n")
		} else {
			tenant := sc.Broadcast.Tenant
			if tenant == "" {
				tenant = sc.CustomerTenant()
			}
			bc = &broadcaster{url: strings.TrimSuffix(adminURL, "/"), tenant: tenant, kind: sc.Broadcast.Kind, sc: sc, rt: rt,
				rec: rec.NewShard(), start: start, out: out, client: &http.Client{Timeout: 10 * time.Second}}
			bc.wg.Add(1)
			go bc.run(bctx, broadcastTimes(sc, rand.New(rand.NewPCG(sc.Seed, 4))))
		}
	}
	stopBC := func() {
		stopBroadcasts()
		if bc != nil {
			bc.wg.Wait()
		}
	}
	defer stopBC()
	var chaos *chaosRun
	if opts.Chaos != nil && srv != nil {
		chaos = startChaos(*opts.Chaos, sc.WallDuration(), start, srv, rec, rt, out)
		defer chaos.finish()
	}
	sched := sc.Schedule()
	fmt.Fprintf(out, "playing %s: %d agents, %d customers over %v of scenario time at %gx (%v wall), against %s\n",
		sc.Name, agents, total, time.Duration(sc.Duration), sc.Timescale, sc.WallDuration().Round(time.Millisecond), target)

	wallStart := time.Now()
	cpus := newCPUSampler(pl, usage)
	cpus.sampleAll()
	grace := opts.Grace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	deadline := wallStart.Add(sc.WallDuration() + grace)
	var (
		peakSrvRSS, peakOpen  int64
		interrupted, timedOut bool
		arrived, done         int
		settled               bool
	)
	count := func() {
		arrived, done, settled = 0, 0, true
		for i, lp := range loops {
			lp.Do(func() {
				s, f := arr[i].Counts()
				arrived += s
				done += f
				settled = settled && arr[i].Settled()
			})
		}
		lv.counts(arrived, done)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			interrupted = true
			break loop
		case <-tick.C:
			if _, err := rec.Tick(rt.Now()); err != nil {
				return nil, fmt.Errorf("%w: recording: %w", ErrSetup, err)
			}
			count()
			st := rt.Stats()
			peakOpen = max(peakOpen, st.Open)
			scpu, rss, serr := usage()
			if serr == nil {
				peakSrvRSS = max(peakSrvRSS, rss)
			}
			cpus.sample(scpu, serr)
			line.Status(status(time.Since(wallStart), sc.WallDuration(), sc.Timescale, sched, rt.Now().Sub(start), arrived, done, total, st, rec))
		case <-poll.C:
			count()
			if settled {
				break loop
			}
			if time.Now().After(deadline) {
				timedOut = true
				break loop
			}
		}
	}
	elapsed := time.Since(wallStart)
	cpus.sampleAll()
	line.Done(status(elapsed, sc.WallDuration(), sc.Timescale, sched, rt.Now().Sub(start), arrived, done, total, rt.Stats(), rec))
	var (
		kills []reports.ChaosKill
		pids  []int
	)
	if chaos != nil {
		kills, pids = chaos.finish()
	}
	var lag time.Duration
	for _, lp := range loops {
		lag = max(lag, lp.MaxTimerLag())
	}
	st := rt.Stats()
	peakOpen = max(peakOpen, st.Open)
	end, wallEnd := rt.Now(), time.Now()
	stopBC()
	closeRT()
	recClosed = true
	if err := rec.Close(end); err != nil {
		return nil, fmt.Errorf("%w: recording: %w", ErrSetup, err)
	}

	file := sc.File()
	if file == "" {
		file = "embedded:" + sc.Name
	}
	res, err := rec.Result(reports.Run{
		Tool: "swarmdesk bench", ToolVersion: version(), Scenario: sc.Name, ScenarioFile: file,
		Seed: sc.Seed, Shard: reports.ShardIndex{Index: 0, Count: 1}, Target: target, Transport: link.describe(),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: result: %w", ErrSetup, err)
	}
	// The recorder's clock is scenario time; the document's end is the
	// wall clock's.
	res.End = wallEnd.UTC()
	res.DurationS = res.End.Sub(res.Start).Seconds()
	if interrupted {
		res.Invalidate(fmt.Sprintf("interrupted after %v: %v", elapsed.Round(time.Millisecond), context.Cause(ctx)))
	}
	if timedOut {
		res.Invalidate(fmt.Sprintf("%d customers arrived (%d planned) and %d finished their script within %v of the scenario's end", arrived, total, done, grace))
	}

	genCPU, _, _ := child.ProcUsage(os.Getpid())
	genPeak := peakRSSSelf(genRSS0)
	res.Generator = reports.Resources{
		Source: "self", CPUSeconds: (genCPU - genCPU0).Seconds(), PeakRSSBytes: genPeak, Connections: peakOpen,
	}
	if peakOpen > 0 && genPeak > genRSS0 {
		res.Generator.BytesPerConnection = float64(genPeak-genRSS0) / float64(peakOpen)
	}
	switch {
	case srv != nil && len(pids) > 1:
		res.Server.Source = fmt.Sprintf("pids %s (%d incarnations: cpu summed, peak rss the largest)", joinInts(pids), len(pids))
	case srv != nil:
		res.Server.Source = fmt.Sprintf("pid %d", srv.Pid())
	case opts.ServerMetrics != "":
		res.Server.Source = opts.ServerMetrics
	default:
		res.Server.Source = "not sampled: " + addr + " (give --server-metrics)"
	}
	if cpu, rss, err := usage(); err == nil {
		res.Server.CPUSeconds = (cpu - srvCPU0).Seconds()
		res.Server.PeakRSSBytes = max(peakSrvRSS, rss)
	} else if srv != nil || opts.ServerMetrics != "" {
		res.Server.Source += ": last sample failed: " + err.Error()
	}
	if chaos != nil {
		// The incarnations killed are gone from /proc: their peaks come
		// from their exit status.
		if peak, err := srv.PeakRSS(); err == nil {
			res.Server.PeakRSSBytes = max(res.Server.PeakRSSBytes, peak)
		}
		res.Chaos = chaosResult(*opts.Chaos, opts.Durability, kills)
		for i, k := range kills {
			if k.Error != "" {
				res.Invalidate(fmt.Sprintf("chaos: the server could not be restarted after kill %d: %s", i+1, k.Error))
			}
		}
	}
	res.Saturation = cpus.saturation(res)
	res.Objectives = Evaluate(sc, res)
	if lag > 0 {
		fmt.Fprintf(out, "done in %v; max timer lag %v\n", elapsed.Round(time.Millisecond), lag.Round(time.Microsecond))
	}
	if err := reports.WriteFile(filepath.Join(dir, ResultFile), res); err != nil {
		return res, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return res, nil
}

// joinInts joins numbers with commas.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// lineFor returns w as a progress line (w itself when it is one): drawn in
// place on a terminal, plain lines to a pipe; nil discards.
func lineFor(w io.Writer) *progress.Line {
	if l, ok := w.(*progress.Line); ok {
		return l
	}
	if w == nil {
		w = io.Discard
	}
	return progress.New(w)
}

// serverUsage returns how the server's CPU time and resident memory are
// sampled: from /proc for an embedded child, from its Prometheus page with
// a metrics URL, not at all otherwise (an error).
func serverUsage(srv *child.Process, metricsURL string) func() (time.Duration, int64, error) {
	switch {
	case srv != nil:
		return srv.Usage
	case metricsURL != "":
		client := &http.Client{Timeout: 2 * time.Second}
		// Not the run's context: the last sample is taken after an
		// interrupt too. The client's timeout bounds it.
		return func() (time.Duration, int64, error) {
			return scrapeProcess(context.Background(), client, metricsURL)
		}
	default:
		return func() (time.Duration, int64, error) { return 0, 0, errors.New("server not sampled") }
	}
}

// status is the run's progress line: wall time played of the scenario's
// and an estimate of what is left, the phase, sessions, connections,
// messages per wall second (the last interval's acknowledgements), the delivery
// p99 so far and the errors and accounting faults.
func status(elapsed, wall time.Duration, timescale float64, sched scenario.Schedule, off time.Duration, arrived, done, total int, st swarm.Stats, rec *record.Recorder) string {
	phase := "draining"
	if i := sched.Phase(off); i >= 0 {
		phase = sched.Segments[i].Name
	}
	eta := ""
	if elapsed < wall {
		eta = progress.Estimate(elapsed, float64(elapsed)/float64(wall))
	}
	p99 := "-"
	if s, err := rec.Summary(record.Delivery, false); err == nil && s.Count > 0 {
		p99 = reports.FormatMs(s.P99Ms)
	}
	last, errs := rec.Live()
	m := rec.Ledger().Counts()
	faults := ""
	if bad := m.Lost + m.Duplicated + m.Reordered; bad > 0 {
		faults = fmt.Sprintf("LOST/DUP/REORD %d", bad)
	}
	conns := fmt.Sprintf("conns %d", st.Open)
	if down, dropped := rec.Links(); dropped > 0 {
		conns += fmt.Sprintf(" (%d down)", down)
	}
	return progress.Join(
		progress.Duration(elapsed)+"/"+progress.Duration(wall), eta, phase,
		fmt.Sprintf("sessions %d/%d", arrived, total), conns,
		fmt.Sprintf("%.0f msg/s", last.MessagesPerS*timescale),
		"p99 "+p99, fmt.Sprintf("errors %d", errs), faults)
}

// peakRSSSelf returns this process's peak resident set (VmHWM), or floor if
// it cannot be read or is lower.
func peakRSSSelf(floor int64) int64 {
	peak, err := child.PeakRSS(os.Getpid())
	if err != nil {
		return floor
	}
	return max(floor, peak)
}

// version returns the module version or VCS revision of the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return bi.Main.Version
}
