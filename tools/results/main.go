// Command results runs the project's standard benchmark suite and writes
// RESULTS.md from its outputs, so that the headline figures are never
// typed by hand. `make results` runs it from the repository root.
//
//	go run ./tools/results                          # the whole suite (about 55 minutes)
//	go run ./tools/results --quick                  # a short trial of the pipeline
//	go run ./tools/results --only smoke,find-max,half-load
//	go run ./tools/results --render-only            # RESULTS.md again from results/suite
//
// Exit status: 0 RESULTS.md written, 1 an entry failed (the error names
// it and quotes the end of its output) or rendering failed, 2 bad usage
// or setup failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/tools/results/suite"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("results: ")
	code, err := run(os.Args[1:], os.Stderr)
	if err != nil {
		log.Print(err)
	}
	os.Exit(code)
}

// run runs the command with args and returns its exit status.
func run(args []string, stderr io.Writer) (int, error) {
	entries := suite.Standard()
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	fs := pflag.NewFlagSet("results", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := suite.Options{Log: stderr}
	fs.StringVar(&opts.Out, "out", "RESULTS.md", "the file to write")
	fs.StringVar(&opts.Work, "work", "results/suite", "work directory: every entry's raw outputs, one directory per entry")
	fs.StringSliceVar(&opts.Only, "only", nil, "run only these entries (comma-separated); the others keep their outputs of an earlier run made the same way, if any")
	fs.StringSliceVar(&opts.Skip, "skip", nil, "do not run these entries (comma-separated)")
	fs.BoolVar(&opts.RenderOnly, "render-only", false, "run nothing: render from the outputs already in --work")
	fs.BoolVar(&opts.Quick, "quick", false, "try the pipeline: shorter benchmarks and runs; the long entries are not run unless --only names them")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: results [flags]\n\nRuns the standard benchmark suite and writes RESULTS.md from its outputs.\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nentries, in the order they run: %s\n", strings.Join(ids, ", "))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opts.RenderOnly && (len(opts.Only) > 0 || len(opts.Skip) > 0 || opts.Quick) {
		return 2, errors.New("--render-only runs nothing: it takes no --only, --skip or --quick")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := suite.Generate(ctx, entries, opts); err != nil {
		if errors.Is(err, suite.ErrUsage) || errors.Is(err, suite.ErrSetup) {
			return 2, err
		}
		return 1, err
	}
	fmt.Fprintf(stderr, "results: wrote %s\n", opts.Out)
	return 0, nil
}
