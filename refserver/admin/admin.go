// Package admin is refserver's HTTP endpoint, on fasthttp: Prometheus
// metrics, a health check, and the operator's API (load a tenant, send a
// tenant broadcast).
//
//	GET  /healthz            200 "ok" while serving, 503 while stopping
//	GET  /metrics            Prometheus text format
//	GET  /admin/tenants      JSON list of tenant ids
//	POST /admin/tenants      body: a tenant document (YAML, refserver/tenant/FORMAT.md)
//	POST /admin/broadcast    body: {"tenant": "demo", "kind": "text", "body": "..."}
//	GET  /debug/pprof/...    the Go runtime's profiles (bind the admin address to loopback)
package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"

	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Server is the admin endpoint.
type Server struct {
	srv      *server.Server
	set      *metrics.Set
	http     *fasthttp.Server
	ln       net.Listener
	stopping atomic.Bool
	done     chan error
}

// New returns an admin endpoint for srv exposing the metrics in set.
func New(srv *server.Server, set *metrics.Set) *Server {
	a := &Server{srv: srv, set: set, done: make(chan error, 1)}
	a.http = &fasthttp.Server{
		Handler:            a.handle,
		Name:               "swarmdesk-refserver",
		MaxRequestBodySize: 16 << 20,
	}
	return a
}

// Start listens on addr and serves in the background.
func (a *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", addr, err)
	}
	a.ln = ln
	go func() { a.done <- a.http.Serve(ln) }()
	return nil
}

// Addr returns the address the endpoint listens on.
func (a *Server) Addr() string { return a.ln.Addr().String() }

// Stopping makes /healthz answer 503, so a balancer drains this node.
func (a *Server) Stopping() { a.stopping.Store(true) }

// Shutdown stops the endpoint and waits for open requests.
func (a *Server) Shutdown() error {
	a.stopping.Store(true)
	if err := a.http.Shutdown(); err != nil {
		return fmt.Errorf("admin shutdown: %w", err)
	}
	if err := <-a.done; err != nil {
		return fmt.Errorf("admin serve: %w", err)
	}
	return nil
}

func (a *Server) handle(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/healthz" && ctx.IsGet():
		if a.stopping.Load() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString("stopping\n")
			return
		}
		ctx.SetBodyString("ok\n")
	case path == "/metrics" && ctx.IsGet():
		ctx.SetContentType("text/plain; version=0.0.4")
		a.set.WritePrometheus(ctx)
		metrics.WriteProcessMetrics(ctx)
	case path == "/admin/tenants" && ctx.IsGet():
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"tenants": a.srv.Tenants()})
	case path == "/admin/tenants" && ctx.IsPost():
		a.loadTenant(ctx)
	case path == "/admin/broadcast" && ctx.IsPost():
		a.broadcast(ctx)
	case strings.HasPrefix(path, "/debug/pprof/") && ctx.IsGet():
		// The runtime's profiles, as net/http/pprof serves them: go tool
		// pprof http://ADMIN/debug/pprof/profile?seconds=10
		pprofhandler.PprofHandler(ctx)
	default:
		writeError(ctx, fasthttp.StatusNotFound, fmt.Errorf("no route %s %s", ctx.Method(), path))
	}
}

func (a *Server) loadTenant(ctx *fasthttp.RequestCtx) {
	cfg, err := tenant.Parse(ctx.PostBody(), "request body")
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, err)
		return
	}
	rt, err := tenant.Build(cfg)
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, err)
		return
	}
	if err := a.srv.LoadTenant(rt); err != nil {
		writeError(ctx, fasthttp.StatusConflict, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"tenant": cfg.ID})
}

// BroadcastRequest is the body of POST /admin/broadcast.
type BroadcastRequest struct {
	Tenant string `json:"tenant"`
	Kind   string `json:"kind"` // text (default), image, location, order-card
	Body   string `json:"body"`
}

var kinds = map[string]wire.Kind{
	"": wire.KindText, "text": wire.KindText, "image": wire.KindImage,
	"location": wire.KindLocation, "order-card": wire.KindOrderCard,
}

func (a *Server) broadcast(ctx *fasthttp.RequestCtx) {
	var req BroadcastRequest
	dec := json.NewDecoder(bytes.NewReader(ctx.PostBody()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, fmt.Errorf("broadcast request: %w", err))
		return
	}
	kind, ok := kinds[req.Kind]
	if !ok {
		writeError(ctx, fasthttp.StatusBadRequest, fmt.Errorf("broadcast request: unknown kind %q", req.Kind))
		return
	}
	if req.Body == "" {
		writeError(ctx, fasthttp.StatusBadRequest, errors.New("broadcast request: empty body"))
		return
	}
	n, err := a.srv.Broadcast(req.Tenant, kind, []byte(req.Body))
	if err != nil {
		status := fasthttp.StatusBadRequest
		if errors.Is(err, server.ErrUnknownTenant) {
			status = fasthttp.StatusNotFound
		}
		writeError(ctx, status, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"tenant": req.Tenant, "recipients": n})
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	_ = json.NewEncoder(ctx).Encode(v)
}

func writeError(ctx *fasthttp.RequestCtx, status int, err error) {
	writeJSON(ctx, status, map[string]string{"error": err.Error()})
}
