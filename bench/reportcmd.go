package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/reports/render"
)

const reportUsage = `usage: bench report RESULT... [flags]

Renders result documents (result.json, or a run directory holding one) as
one self-contained HTML page with charts, or as Markdown tables. Given
several results it overlays them, labelled by run (by default, the run
directory's name). Among several, a run directory without a result.json (a
run that did not finish) is skipped with a warning.

flags:
`

const reportExamples = `
examples:
  bench report results/smoke-20261121T101500Z -o report.html
  bench report base/result.json new/result.json --label base --label new -o cmp.html
  bench report results/peak/result.json --format md > peak.md
`

// reportCmd is "bench report".
func reportCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, reportUsage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, reportExamples)
	}
	out := fs.StringP("output", "o", "-", "file to write the report to (- for standard output)")
	format := fs.String("format", "", "html or md (default: from the output's extension, else html)")
	labels := fs.StringArray("label", nil, "label of each result, in order (default: its run directory's name, or its path when those are not distinct)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2, errors.New("report: no result given")
	}
	if len(*labels) > fs.NArg() {
		return 2, fmt.Errorf("report: %d labels for %d results", len(*labels), fs.NArg())
	}
	f, err := reportFormat(*format, *out)
	if err != nil {
		return 2, err
	}
	runs := make([]render.Run, 0, fs.NArg())
	var paths []string
	for i, path := range fs.Args() {
		res, err := readResult(path)
		if errors.Is(err, errUnfinished) && fs.NArg() > 1 {
			fmt.Fprintf(stderr, "report: skipping %v\n", err)
			continue
		}
		if err != nil {
			return 2, fmt.Errorf("report: %w", err)
		}
		label := ""
		if i < len(*labels) {
			label = (*labels)[i]
		}
		runs = append(runs, render.Run{Label: label, Result: res})
		paths = append(paths, path)
	}
	if len(runs) == 0 {
		return 2, errors.New("report: none of the results given is a finished run")
	}
	for i, l := range defaultLabels(paths) {
		if runs[i].Label == "" {
			runs[i].Label = l
		}
	}
	draw := render.HTML
	if f == "md" {
		draw = render.Markdown
	}
	if *out == "-" {
		if err := draw(stdout, runs); err != nil {
			return 2, fmt.Errorf("report: %w", err)
		}
		return 0, nil
	}
	if err := reports.WriteAtomic(*out, func(w io.Writer) error { return draw(w, runs) }); err != nil {
		return 2, fmt.Errorf("report: write %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "report: wrote %s\n", *out)
	return 0, nil
}

// reportFormat is the format asked for, or the one the output's extension
// names.
func reportFormat(format, out string) (string, error) {
	switch format {
	case "html", "md":
		return format, nil
	case "markdown":
		return "md", nil
	case "":
		if ext := strings.ToLower(filepath.Ext(out)); ext == ".md" || ext == ".markdown" {
			return "md", nil
		}
		return "html", nil
	}
	return "", fmt.Errorf("report: --format %q: want html or md", format)
}

// errUnfinished is the error of a run directory without a result
// document.
var errUnfinished = errors.New("the run did not finish")

// readResult reads a result document from a file, or from the result.json
// of a run directory; a run directory without one (a failed setup or an
// interrupted run leaves its interval logs alone) is errUnfinished.
func readResult(path string) (*reports.Result, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		doc := filepath.Join(path, "result.json")
		if _, err := os.Stat(doc); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no result.json: %w", path, errUnfinished)
		}
		path = doc
	}
	return reports.ReadFile(path)
}

// defaultLabels names each result by its run: the directory holding its
// result.json, or the file's name without ".json". When two would be the
// same, every result is named by its path as given.
func defaultLabels(paths []string) []string {
	labels := make([]string, len(paths))
	seen := map[string]bool{}
	for i, p := range paths {
		p = filepath.Clean(p)
		if filepath.Base(p) == "result.json" {
			p = filepath.Dir(p)
		}
		labels[i] = strings.TrimSuffix(filepath.Base(p), ".json")
		if seen[labels[i]] || labels[i] == "." || labels[i] == string(filepath.Separator) {
			return slices.Clone(paths)
		}
		seen[labels[i]] = true
	}
	return labels
}
