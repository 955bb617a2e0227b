package compare

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/swarmdesk/swarmdesk/reports"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrEmpty marks a side without results: an empty Set or a directory
	// holding no result file.
	ErrEmpty = errors.New("compare: no results")
	// ErrScenario marks results of different scenarios, within a side or
	// between the two sides.
	ErrScenario = errors.New("compare: different scenarios")
	// ErrNotRun marks a result that is not one whole run: a --find-max
	// search or one shard of a split run.
	ErrNotRun = errors.New("compare: not the result of one whole run")
	// ErrMixed marks sides of different kinds that Compare refuses without
	// Options.AllowMixed: a bench sim result (virtual time) against a run on
	// real connections, or a side holding both.
	ErrMixed = errors.New("compare: sides of different kinds")
	// ErrThreshold marks a threshold that does not parse.
	ErrThreshold = errors.New("compare: bad threshold")
	// ErrOptions marks Options out of range.
	ErrOptions = errors.New("compare: bad options")
)

// Set is one side of a comparison: the results of repeated runs of one
// scenario.
type Set struct {
	// Label names the side in reports; Load sets the path it read.
	Label string
	// Results are the runs, one result each.
	Results []*reports.Result
	// Paths[i] is the file Results[i] was read from; nil for results made
	// in memory.
	Paths []string
}

// Load reads one side of a comparison from path: a result file, or a
// directory whose repeated runs are the *.json files directly inside it and
// the result.json files one level down (DIR/run-1/result.json, as
// bench run --out writes them), in the order of their paths. Names starting
// with "." are skipped. Every file must be a result document (reports.Read)
// of a whole run (not --find-max, not one shard), all of the same scenario;
// an error names the offending path.
func Load(path string) (Set, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Set{}, fmt.Errorf("compare: %w", err)
	}
	paths := []string{path}
	if fi.IsDir() {
		if paths, err = resultPaths(path); err != nil {
			return Set{}, err
		}
	}
	set := Set{Label: path, Paths: paths}
	for _, p := range paths {
		r, err := reports.ReadFile(p)
		if err != nil {
			return Set{}, fmt.Errorf("compare: %w", err)
		}
		set.Results = append(set.Results, r)
	}
	if err := checkSet(set, ""); err != nil {
		return Set{}, err
	}
	return set, nil
}

// resultPaths lists the result files of a directory of runs, sorted.
func resultPaths(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p) // follows symbolic links
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		switch {
		case fi.Mode().IsRegular() && strings.HasSuffix(e.Name(), ".json"):
			paths = append(paths, p)
		case fi.IsDir():
			rp := filepath.Join(p, "result.json")
			if fi, err := os.Stat(rp); err == nil && fi.Mode().IsRegular() {
				paths = append(paths, rp)
			}
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w in %s (want *.json or */result.json)", ErrEmpty, dir)
	}
	slices.Sort(paths)
	return paths, nil
}

// checkSet checks that set holds whole runs of one scenario. side ("base",
// "new" or "") names the set in errors.
func checkSet(set Set, side string) error {
	if len(set.Results) == 0 {
		return fmt.Errorf("%s: %w", strings.TrimSpace(side+" "+set.Label), ErrEmpty)
	}
	first := set.Results[0]
	for i, r := range set.Results {
		name := resultName(set, side, i)
		switch {
		case r == nil:
			return fmt.Errorf("%s: %w: nil result", name, ErrEmpty)
		case r.FindMax != nil:
			return fmt.Errorf("%s: %w: a --find-max result (compare the runs of its best load instead)", name, ErrNotRun)
		case r.Shard.Count > 1:
			return fmt.Errorf("%s: %w: shard %d of %d of a split run (merge the shards first: bench merge)", name, ErrNotRun, r.Shard.Index, r.Shard.Count)
		case r.Scenario != first.Scenario:
			return fmt.Errorf("%s: %w: scenario %q, but %s is of %q", name, ErrScenario, r.Scenario, resultName(set, side, 0), first.Scenario)
		}
	}
	return nil
}

// resultName names the i-th result of set for messages: its side and
// path, or its side and number.
func resultName(set Set, side string, i int) string {
	if i < len(set.Paths) && set.Paths[i] != "" {
		return strings.TrimSpace(side + " " + set.Paths[i])
	}
	return fmt.Sprintf("%s run %d", side, i+1)
}
