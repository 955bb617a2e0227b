package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/reports/render"
)

const reportUsage = `usage: bench report RESULT... [flags]

Renders result documents (result.json, or a run directory holding one) as
one self-contained HTML page with charts, or as Markdown tables. Given
several results it overlays them, labelled by run.

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
	labels := fs.StringArray("label", nil, "label of each result, in order (default: its path)")
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
	for i, path := range fs.Args() {
		res, err := readResult(path)
		if err != nil {
			return 2, fmt.Errorf("report: %w", err)
		}
		label := path
		if i < len(*labels) {
			label = (*labels)[i]
		}
		runs = append(runs, render.Run{Label: label, Result: res})
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

// readResult reads a result document from a file, or from the result.json
// of a run directory.
func readResult(path string) (*reports.Result, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "result.json")
	}
	return reports.ReadFile(path)
}
