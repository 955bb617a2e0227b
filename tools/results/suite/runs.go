package suite

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/swarmdesk/swarmdesk/reports"
)

// ResultFile is the result document a bench run or bench sim writes into
// its --out directory.
const ResultFile = "result.json"

// Run is one bench run or bench sim: its result document, with the
// accessors the template needs.
type Run struct {
	*reports.Result
}

// metricOrder is the order latency metrics are listed in (bench/record's
// order); metrics not listed follow, sorted by name.
var metricOrder = []string{"connect", "hello", "menu", "bot", "ack", "delivery", "queue_wait", "first_reply", "broadcast", "resume", "agent_reply", "session"}

// LatencyRow is one latency metric of a run: its name and figures.
type LatencyRow struct {
	Name string
	reports.Latency
}

// Latencies returns the metrics that recorded a value, in bench's order.
func (r Run) Latencies() []LatencyRow {
	names := slices.Clone(metricOrder)
	for _, n := range slices.Sorted(maps.Keys(r.Latency)) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var out []LatencyRow
	for _, n := range names {
		if l, ok := r.Latency[n]; ok && l.Count > 0 {
			out = append(out, LatencyRow{n, l})
		}
	}
	return out
}

// Lat returns the latency metric name (zero when absent).
func (r Run) Lat(name string) reports.Latency { return r.Latency[name] }

// GeneratorCPURatio is the generator's CPU time over the server's, 0
// when the server's was not measured.
func (r Run) GeneratorCPURatio() float64 {
	if r.Server.CPUSeconds <= 0 {
		return 0
	}
	return r.Generator.CPUSeconds / r.Server.CPUSeconds
}

// DeliveryCorrectedOverRaw is the delivery p99 from the intended send
// over the p99 from the actual send: 1 when the generator's lag adds
// nothing to the tail; 0 when there are no deliveries.
func (r Run) DeliveryCorrectedOverRaw() float64 {
	d := r.Lat("delivery")
	if d.Raw.P99Ms <= 0 {
		return 0
	}
	return d.P99Ms / d.Raw.P99Ms
}

// ObjectivesMet counts the objectives that passed.
func (r Run) ObjectivesMet() int { return objectivesMet(r.Objectives) }

// ObjectivesFailed returns the objectives that failed.
func (r Run) ObjectivesFailed() []reports.Objective { return objectivesFailed(r.Objectives) }

// objectivesMet counts the objectives of objs that passed.
func objectivesMet(objs []reports.Objective) int {
	n := 0
	for _, o := range objs {
		if o.Pass {
			n++
		}
	}
	return n
}

// objectivesFailed returns the objectives of objs that failed.
func objectivesFailed(objs []reports.Objective) []reports.Objective {
	var out []reports.Objective
	for _, o := range objs {
		if !o.Pass {
			out = append(out, o)
		}
	}
	return out
}

// Passed reports whether the run was valid and met every objective.
func (r Run) Passed() bool {
	return r.Valid && r.ObjectivesMet() == len(r.Objectives)
}

// ErrorCount is the number of protocol and client errors of every code.
func (r Run) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// ErrorCodes lists the error codes seen, sorted.
func (r Run) ErrorCodes() []string { return slices.Sorted(maps.Keys(r.Errors)) }

// ServerRSSPerCustomer is the server's peak RSS over the customers the
// generator held.
func (r Run) ServerRSSPerCustomer() float64 {
	if r.Generator.Connections == 0 {
		return 0
	}
	return float64(r.Server.PeakRSSBytes) / float64(r.Generator.Connections)
}

// readRun reads the result document of entry id in its directory dir;
// sub is a subdirectory of dir holding it, or "".
func readRun(id, dir, sub string) (*Run, error) {
	path := filepath.Join(dir, sub, ResultFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf(id, "missing output %s", path)
	}
	defer f.Close()
	res, err := reports.Read(f)
	if err != nil {
		return nil, errorf(id, "%s: %w", path, err)
	}
	return &Run{res}, nil
}

// FindMax is a bench run --find-max: the result of the best step, which
// holds the search, and each step's own result.
type FindMax struct {
	Run
	Steps []FindMaxStep
}

// FindMaxStep is one step of the search with its result.
type FindMaxStep struct {
	// N is the step's number, from 1.
	N int
	reports.FindMaxStep
	// Run is the step's own result document.
	Run Run
}

// FirstFailure is the lowest load that failed, 0 when every load passed.
func (f *FindMax) FirstFailure() float64 { return f.Result.FindMax.Failed }

// Best is the highest load that met every objective, 0 when none did.
func (f *FindMax) Best() float64 { return f.Result.FindMax.Best }

// CPURatios returns the lowest and highest generator-over-server CPU
// ratio over the steps; ok is false when no step measured both.
func (f *FindMax) CPURatios() (lo, hi float64, ok bool) {
	for _, s := range f.Steps {
		g, sv := s.Run.Generator.CPUSeconds, s.Run.Server.CPUSeconds
		if sv <= 0 {
			continue
		}
		r := g / sv
		if !ok || r < lo {
			lo = r
		}
		if !ok || r > hi {
			hi = r
		}
		ok = true
	}
	return lo, hi, ok
}

// readFindMax reads a find-max result and its steps' results. A step's
// directory is looked up by its base name beside the result, so that the
// outputs can be moved.
func readFindMax(id, dir string) (*FindMax, error) {
	run, err := readRun(id, dir, "")
	if err != nil {
		return nil, err
	}
	if run.Result.FindMax == nil {
		return nil, errorf(id, "%s has no find_max: not a --find-max result", filepath.Join(dir, ResultFile))
	}
	fm := &FindMax{Run: *run}
	for i, s := range run.Result.FindMax.Steps {
		sr, err := readRun(id, dir, filepath.Base(s.Dir))
		if err != nil {
			return nil, err
		}
		fm.Steps = append(fm.Steps, FindMaxStep{N: i + 1, FindMaxStep: s, Run: *sr})
	}
	if len(fm.Steps) == 0 {
		return nil, errorf(id, "the search has no steps")
	}
	return fm, nil
}

// HalfLoad is the smoke run at half the best load find-max found.
type HalfLoad struct {
	Run
	// Rate is the arrival rate the run was given.
	Rate float64
}

// halfRate returns half the best load of the find-max result in
// fmDir, as entry id's --rate argument; skip says why there is none.
func halfRate(id, fmDir string) (rate, skip string, err error) {
	fm, err := readRun("find-max", fmDir, "")
	if err != nil {
		return "", "", errorf(id, "needs find-max's result: %w", err)
	}
	switch {
	case fm.Result.FindMax == nil:
		return "", "", errorf(id, "%s has no find_max", ResultFile)
	case fm.Result.FindMax.Parameter != "customers.rate":
		return "", "", errorf(id, "find-max stepped %s, not customers.rate", fm.Result.FindMax.Parameter)
	case fm.Result.FindMax.Best <= 0:
		return "", "find-max found no load that met every objective", nil
	}
	return strconv.FormatFloat(fm.Result.FindMax.Best/2, 'g', 4, 64), "", nil
}
