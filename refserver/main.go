// Command refserver is swarmdesk's reference customer-service connection
// server: long connections on gnet event loops, the desk core, the bot,
// routing and fanout, and an admin endpoint with Prometheus metrics.
//
//	go run ./refserver                      # the demo tenant on 127.0.0.1:7400, admin on :7480
//	go run ./refserver --config tenant.yaml # your tenant
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/refserver/daemon"
)

func main() {
	opts := daemon.DefaultOptions()
	fs := pflag.NewFlagSet("refserver", pflag.ContinueOnError)
	fs.StringVar(&opts.Listen, "listen", opts.Listen, "address of the transport: long connections, or HTTP with --transport poll")
	fs.StringVar(&opts.Admin, "admin", opts.Admin, `address of the admin HTTP endpoint (/metrics, /healthz); "" disables it`)
	fs.StringVar(&opts.Transport, "transport", "gnet", "connection-server design: gnet (event loops), netstd (a goroutine per connection) or poll (HTTP short and long polling, PROTOCOL.md's HTTP binding); each runs the same desk core")
	fs.IntVar(&opts.Loops, "loops", opts.Loops, "gnet event loops (0: one per core)")
	fs.StringVar(&opts.ConfigFile, "config", "", "tenant file (YAML) replacing the built-in demo tenant")
	fs.DurationVar(&opts.Server.Heartbeat, "heartbeat", opts.Server.Heartbeat, "client heartbeat interval; silence for three closes a connection")
	fs.IntVar(&opts.Server.MaxFrame, "max-frame", opts.Server.MaxFrame, "largest frame body accepted, bytes")
	fs.IntVar(&opts.Server.MaxOutbound, "max-outbound", opts.Server.MaxOutbound, "bytes queued to one connection before it is closed as a slow reader")
	fs.StringVar(&opts.DataDir, "data-dir", "", "directory of the durable message store (needed by --durability batch|sync)")
	fs.StringVar(&opts.Durability, "durability", opts.Durability, "none (in memory, lost on exit), batch (on disk, synced every few ms; acks do not wait) or sync (acks and deliveries wait for the disk, group commit)")
	fs.Float64Var(&opts.Server.RateLimit, "rate-limit", opts.Server.RateLimit, "frames per second one connection may send, sustained (0: no limit)")
	fs.IntVar(&opts.Server.RateBurst, "rate-burst", opts.Server.RateBurst, "frames one connection may send at once above --rate-limit")
	fs.DurationVar(&opts.Server.FrameTimeout, "frame-timeout", opts.Server.FrameTimeout, "longest a frame may take to arrive once begun")
	fs.IntVar(&opts.Server.MaxConns, "max-conns", 0, "connections held before new ones are refused as overloaded (0: from the open-file limit)")
	fs.IntVar(&opts.Server.MaxOpenChats, "max-open-chats", 0, "open conversations per tenant before new ones are refused as busy (0: no bound)")
	verbose := fs.BoolP("verbose", "v", false, "log debug messages")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "refserver: swarmdesk's reference customer-service server\n\nUsage: refserver [flags]\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(2)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, opts); err != nil {
		opts.Logger.Error("refserver failed", "err", err)
		os.Exit(1)
	}
}
