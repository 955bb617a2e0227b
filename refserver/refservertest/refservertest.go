// Package refservertest starts a real refserver for tests, in the manner of
// net/http/httptest: NewServer listens on 127.0.0.1 with a free port, and
// Close blocks until everything stopped. Client is a small blocking
// protocol client for tests and conformance checks.
package refservertest

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/daemon"
	"github.com/swarmdesk/swarmdesk/refserver/server"
)

// Server is a refserver running in this process.
type Server struct {
	// Addr is the long-connection address, host:port.
	Addr string
	// AdminURL is the admin endpoint's base URL, http://host:port.
	AdminURL string

	d *daemon.Daemon
}

// Option adjusts the options a test server starts with.
type Option func(*daemon.Options)

// WithConfig serves the tenant file path instead of the demo tenant.
func WithConfig(path string) Option { return func(o *daemon.Options) { o.ConfigFile = path } }

// WithServerConfig adjusts the protocol settings.
func WithServerConfig(fn func(*server.Config)) Option {
	return func(o *daemon.Options) { fn(&o.Server) }
}

// WithDurability keeps messages in a durable store under dir: durability
// "batch" or "sync" (see refserver --durability).
func WithDurability(durability, dir string) Option {
	return func(o *daemon.Options) { o.Durability, o.DataDir = durability, dir }
}

// WithTransport serves on transport name (daemon.Transports: gnet, the
// default, netstd or poll). With poll, Addr is an HTTP address: the
// blocking Client here speaks long connections only.
func WithTransport(name string) Option { return func(o *daemon.Options) { o.Transport = name } }

// WithLogger sets the server's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *daemon.Options) { o.Logger = l } }

// NewServer starts a refserver on 127.0.0.1 with free ports, two event
// loops and the demo tenant. It panics if the server cannot start: a test
// cannot go on without it.
func NewServer(opts ...Option) *Server {
	o := daemon.DefaultOptions()
	o.Listen = "127.0.0.1:0"
	o.Admin = "127.0.0.1:0"
	o.Loops = 2
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, fn := range opts {
		fn(&o)
	}
	d, err := daemon.Start(o)
	if err != nil {
		panic(fmt.Sprintf("refservertest: start server: %v", err))
	}
	return &Server{Addr: d.Addr(), AdminURL: "http://" + d.AdminAddr(), d: d}
}

// Metrics returns the admin endpoint's /metrics page (Prometheus text).
func (s *Server) Metrics() (string, error) {
	resp, err := http.Get(s.AdminURL + "/metrics")
	if err != nil {
		return "", fmt.Errorf("get metrics: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get metrics: %s: %s", resp.Status, b)
	}
	return string(b), nil
}

// Metric returns the value of one series of /metrics, named as it appears
// there (e.g. `swarmdesk_connections{role="customer"}`); ok is false when
// the page lacks it.
func (s *Server) Metric(series string) (v float64, ok bool, err error) {
	page, err := s.Metrics()
	if err != nil {
		return 0, false, err
	}
	for _, line := range strings.Split(page, "\n") {
		if rest, found := strings.CutPrefix(line, series+" "); found {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, false, fmt.Errorf("metric %s: %w", series, err)
			}
			return v, true, nil
		}
	}
	return 0, false, nil
}

// Core returns the server core, to inspect desks in tests.
func (s *Server) Core() *server.Server { return s.d.Server() }

// Close shuts the server down and waits for it; it panics with what hung
// if that takes longer than 15 seconds.
func (s *Server) Close() {
	done := make(chan error, 1)
	go func() { done <- s.d.Close() }()
	select {
	case err := <-done:
		if err != nil {
			panic(fmt.Sprintf("refservertest: close: %v", err))
		}
	case <-time.After(15 * time.Second):
		panic("refservertest: close hung for 15s (transport shutdown or admin endpoint)")
	}
}
