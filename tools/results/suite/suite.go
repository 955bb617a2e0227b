// Package suite is the standard benchmark suite behind RESULTS.md, as
// data: the commands that produce the headline figures, how to run them,
// how to read their outputs into typed figures, and the template that
// turns the figures into RESULTS.md (results.md.tmpl, embedded).
//
// A run keeps every entry's raw outputs in a work directory, one
// directory per entry (the command line, stdout, stderr, result files),
// with a manifest (suite.json) saying which entries ran. Rendering reads
// those saved outputs alone, so RESULTS.md can be rebuilt, and its
// template changed, without running anything again.
//
// bench commands run through bin/bench, built once at the start of a run
// with `go build -o bin/bench ./bench`, so that every entry measures the
// same binary and none pays for compiling it.
package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/plan"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUsage marks a request the suite cannot carry out as asked: an
	// unknown entry, an entry without the entry it needs.
	ErrUsage = errors.New("suite: bad usage")
	// ErrSetup marks a failure to prepare the run: the work directory,
	// building bin/bench.
	ErrSetup = errors.New("suite: setup failed")
	// ErrEntry marks an entry that failed: it exited with an unexpected
	// status, timed out, or its outputs could not be read.
	ErrEntry = errors.New("suite: entry failed")
)

// BenchBinary is the bench binary every bench command runs, relative to
// the repository root, and BuildBench the command that builds it.
var (
	BenchBinary = filepath.Join("bin", "bench")
	BuildBench  = []string{"go", "build", "-o", BenchBinary, "./bench"}
)

// Entry is one entry of the suite: a command and how to read its outputs.
type Entry struct {
	// ID names the entry in --only, --skip and the work directory.
	ID string
	// Title is its section title in RESULTS.md.
	Title string
	// Cmd is exactly what runs, from the repository root, and what
	// RESULTS.md quotes. "{out}" stands for the entry's directory in the
	// work directory, "{rate}" for a value the entry computes before it
	// runs (half-load: half of find-max's best rate). Nil for the machine
	// entry, which the suite collects itself.
	Cmd []string
	// QuickCmd runs instead of Cmd under --quick; nil: Cmd.
	QuickCmd []string
	// Long marks an entry --quick skips unless --only names it.
	Long bool
	// Timeout bounds the entry's run.
	Timeout time.Duration
	// Needs is the entry whose outputs this one reads before it runs.
	Needs string
	// OKExit are exit statuses besides 0 that do not fail the entry: 1
	// for bench (an objective failed, which RESULTS.md reports) and for
	// go test runs whose tests RESULTS.md reports pass or fail.
	OKExit []int

	// vars computes Cmd's placeholders from the work directory; skip
	// says why the entry cannot run (rendered as "not run (skip)").
	vars func(work string) (vars map[string]string, skip string, err error)
	// parse reads the entry's outputs in dir into f.
	parse func(dir string, rec *Record, f *Figures) error
}

// Figures are the typed figures of every entry that ran; an entry that
// did not run leaves its field nil.
type Figures struct {
	// Machine is the machine entry's.
	Machine *Machine
	// Micro, Fanout and SimSpeed are the benchmark entries'.
	Micro, Fanout, SimSpeed Benchmarks
	// Bot is the bot entry's accuracy.
	Bot *BotAccuracy
	// Smoke, Connections and TenMillion are those entries' result
	// documents.
	Smoke, Connections, TenMillion *Run
	// Floor is the floor entry's bare client and server, beside
	// connections.
	Floor *Floor
	// FindMax is the find-max entry's search and steps.
	FindMax *FindMax
	// HalfLoad is the half-load entry's run.
	HalfLoad *HalfLoad
	// Faults are the faults entry's tests.
	Faults *Faults
	// Durability is the durability entry's throughput under each
	// durability; Crash the crash entry's test.
	Durability *Durability
	Crash      *Crash
	// Chaos is the chaos entry's run, the server killed under it; Soak
	// the soak entry's summary.
	Chaos *ChaosRun
	Soak  *Soak
	// Erlang is the erlang entry's grid.
	Erlang *Erlang
	// Plan is the plan entry's answer.
	Plan *Plan
}

// MachineID is the entry that describes the machine and dates the file;
// it always runs.
const MachineID = "machine"

// Standard returns the standard suite, in the order it runs.
func Standard() []Entry {
	bench := BenchBinary
	return []Entry{
		{
			ID: MachineID, Title: "Machine",
			parse: func(dir string, _ *Record, f *Figures) error {
				m := &Machine{}
				if err := readOutput(MachineID, dir, MachineFile, func(path string) error { return readJSON(path, m) }); err != nil {
					return err
				}
				f.Machine = m
				return nil
			},
		},
		{
			ID: "micro", Title: "Codec, routing, bot, fanout hub, desk core, recorder",
			Cmd: []string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "1s", "-count", "3",
				"./refserver/wire", "./refserver/routing", "./refserver/bot", "./refserver/fanout", "./refserver/desk", "./bench/record"},
			QuickCmd: []string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "100ms", "-count", "2",
				"./refserver/wire", "./refserver/routing", "./refserver/bot", "./refserver/fanout", "./refserver/desk", "./bench/record"},
			Timeout: 30 * time.Minute,
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Micro, err = readBenchmarks("micro", dir)
				return err
			},
		},
		{
			ID: "fanout", Title: "Fanout over real sockets, server measured from outside",
			Cmd:      []string{"go", "test", "-run", "^$", "-bench", "BroadcastProcess", "-benchmem", "-benchtime", "3s", "./refserver/transport/gnet"},
			QuickCmd: []string{"go", "test", "-run", "^$", "-bench", "BroadcastProcess", "-benchmem", "-benchtime", "1x", "./refserver/transport/gnet"},
			Timeout:  20 * time.Minute,
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Fanout, err = readBenchmarks("fanout", dir)
				return err
			},
		},
		{
			ID: "bot", Title: "Bot accuracy on the held-out questions",
			Cmd:     []string{"go", "test", "-count=1", "-run", "TestSampleHeldout", "-v", "./refserver/bot"},
			Timeout: 5 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) error {
				l, err := readTestLog("bot", dir)
				if err != nil {
					return err
				}
				if f.Bot, err = parseBot(l); err != nil {
					return errorf("bot", "%s: %w", filepath.Join(dir, StdoutFile), err)
				}
				return nil
			},
		},
		{
			ID: "smoke", Title: "The smoke scenario",
			Cmd:     []string{bench, "run", "smoke", "--out", "{out}"},
			Timeout: 10 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Smoke, err = readRun("smoke", dir, "")
				return err
			},
		},
		{
			ID: "connections", Title: "Idle customers held by one bench process",
			Cmd:      []string{bench, "run", "connections", "--out", "{out}"},
			QuickCmd: []string{bench, "run", "connections", "--customers", "1000", "--duration", "10s", "--out", "{out}"},
			Timeout:  15 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Connections, err = readRun("connections", dir, "")
				return err
			},
		},
		{
			ID: "floor", Title: "A bare client and server: the floor under connections",
			Cmd:      []string{"go", "run", "./tools/floor", "--json", "{out}/" + FloorFile},
			QuickCmd: []string{"go", "run", "./tools/floor", "--conns", "1000", "--json", "{out}/" + FloorFile},
			Timeout:  5 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Floor, err = readFloor("floor", dir)
				return err
			},
		},
		{
			ID: "find-max", Title: "find-max on the smoke scenario",
			Cmd:      []string{bench, "run", "smoke", "--find-max", "--find-max-start", "4", "--find-max-steps", "10", "--out", "{out}"},
			QuickCmd: []string{bench, "run", "smoke", "--find-max", "--find-max-steps", "2", "--out", "{out}"},
			Timeout:  45 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.FindMax, err = readFindMax("find-max", dir)
				return err
			},
		},
		{
			ID: "half-load", Title: "Delivery latency at half the maximum sustainable load",
			Cmd:     []string{bench, "run", "smoke", "--rate", "{rate}", "--out", "{out}"},
			Timeout: 10 * time.Minute, OKExit: []int{1}, Needs: "find-max",
			vars: func(work string) (map[string]string, string, error) {
				rate, skip, err := halfRate("half-load", filepath.Join(work, "find-max"))
				return map[string]string{"rate": rate}, skip, err
			},
			parse: func(dir string, rec *Record, f *Figures) error {
				run, err := readRun("half-load", dir, "")
				if err != nil {
					return err
				}
				rate, err := strconv.ParseFloat(rec.Vars["rate"], 64)
				if err != nil {
					return errorf("half-load", "rate %q in %s: %w", rec.Vars["rate"], ManifestFile, err)
				}
				f.HalfLoad = &HalfLoad{Run: *run, Rate: rate}
				return nil
			},
		},
		{
			ID: "durability", Title: "Durability: message throughput in memory, batch and sync (group commit)",
			Cmd:      []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkDurability$", "-benchtime", "100000x", "-count", "3", "./refserver/daemon"},
			QuickCmd: []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkDurability$", "-benchtime", "20000x", "-count", "1", "./refserver/daemon"},
			Timeout:  20 * time.Minute,
			parse: func(dir string, _ *Record, f *Figures) error {
				bs, err := readBenchmarks("durability", dir)
				if err != nil {
					return err
				}
				if f.Durability, err = parseDurability(bs); err != nil {
					return errorf("durability", "%s: %w", filepath.Join(dir, StdoutFile), err)
				}
				return nil
			},
		},
		{
			ID: "crash", Title: "Crash recovery: SIGKILL under load, restart on the same directory",
			Cmd:     []string{"go", "test", "-count=1", "-run", "^TestCrashRecovery$", "-v", "./refserver/daemon"},
			Timeout: 5 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) error {
				l, err := readTestLog("crash", dir)
				if err != nil {
					return err
				}
				if f.Crash, err = parseCrash(l); err != nil {
					return errorf("crash", "%s: %w", filepath.Join(dir, StdoutFile), err)
				}
				return nil
			},
		},
		{
			ID: "chaos", Title: "Crash test with the whole bench: the server killed under a scenario",
			Cmd:      []string{bench, "run", "chaos", "--chaos", "kill-server:10s", "--durability", "sync", "--duration", "20m", "--out", "{out}"},
			QuickCmd: []string{bench, "run", "chaos", "--chaos", "kill-server:5s", "--durability", "sync", "--duration", "5m", "--out", "{out}"},
			Timeout:  15 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Chaos, err = readChaos("chaos", dir)
				return err
			},
		},
		{
			ID: "soak", Title: "Soak: 10 minutes of steady load",
			Cmd:  []string{"go", "run", "./tools/soak", "--duration", "10m", "--out", "{out}"},
			Long: true, Timeout: 30 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.Soak, err = readSoak("soak", dir)
				return err
			},
		},
		{
			ID: "faults", Title: "Measuring honestly: bench against a faulty server",
			Cmd:     []string{"env", "SWARMDESK_LONG=1", "go", "test", "-count=1", "-run", "Stall|Faults|Healthy|Knee", "-v", "./bench/runner"},
			Timeout: 20 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) error {
				l, err := readTestLog("faults", dir)
				if err != nil {
					return err
				}
				if f.Faults, err = parseFaults(l); err != nil {
					return errorf("faults", "%s: %w", filepath.Join(dir, StdoutFile), err)
				}
				return nil
			},
		},
		{
			ID: "erlang", Title: "Agreement with queueing theory",
			Cmd:     []string{"env", "SWARMDESK_LONG=1", "go", "test", "-count=1", "-run", "TestErlang", "-v", "./bench/sim"},
			Timeout: 30 * time.Minute, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) error {
				l, err := readTestLog("erlang", dir)
				if err != nil {
					return err
				}
				if f.Erlang, err = parseErlang(l); err != nil {
					return errorf("erlang", "%s: %w", filepath.Join(dir, StdoutFile), err)
				}
				return nil
			},
		},
		{
			ID: "sim-speed", Title: "Simulator speed",
			Cmd:      []string{"go", "test", "-run", "^$", "-bench", "PeakHour|Smoke", "-benchtime", "3x", "./bench/sim"},
			QuickCmd: []string{"go", "test", "-run", "^$", "-bench", "PeakHour|Smoke", "-benchtime", "1x", "./bench/sim"},
			Timeout:  20 * time.Minute,
			parse: func(dir string, _ *Record, f *Figures) (err error) {
				f.SimSpeed, err = readBenchmarks("sim-speed", dir)
				return err
			},
		},
		{
			ID: "ten-million", Title: "Ten million sessions",
			Cmd:  []string{bench, "sim", "ten-million", "--out", "{out}"},
			Long: true, Timeout: 3 * time.Hour, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) error {
				run, err := readRun("ten-million", dir, "")
				if err != nil {
					return err
				}
				if run.Sim == nil {
					return errorf("ten-million", "%s has no sim section: not a bench sim result", filepath.Join(dir, ResultFile))
				}
				f.TenMillion = run
				return nil
			},
		},
		{
			ID: "plan", Title: "How many chats can one agent carry? bench plan on peak-hour",
			Cmd:  []string{bench, "plan", "peak-hour", "--out", "{out}/plan.json"},
			Long: true, Timeout: 2 * time.Hour, OKExit: []int{1},
			parse: func(dir string, _ *Record, f *Figures) error {
				p := &plan.Plan{}
				if err := readOutput("plan", dir, "plan.json", func(path string) error { return readJSON(path, p) }); err != nil {
					return err
				}
				if len(p.Levels) == 0 {
					return errorf("plan", "%s has no levels", filepath.Join(dir, "plan.json"))
				}
				f.Plan = &Plan{p}
				return nil
			},
		},
	}
}

// readOutput calls read with the path of entry id's output file name in
// dir, naming the entry and the file in any error.
func readOutput(id, dir, name string, read func(path string) error) error {
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return errorf(id, "missing output %s", path)
	}
	if err := read(path); err != nil {
		return errorf(id, "%s: %w", path, err)
	}
	return nil
}

// readBenchmarks parses entry id's stdout as benchmark output.
func readBenchmarks(id, dir string) (bs Benchmarks, err error) {
	err = readOutput(id, dir, StdoutFile, func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		bs, err = ParseBenchmarks(f, StdoutFile)
		return err
	})
	return bs, err
}

// readTestLog parses entry id's stdout as go test -v output.
func readTestLog(id, dir string) (l *TestLog, err error) {
	err = readOutput(id, dir, StdoutFile, func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		l, err = ParseTestLog(f)
		return err
	})
	return l, err
}

// errorf returns an error of entry id, with format's message.
func errorf(id, format string, args ...any) error {
	return fmt.Errorf("entry %s: "+format, append([]any{id}, args...)...)
}

// collect is how the machine entry runs: the suite describes the machine
// itself rather than through a command.
func collect(ctx context.Context, root, dir string) error {
	m, err := collectMachine(ctx, root)
	if err != nil {
		return errorf(MachineID, "%w", err)
	}
	return writeJSON(filepath.Join(dir, MachineFile), m)
}
