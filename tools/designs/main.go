// Command designs runs the standard comparison of connection-server
// designs (gnet event loops, a goroutine per connection, HTTP long and
// short polling) and writes its table into RESULTS.md and a report.
// `make compare-designs` runs it from the repository root.
//
//	go run ./tools/designs                           # every design, about 20 minutes
//	go run ./tools/designs --designs gnet,netstd     # some of them
//	go run ./tools/designs --render-only             # the report again from results/designs/designs.json
//
// Exit status: 0 written, 1 a measurement failed, 2 bad usage or setup.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/tools/designs/designs"
)

// Command is how RESULTS.md quotes the comparison's command.
const Command = "make compare-designs"

func main() {
	log.SetFlags(0)
	log.SetPrefix("designs: ")
	code, err := run(os.Args[1:], os.Stderr)
	if err != nil {
		log.Print(err)
	}
	os.Exit(code)
}

func run(args []string, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("designs", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := designs.Options{Log: stderr}
	var names []string
	var results string
	var renderOnly bool
	fs.StringVar(&opts.Out, "out", "results/designs", "directory for designs.json, report.md and every bench run's outputs")
	fs.StringVar(&results, "results", "RESULTS.md", "the file whose comparison section is rewritten (\"\": none)")
	fs.StringSliceVar(&names, "designs", nil, "designs to compare (default all: gnet, netstd, poll-long, poll-short)")
	fs.IntSliceVar(&opts.Sizes, "sizes", nil, "idle customer counts to measure memory at (default: sized to the open-file limit)")
	fs.DurationVar(&opts.Window, "window", 75*time.Second, "how long idle clients' requests are counted: a multiple of every keep-alive period (15s heartbeat, 25s long poll, 1s short poll), since clients connected together keep alive in step")
	fs.Float64Var(&opts.Rate, "rate", 8, "offered load of the load phase: the designs scenario's customers.rate, arrivals per second")
	fs.Float64Var(&opts.FindMaxStart, "find-max-start", 8, "first rate of each design's find-max")
	fs.IntVar(&opts.FindMaxSteps, "find-max-steps", 5, "step budget of each design's find-max")
	var keep bool
	fs.BoolVar(&keep, "keep", false, "keep the results of the designs not measured now from --out's designs.json (measure one design again alone)")
	fs.BoolVar(&renderOnly, "render-only", false, "measure nothing: write the report and RESULTS.md's section from --out's designs.json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if fs.NArg() > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var doc *designs.Document
	var err error
	if renderOnly {
		if doc, err = designs.ReadDocument(filepath.Join(opts.Out, "designs.json")); err != nil {
			return 2, err
		}
	} else {
		if opts.Designs, err = designs.Select(names); err != nil {
			return 2, err
		}
		if keep {
			if opts.Keep, err = designs.ReadDocument(filepath.Join(opts.Out, "designs.json")); err != nil {
				return 2, err
			}
		}
		if err := build(&opts); err != nil {
			return 2, err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		opts.Commit = commit()
		if doc, err = designs.Run(ctx, opts); err != nil {
			return 1, err
		}
	}
	var md bytes.Buffer
	if err := designs.Markdown(&md, doc, Command); err != nil {
		return 1, err
	}
	report := filepath.Join(opts.Out, "report.md")
	if err := reports.WriteAtomic(report, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "# Connection-server designs side by side\n\n%s", md.String())
		return err
	}); err != nil {
		return 1, fmt.Errorf("write %s: %w", report, err)
	}
	fmt.Fprintf(stderr, "designs: wrote %s\n", report)
	if results != "" {
		if err := designs.Splice(results, "Connection-server designs side by side", md.String()); err != nil {
			return 1, err
		}
		fmt.Fprintf(stderr, "designs: wrote the comparison into %s\n", results)
	}
	return 0, nil
}

// build compiles refserver and bench into bin/, once, so every phase runs
// the same binaries.
func build(opts *designs.Options) error {
	if err := os.MkdirAll("bin", 0o755); err != nil {
		return fmt.Errorf("bin: %w", err)
	}
	server, err := child.Build("bin")
	if err != nil {
		return err
	}
	opts.Server = server
	opts.Bench = filepath.Join("bin", "bench")
	if out, err := exec.Command("go", "build", "-o", opts.Bench, "./bench").CombinedOutput(); err != nil {
		return fmt.Errorf("build bench: %w: %s", err, out)
	}
	return nil
}

// commit returns the checkout's short commit, or "".
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
