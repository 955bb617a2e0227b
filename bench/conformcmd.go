package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/bench/conform"
)

const conformUsage = `usage: bench conform --target ADDR [flags]

Checks that the server at ADDR speaks the swarmdesk protocol
(refserver/wire/PROTOCOL.md) before it is benchmarked: the session, tokens,
conversations and their sequences, dedupe, delivery to every device,
resume, routing and the queue, and the refusal of broken requests. Each
case runs on fresh connections; a failed case says what was expected and
what came.

ADDR is tcp://host:port or host:port (a long TCP connection), or
http://host:port (the HTTP binding: long polling).

Exit status: 0 every case passed (or was skipped), 1 a case failed, 2 bad
usage or a target that cannot be reached.

flags:
`

const conformExamples = `
examples:
  bench conform --target 127.0.0.1:7400
  bench conform --target http://127.0.0.1:7500 --run 'session|resume'
  bench conform --target 10.0.0.5:7400 --tenant acme --secret "$ACME_TOKEN_SECRET" --group support
  bench conform --target 127.0.0.1:7400 --json > conform.json
`

// conformCmd is "bench conform".
func conformCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := pflag.NewFlagSet("conform", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, conformUsage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, conformExamples)
	}
	var cfg conform.Config
	var filter string
	fs.StringVar(&cfg.Target, "target", "", "the server: tcp://host:port, host:port or http://host:port (required)")
	fs.StringVar(&cfg.Tenant, "tenant", conform.DefaultTenant, "the tenant the cases connect to")
	fs.StringVar(&cfg.Secret, "secret", "", "the tenant's token secret, to sign a token for every hello; without it the tenant is taken to be open and the token cases are skipped")
	fs.StringVar(&cfg.Group, "group", conform.DefaultGroup, "a skill group the suite may own while it runs (no other agent online in it)")
	fs.DurationVar(&cfg.Timeout, "timeout", conform.DefaultTimeout, "how long each expectation waits for its answer")
	fs.StringVar(&filter, "run", "", "run only the cases whose name matches this regular expression")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2, fmt.Errorf("conform: unexpected arguments %q", fs.Args())
	}
	if cfg.Target == "" {
		fs.Usage()
		return 2, errors.New("conform: --target is required")
	}
	if filter != "" {
		cfg.Only = []string{filter}
	}
	if err := cfg.Validate(); err != nil {
		return 2, err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := conform.Probe(ctx, cfg); err != nil {
		return 2, err
	}
	rep := conform.Run(ctx, cfg)
	if len(rep.Cases) == 0 {
		return 2, fmt.Errorf("conform: --run %q selects no case (cases: %s)", filter, strings.Join(conform.Names(), ", "))
	}
	write := rep.WriteText
	if *jsonOut {
		write = rep.WriteJSON
	}
	if err := write(stdout); err != nil {
		return 2, fmt.Errorf("conform: %w", err)
	}
	var f *conform.Failure
	if errors.As(rep.Err(), &f) {
		return 1, fmt.Errorf("conform: %d case(s) failed: %s", len(f.Failed), strings.Join(f.Names(), ", "))
	}
	return 0, nil
}
