// Package daemon assembles a running refserver from its parts: the tenant
// configuration, the store, the server core, a transport (gnet event
// loops, a goroutine per connection, or HTTP polling) and the admin
// endpoint. refserver's main parses flags into Options and calls Run;
// tests and the bench start one in-process with Start.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/swarmdesk/swarmdesk/refserver/admin"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/transport/gnet"
	"github.com/swarmdesk/swarmdesk/refserver/transport/netstd"
	"github.com/swarmdesk/swarmdesk/refserver/transport/poll"
)

// Transports are the connection-server designs refserver runs the one
// desk core on (--transport), the default first.
var Transports = []string{"gnet", "netstd", "poll"}

// transport is what the daemon needs of a connection server.
type transport interface {
	Start() error
	Addr() string
	MaxConns() int
	Shutdown(ctx context.Context) error
}

// newTransport returns the transport opts name, serving srv.
func newTransport(srv *server.Server, opts Options) (transport, error) {
	switch opts.Transport {
	case "", "gnet":
		return gnet.New(srv, opts.Listen, gnet.WithLoops(opts.Loops), gnet.WithLogger(opts.Logger)), nil
	case "netstd":
		return netstd.New(srv, opts.Listen, netstd.WithLogger(opts.Logger)), nil
	case "poll":
		return poll.New(srv, opts.Listen, poll.WithLogger(opts.Logger)), nil
	}
	return nil, fmt.Errorf("transport %q: want one of %v", opts.Transport, Transports)
}

// Options are refserver's settings, as its flags set them.
type Options struct {
	Listen     string        // the transport's address (long connections, or HTTP for poll), host:port
	Transport  string        // gnet (default), netstd or poll
	Admin      string        // admin HTTP, host:port ("" = none)
	Loops      int           // gnet event loops (0 = one per core)
	ConfigFile string        // tenant file; "" = the built-in demo tenant
	DataDir    string        // the durable store's directory (durability batch or sync)
	Durability string        // none (in memory), batch or sync
	Server     server.Config // protocol settings
	StopGrace  time.Duration // how long a shutdown may take
	Logger     *slog.Logger
}

// DefaultOptions returns the settings `refserver` runs with when given no
// flags.
func DefaultOptions() Options {
	return Options{
		Listen:     "127.0.0.1:7400",
		Durability: "none",
		Admin:      "127.0.0.1:7480",
		Server:     server.DefaultConfig(),
		StopGrace:  10 * time.Second,
	}
}

// Daemon is a running refserver.
type Daemon struct {
	opts      Options
	store     store.Store
	srv       *server.Server
	transport transport
	admin     *admin.Server
}

// Start loads the tenant, starts listening and returns the running server.
func Start(opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg := tenant.Demo()
	if opts.ConfigFile != "" {
		c, err := tenant.Load(opts.ConfigFile)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if opts.Transport == "" {
		opts.Transport = "gnet"
	}
	rt, err := tenant.Build(cfg)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", cfg.ID, err)
	}
	st, dur, err := openStore(opts)
	if err != nil {
		return nil, err
	}
	opts.Server.HoldUntilSync = dur == store.DurabilitySync
	d := &Daemon{opts: opts, store: st}
	set := metrics.NewSet()
	d.srv = server.New(opts.Server, d.store, set)
	loaded := time.Now()
	if err := d.srv.LoadTenant(rt); err != nil {
		d.srv.Close()
		return nil, errors.Join(err, st.Close())
	}
	if dur != store.DurabilityNone {
		opts.Logger.Info("store opened", "durability", dur, "dir", opts.DataDir,
			"restored", d.srv.Restored(), "took", time.Since(loaded).Round(time.Microsecond))
	}
	tr, err := newTransport(d.srv, opts)
	if err == nil {
		d.transport = tr
		err = tr.Start()
	}
	if err != nil {
		d.srv.Close()
		return nil, errors.Join(err, d.store.Close())
	}
	if opts.Admin != "" {
		d.admin = admin.New(d.srv, set)
		if err := d.admin.Start(opts.Admin); err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), opts.StopGrace)
			defer cancel()
			return nil, errors.Join(err, d.transport.Shutdown(ctx))
		}
	}
	// gomaxprocs: the CPUs the runtime sized itself to (bench places its
	// embedded server on a CPU set and reads it back from this line).
	opts.Logger.Info("refserver serving", "listen", d.Addr(), "admin", d.AdminAddr(), "transport", opts.Transport, "tenants", d.srv.Tenants(), "gomaxprocs", runtime.GOMAXPROCS(0))
	return d, nil
}

// Addr returns the address of the long-connection listener.
func (d *Daemon) Addr() string { return d.transport.Addr() }

// AdminAddr returns the admin endpoint's address ("" when there is none).
func (d *Daemon) AdminAddr() string {
	if d.admin == nil {
		return ""
	}
	return d.admin.Addr()
}

// Server returns the server core, for inspection by tests.
func (d *Daemon) Server() *server.Server { return d.srv }

// Close stops accepting, flushes and closes every connection, stops the
// admin endpoint and closes the store.
func (d *Daemon) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.StopGrace)
	defer cancel()
	var errs []error
	if d.admin != nil {
		d.admin.Stopping()
	}
	start := time.Now()
	if err := d.transport.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	d.opts.Logger.Debug("transport stopped", "took", time.Since(start))
	if d.admin != nil {
		if err := d.admin.Shutdown(); err != nil {
			errs = append(errs, err)
		}
		d.opts.Logger.Debug("admin stopped", "took", time.Since(start))
	}
	d.srv.Close()
	if err := d.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}

// openStore opens the store opts ask for: in memory for durability none,
// Pebble under the data directory for batch and sync.
func openStore(opts Options) (store.Store, store.Durability, error) {
	dur, err := store.ParseDurability(opts.Durability)
	if err != nil {
		return nil, 0, err
	}
	if dur == store.DurabilityNone {
		if opts.DataDir != "" {
			return nil, 0, fmt.Errorf("--data-dir %s with durability none: the in-memory store keeps nothing on disk (use --durability batch or sync)", opts.DataDir)
		}
		return store.NewMem(0), dur, nil
	}
	if opts.DataDir == "" {
		return nil, 0, fmt.Errorf("durability %s needs a data directory (--data-dir)", dur)
	}
	st, err := store.OpenPebble(opts.DataDir, store.PebbleOptions{Durability: dur})
	if err != nil {
		return nil, 0, err
	}
	return st, dur, nil
}

// Run starts a refserver and serves until ctx is done, then shuts down
// cleanly.
func Run(ctx context.Context, opts Options) error {
	d, err := Start(opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	if opts.Logger != nil {
		opts.Logger.Info("refserver stopping")
	}
	return d.Close()
}
