package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/tools/designs/designs"
)

// Files of the work directory.
const (
	// ManifestFile records which entries ran and how; it is what
	// rendering starts from.
	ManifestFile = "suite.json"
	// CmdFile, StdoutFile and StderrFile are an entry's command line and
	// its output streams, in the entry's directory.
	CmdFile    = "cmd.txt"
	StdoutFile = "stdout.txt"
	StderrFile = "stderr.txt"
)

// Options configure a run of the suite and its rendering.
type Options struct {
	// Root is the repository root: commands run there, and relative
	// Work and Out paths are relative to it. Default ".".
	Root string
	// Work is the work directory, where every entry's outputs are kept.
	Work string
	// Out is the RESULTS.md to write.
	Out string
	// Only runs just these entries; Skip leaves these out. An entry left
	// out keeps its outputs of an earlier run in Work made the same way
	// (both --quick or neither), if there are any, and renders as not
	// run otherwise. The machine entry always runs.
	Only, Skip []string
	// Quick shortens the entries (QuickCmd) and leaves out the Long ones
	// that Only does not name.
	Quick bool
	// RenderOnly runs nothing: it renders from the outputs in Work.
	RenderOnly bool
	// Log receives a line as each entry starts and ends; nil discards.
	Log io.Writer
}

// Manifest is the work directory's record of a run of the suite.
type Manifest struct {
	// Entries are in suite order.
	Entries []Record `json:"entries"`
}

// Record is how one entry went.
type Record struct {
	// ID is the entry's.
	ID string `json:"id"`
	// Ran reports that the entry ran and its outputs are in its
	// directory; NotRun says why not otherwise ("--quick").
	Ran    bool   `json:"ran"`
	NotRun string `json:"not_run,omitempty"`
	// Quick marks an entry run with its --quick command.
	Quick bool `json:"quick,omitempty"`
	// Cmd is the command line that ran, placeholders filled in; Vars are
	// the values of its placeholders.
	Cmd  []string          `json:"cmd,omitempty"`
	Vars map[string]string `json:"vars,omitempty"`
	// Exit is the command's exit status.
	Exit int `json:"exit"`
	// Start is when it started; WallS how long it took, in seconds.
	Start time.Time `json:"start"`
	WallS float64   `json:"wall_s"`
	// Commit and Dirty are the source tree's when it ran.
	Commit string `json:"commit,omitempty"`
	Dirty  bool   `json:"dirty,omitempty"`
}

// Generate runs the suite as opts asks (unless RenderOnly) and writes
// RESULTS.md from the outputs in the work directory.
func Generate(ctx context.Context, entries []Entry, opts Options) error {
	opts = opts.withDefaults()
	if !opts.RenderOnly {
		if err := Execute(ctx, entries, opts); err != nil {
			return err
		}
	}
	text, err := Render(entries, opts)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(opts.path(opts.Out))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: read %s: %w", ErrSetup, opts.Out, err)
	}
	return writeFile(opts.path(opts.Out), keepSection(old, text))
}

// keepSection returns the rendered text with the section between
// designs.BeginMarker and designs.EndMarker taken from the old file, when
// it has one: that section is make compare-designs' to write.
func keepSection(old, rendered []byte) []byte {
	begin, end := []byte(designs.BeginMarker), []byte(designs.EndMarker)
	oi, oj := bytes.Index(old, begin), bytes.Index(old, end)
	ri, rj := bytes.Index(rendered, begin), bytes.Index(rendered, end)
	if oi < 0 || oj < oi || ri < 0 || rj < ri {
		return rendered
	}
	out := append([]byte{}, rendered[:ri]...)
	out = append(out, old[oi:oj]...)
	return append(out, rendered[rj:]...)
}

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// path resolves p against the root.
func (o Options) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(o.Root, p)
}

// Execute runs the entries opts selects, keeping their outputs and the
// manifest in the work directory. The machine entry always runs first:
// it dates the results. An entry that fails ends the run: the error names
// it and quotes the end of its output.
func Execute(ctx context.Context, entries []Entry, opts Options) error {
	opts = opts.withDefaults()
	work := opts.path(opts.Work)
	run, records, err := selectEntries(entries, opts, readManifestIfAny(work))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("%w: work directory: %w", ErrSetup, err)
	}
	save := func() error {
		if err := writeJSON(filepath.Join(work, ManifestFile), &Manifest{Entries: records}); err != nil {
			return fmt.Errorf("%w: %w", ErrSetup, err)
		}
		return nil
	}
	if slices.ContainsFunc(entries, func(e Entry) bool { return run[e.ID] && usesBench(e, opts.Quick) }) {
		fmt.Fprintf(opts.Log, "results: %s\n", shellQuote(BuildBench))
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, BuildBench[0], BuildBench[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = opts.Root, &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%w: %s: %w\n%s", ErrSetup, shellQuote(BuildBench), err, tail(out.Bytes(), 20))
		}
	}
	for i, e := range entries {
		if run[e.ID] {
			records[i] = Record{ID: e.ID, NotRun: "a run in progress or interrupted"}
		}
	}
	if err := save(); err != nil {
		return err
	}
	var machine *Machine
	for i, e := range entries {
		if !run[e.ID] {
			continue
		}
		rec, err := runEntry(ctx, e, opts, work, machine)
		if err != nil {
			records[i] = Record{ID: e.ID, NotRun: "failed"}
			return errors.Join(err, save())
		}
		records[i] = rec
		if e.ID == MachineID {
			machine = &Machine{}
			if err := readJSON(filepath.Join(work, MachineID, MachineFile), machine); err != nil {
				return fmt.Errorf("%w: %w", ErrEntry, errorf(MachineID, "%w", err))
			}
			records[i].Commit, records[i].Dirty = machine.Commit, machine.Dirty
		}
		if err := save(); err != nil {
			return err
		}
	}
	return nil
}

// selectEntries decides which entries run, and the records of those that
// do not: kept from the previous manifest when opts allows, or "not run"
// with the reason.
func selectEntries(entries []Entry, opts Options, prev *Manifest) (map[string]bool, []Record, error) {
	known := map[string]bool{}
	for _, e := range entries {
		known[e.ID] = true
	}
	var bad []string
	for _, id := range append(slices.Clone(opts.Only), opts.Skip...) {
		if !known[id] {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		ids := make([]string, 0, len(entries))
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		return nil, nil, fmt.Errorf("%w: unknown entries %s (the suite has %s)", ErrUsage, strings.Join(bad, ", "), strings.Join(ids, ", "))
	}
	if slices.Contains(opts.Skip, MachineID) {
		return nil, nil, fmt.Errorf("%w: --skip %s: the machine entry always runs (it dates the results)", ErrUsage, MachineID)
	}
	prevRec := map[string]Record{}
	if prev != nil {
		for _, r := range prev.Entries {
			if r.Ran && r.Quick == opts.Quick {
				prevRec[r.ID] = r
			}
		}
	}
	run := map[string]bool{}
	records := make([]Record, len(entries))
	for i, e := range entries {
		reason := ""
		switch {
		case e.ID == MachineID:
		case slices.Contains(opts.Skip, e.ID):
			reason = "--skip"
		case len(opts.Only) > 0 && !slices.Contains(opts.Only, e.ID):
			reason = "not in --only"
		case opts.Quick && e.Long && !slices.Contains(opts.Only, e.ID):
			reason = "--quick"
		}
		if reason == "" {
			run[e.ID] = true
			records[i] = Record{ID: e.ID}
			continue
		}
		if r, ok := prevRec[e.ID]; ok && reason != "--quick" {
			records[i] = r
			continue
		}
		records[i] = Record{ID: e.ID, NotRun: reason}
	}
	for i, e := range entries {
		if e.Needs == "" || !run[e.ID] {
			continue
		}
		j := slices.IndexFunc(entries, func(n Entry) bool { return n.ID == e.Needs })
		if j < 0 || j > i || !(run[e.Needs] || records[j].Ran) {
			return nil, nil, fmt.Errorf("%w: %s needs the outputs of %s, which neither runs now nor ran before in this work directory: add it to --only", ErrUsage, e.ID, e.Needs)
		}
	}
	return run, records, nil
}

// usesBench reports whether e runs bin/bench.
func usesBench(e Entry, quick bool) bool {
	cmd := e.Cmd
	if quick && e.QuickCmd != nil {
		cmd = e.QuickCmd
	}
	return len(cmd) > 0 && cmd[0] == BenchBinary
}

// readManifestIfAny reads the work directory's manifest, or returns nil.
func readManifestIfAny(work string) *Manifest {
	m := &Manifest{}
	if err := readJSON(filepath.Join(work, ManifestFile), m); err != nil {
		return nil
	}
	return m
}

// runEntry runs one entry into its directory, afresh, and checks that its
// outputs can be read.
func runEntry(ctx context.Context, e Entry, opts Options, work string, machine *Machine) (Record, error) {
	dir := filepath.Join(work, e.ID)
	rec := Record{ID: e.ID, Quick: opts.Quick, Start: time.Now().UTC()}
	if machine != nil {
		rec.Commit, rec.Dirty = machine.Commit, machine.Dirty
	}
	if err := os.RemoveAll(dir); err != nil {
		return rec, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rec, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	if e.Cmd == nil { // the machine entry
		fmt.Fprintf(opts.Log, "results: %s: describing the machine\n", e.ID)
		if err := collect(ctx, opts.Root, dir); err != nil {
			return rec, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		rec.Ran = true
		rec.WallS = time.Since(rec.Start).Seconds()
		return rec, nil
	}
	var vars map[string]string
	if e.vars != nil {
		v, skip, err := e.vars(work)
		if err != nil {
			return rec, fmt.Errorf("%w: %w", ErrEntry, err)
		}
		if skip != "" {
			fmt.Fprintf(opts.Log, "results: %s: not run: %s\n", e.ID, skip)
			rec.NotRun = skip
			return rec, nil
		}
		vars = v
	}
	args := e.Cmd
	if opts.Quick && e.QuickCmd != nil {
		args = e.QuickCmd
	}
	args = expand(args, filepath.Join(opts.Work, e.ID), vars)
	rec.Cmd, rec.Vars = args, vars
	if err := os.WriteFile(filepath.Join(dir, CmdFile), []byte(shellQuote(args)+"\n"), 0o644); err != nil {
		return rec, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	fmt.Fprintf(opts.Log, "results: %s: %s\n", e.ID, shellQuote(args))
	exit, err := runCommand(ctx, opts.Root, args, dir, e.Timeout)
	rec.Exit, rec.WallS = exit, time.Since(rec.Start).Seconds()
	fmt.Fprintf(opts.Log, "results: %s: exit %d after %s\n", e.ID, exit, time.Duration(rec.WallS*float64(time.Second)).Round(time.Second))
	switch {
	case err != nil:
		err = errorf(e.ID, "%s: %w", shellQuote(args), err)
	case exit != 0 && !slices.Contains(e.OKExit, exit):
		err = errorf(e.ID, "%s: exited with status %d", shellQuote(args), exit)
	default:
		rec.Ran = true
		err = e.parse(dir, &rec, &Figures{})
	}
	if err != nil {
		return rec, fmt.Errorf("%w: %w%s", ErrEntry, err, outputTail(dir))
	}
	return rec, nil
}

// expand fills in a command's placeholders.
func expand(args []string, out string, vars map[string]string) []string {
	res := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "{out}", out)
		for k, v := range vars {
			a = strings.ReplaceAll(a, "{"+k+"}", v)
		}
		res[i] = a
	}
	return res
}

// runCommand runs args from root with stdout and stderr to files in dir,
// within timeout, and returns its exit status. err is for a command that
// could not start, timed out or was interrupted.
func runCommand(ctx context.Context, root string, args []string, dir string, timeout time.Duration) (int, error) {
	stdout, err := os.Create(filepath.Join(dir, StdoutFile))
	if err != nil {
		return -1, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, StderrFile))
	if err != nil {
		return -1, err
	}
	defer stderr.Close()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, stdout, stderr
	ownGroup(cmd)
	err = cmd.Run()
	killGroup(cmd)
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return exitCode(cmd), fmt.Errorf("timed out after %v", timeout)
	case ctx.Err() != nil:
		return exitCode(cmd), fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1, err
	}
	return exitCode(cmd), nil
}

// exitCode is the exit status of a command that ran, -1 otherwise.
func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}

// outputTail is the end of an entry's stderr (or stdout, when stderr is
// empty), to quote in its error.
func outputTail(dir string) string {
	for _, name := range []string{StderrFile, StdoutFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		return fmt.Sprintf("\n%s ends:\n%s", filepath.Join(dir, name), tail(b, 20))
	}
	return ""
}

// tail returns the last n lines of b, indented.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// writeFile writes data to path, replacing it only once it is whole.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close(), os.Remove(f.Name()))
	}
	if err := f.Chmod(0o644); err != nil {
		return errors.Join(err, f.Close(), os.Remove(f.Name()))
	}
	if err := f.Close(); err != nil {
		return errors.Join(err, os.Remove(f.Name()))
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return errors.Join(err, os.Remove(f.Name()))
	}
	return nil
}
