package designs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/reports"
)

// Schema is the version of the comparison's JSON document.
const Schema = "swarmdesk.designs/v1"

// Options configure a comparison.
type Options struct {
	// Designs are the designs compared (default Standard).
	Designs []Design
	// Server and Bench are the refserver and bench binaries.
	Server, Bench string
	// Out is the directory for the document, the report and every bench
	// run's outputs.
	Out string
	// Sizes are the idle-customer counts memory is measured at, ascending;
	// empty: sized to the open-file limit (see DefaultSizes).
	Sizes []int
	// Window is how long idle clients' requests are counted.
	Window time.Duration
	// Rate is the offered load of the load phase, the designs scenario's
	// customers.rate.
	Rate float64
	// FindMaxStart and FindMaxSteps bound each design's find-max.
	FindMaxStart float64
	FindMaxSteps int
	// Log receives progress and every child's output.
	Log io.Writer
	// Commit is the checkout's commit, recorded with each result.
	Commit string
	// Keep, when not nil, is an earlier document of the same sizes and
	// rate: its results for designs not measured now are kept, so one
	// design can be measured again alone.
	Keep *Document
}

// Result is one design's figures.
type Result struct {
	Design string `json:"design"`
	// Commit is the commit the design was measured at ("" when not
	// recorded).
	Commit  string   `json:"commit,omitempty"`
	Text    string   `json:"text"`
	Idle    *Idle    `json:"idle"`
	Load    *Load    `json:"load"`
	FindMax *FindMax `json:"find_max"`
}

// Document is the comparison's JSON document (designs.json).
type Document struct {
	Schema   string    `json:"schema"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Commit   string    `json:"commit,omitempty"`
	Sizes    []int     `json:"sizes"`
	WindowS  float64   `json:"window_s"`
	Rate     float64   `json:"rate"`
	FDLimit  uint64    `json:"fd_limit"`
	Results  []Result  `json:"results"`
	Commands []string  `json:"commands"`
}

// DefaultSizes returns the idle sizes for an open-file limit: a polling
// client holds two HTTP connections (a held poll and a send), and bench
// holds every client in one process, so the largest size is under half
// the limit, less a reserve.
func DefaultSizes(limit uint64) []int {
	top := int(limit)/2 - 1000
	top = top / 1000 * 1000
	if top < 1000 {
		return []int{max(int(limit)/4, 10)}
	}
	sizes := []int{1000}
	if mid := top / 3 / 1000 * 1000; mid > 1000 && mid < top {
		sizes = append(sizes, mid)
	}
	return append(sizes, top)
}

// FDLimit returns the soft open-file limit.
func FDLimit() (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	return lim.Cur, nil
}

// Run measures every design in turn and writes designs.json and
// report.md into opts.Out.
func Run(ctx context.Context, opts Options) (*Document, error) {
	if len(opts.Designs) == 0 {
		opts.Designs = Standard
	}
	limit, err := FDLimit()
	if err != nil {
		return nil, err
	}
	if len(opts.Sizes) == 0 {
		opts.Sizes = DefaultSizes(limit)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	if k := opts.Keep; k != nil && (!slices.Equal(k.Sizes, opts.Sizes) || k.Rate != opts.Rate) {
		return nil, fmt.Errorf("keep the earlier results: they were measured at sizes %v and rate %g, not %v and %g", k.Sizes, k.Rate, opts.Sizes, opts.Rate)
	}
	doc := &Document{Schema: Schema, Commit: opts.Commit, Start: time.Now().UTC(), Sizes: opts.Sizes, WindowS: opts.Window.Seconds(), Rate: opts.Rate, FDLimit: limit}
	fmt.Fprintf(opts.Log, "designs: %d designs; idle sizes %v (open-file limit %d; a polling client holds 2 connections); requests counted over %s; load: the designs scenario at rate %g\n",
		len(opts.Designs), opts.Sizes, limit, opts.Window, opts.Rate)
	for _, d := range opts.Designs {
		fmt.Fprintf(opts.Log, "== %s: %s\n", d.Name, d.Describe())
		r := Result{Design: d.Name, Text: d.Describe(), Commit: opts.Commit}
		if r.Idle, err = idlePhase(ctx, d, opts.Server, opts.Sizes, opts.Window, opts.Log); err != nil {
			return nil, err
		}
		if r.Load, err = loadPhase(ctx, d, opts.Server, opts.Bench, filepath.Join(opts.Out, d.Name, "load"), opts.Rate, opts.Log); err != nil {
			return nil, err
		}
		if r.FindMax, err = findMaxPhase(ctx, d, opts.Server, opts.Bench, filepath.Join(opts.Out, d.Name, "find-max"), opts.FindMaxStart, opts.FindMaxSteps, opts.Log); err != nil {
			return nil, err
		}
		doc.Results = append(doc.Results, r)
	}
	if opts.Keep != nil {
		kept := slices.Clone(opts.Keep.Results)
		for i := range kept {
			if kept[i].Commit == "" {
				kept[i].Commit = opts.Keep.Commit
			}
		}
		doc.Results = merge(kept, doc.Results)
		if opts.Keep.Start.Before(doc.Start) {
			doc.Start = opts.Keep.Start
		}
	}
	doc.End = time.Now().UTC()
	if err := reports.WriteAtomic(filepath.Join(opts.Out, "designs.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}); err != nil {
		return nil, fmt.Errorf("write designs.json: %w", err)
	}
	return doc, nil
}

// merge returns kept with the designs of fresh replaced or added, in the
// standard order.
func merge(kept, fresh []Result) []Result {
	by := map[string]Result{}
	for _, r := range kept {
		by[r.Design] = r
	}
	for _, r := range fresh {
		by[r.Design] = r
	}
	var out []Result
	for _, d := range Standard {
		if r, ok := by[d.Name]; ok {
			out = append(out, r)
		}
	}
	return out
}

// ReadDocument reads a designs.json.
func ReadDocument(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if doc.Schema != Schema {
		return nil, fmt.Errorf("read %s: schema %q, want %q", path, doc.Schema, Schema)
	}
	return &doc, nil
}
