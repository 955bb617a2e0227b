// Command floor measures the floor under bench's connections scenario: a
// bare client and a bare server doing the same connect and hello, with
// nothing else, so that bench's CPU against the server's can be judged
// against theirs (DESIGN.md §7; on loopback the dialler pays for both
// halves of the TCP handshake, so even a bare client costs more than its
// server).
//
//	go run ./tools/floor                        # 15,000 connections, held 5s
//	go run ./tools/floor --conns 1000 --json out/floor.json
//
// It starts the bare server as a child process of itself (floor serve
// --addr 127.0.0.1:0, which prints its address and ends when its stdin
// does), then, in its own process, connects --conns connections to it over
// loopback, writes one hello frame on each and reads the server's one
// answer (a ready), holds them idle for --hold, closes them and stops the
// server. Both sides are a single epoll loop (package tools/floor/floor
// says why, with the measurements against plain Go net). --conns is capped to what
// RLIMIT_NOFILE allows (raised to the hard limit first), and floor says so.
// It prints both processes' CPU (from /proc/PID/stat) over the connect
// phase and the hold, their ratio, and their peak RSS growth per
// connection; --json writes the same as JSON (package
// tools/floor/floor's Result).
//
// Exit status: 0 every connection held and answered; 1 some were not (the
// report says how many); 2 bad usage or a failure to run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/tools/floor/floor"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "serve" {
		return serve(args[1:], stdin, stdout, stderr)
	}
	fs := pflag.NewFlagSet("floor", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	conns := fs.Int("conns", floor.DefaultConns, "connections to hold (capped to what RLIMIT_NOFILE allows)")
	hold := fs.Duration("hold", floor.DefaultHold, "how long to hold them idle once connected")
	inFlight := fs.Int("in-flight", floor.DefaultInFlight, "connections set up at once")
	out := fs.String("json", "", "write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *conns <= 0 || *hold <= 0 || *inFlight <= 0 {
		fmt.Fprintln(stderr, "usage: floor [--conns N] [--hold D] [--in-flight N] [--json FILE] | floor serve [--addr A]")
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "floor: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := floor.Run(ctx, floor.Options{
		Conns: *conns, Hold: *hold, InFlight: *inFlight, Log: stderr,
		Server: func() *exec.Cmd { return exec.Command(exe, "serve", "--addr", "127.0.0.1:0") },
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	floor.Summary(stdout, res)
	if *out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err == nil {
			if err = os.MkdirAll(filepath.Dir(*out), 0o755); err == nil {
				err = os.WriteFile(*out, append(b, '\n'), 0o644)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "floor: write %s: %v\n", *out, err)
			return 2
		}
	}
	if !res.Held() {
		return 1
	}
	return 0
}

// serve is the bare server's command.
func serve(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("floor serve", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if _, err := swarm.RaiseLimit(); err != nil {
		fmt.Fprintf(stderr, "floor serve: %v\n", err)
	}
	if err := floor.ServeMain(*addr, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "floor serve: %v\n", err)
		return 2
	}
	return 0
}
