// Package server is refserver's connection-independent half: the tenants
// (each a desk core behind its own lock), the fanout hub, sessions (hello,
// dispatch of decoded frames to the desk, effects to the hub) and metrics.
// A transport (gnet event loops; later a goroutine per connection, HTTP
// polling) turns bytes into Session.Handle calls and implements
// fanout.Conn, so every transport runs the same semantics.
package server

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/fanout"
	"github.com/swarmdesk/swarmdesk/refserver/routing"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

const statusOnline = routing.Online

// Errors of the server.
var (
	// ErrUnknownTenant is returned for a tenant the server does not serve.
	ErrUnknownTenant = errors.New("server: unknown tenant")
	// ErrTenantGroups is returned when a reload would remove skill groups.
	ErrTenantGroups = errors.New("server: a reload cannot remove skill groups")
)

// Config holds the transport-independent settings.
type Config struct {
	// Heartbeat is how often clients should ping; a connection silent for
	// three heartbeats is closed.
	Heartbeat time.Duration
	// HelloTimeout closes a connection that has not said hello in time.
	HelloTimeout time.Duration
	// MaxFrame bounds a frame body, in bytes.
	MaxFrame int
	// MaxOutbound bounds the bytes queued to one connection; a reader that
	// falls further behind is disconnected as too slow.
	MaxOutbound int
	// Tick is how often timed work runs (queue positions, retention).
	Tick time.Duration
	// RateLimit is how many frames per second one connection may send,
	// sustained (0: no limit); RateBurst how many it may send at once
	// above that. A connection over its limit gets CodeRateLimited and is
	// closed.
	RateLimit float64
	RateBurst int
	// FrameTimeout bounds how long a frame may take to arrive once its
	// first byte has (slow-loris); over it, CodeFrameTimeout and a close.
	FrameTimeout time.Duration
	// MaxConns bounds the connections held: one beyond it gets
	// CodeOverloaded and is closed, and the others go on. 0 derives the
	// bound from the open-file limit (RLIMIT_NOFILE, less a reserve).
	MaxConns int
	// MaxOpenChats bounds each tenant's open conversations (0: no bound):
	// a new one beyond it is refused with CodeBusy and the open ones go
	// on, so memory stays bounded however many customers arrive.
	MaxOpenChats int
	// HoldUntilSync holds every effect of a desk call (acks, deliveries)
	// until the store has synced what the call wrote: durability sync.
	// The held effects of all calls share one sync (group commit).
	HoldUntilSync bool
}

// DefaultConfig returns the settings refserver starts with.
func DefaultConfig() Config {
	return Config{
		Heartbeat:    15 * time.Second,
		HelloTimeout: 10 * time.Second,
		MaxFrame:     wire.DefaultMaxFrame,
		MaxOutbound:  1 << 20,
		Tick:         250 * time.Millisecond,
		RateLimit:    1000,
		RateBurst:    2000,
		FrameTimeout: 10 * time.Second,
	}
}

// Server holds the tenants and the hub. It is safe for concurrent use.
type Server struct {
	cfg     Config
	store   store.Store
	hub     *fanout.Hub
	metrics *Metrics
	now     func() time.Time
	hold    *holder // durability sync: effects wait for the disk
	onFail  func(error)

	mu      sync.RWMutex
	tenants map[string]*Tenant

	broadcastID atomic.Uint64
	restored    atomic.Int64
}

// Tenant is one tenant's desk and the lock that serialises it.
type Tenant struct {
	id   string
	mu   sync.Mutex
	desk *desk.Desk
	fx   desk.Effects // reused under mu
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the server's clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithSyncFailure sets what happens when the store fails to sync while
// effects are held for it (Config.HoldUntilSync): nothing of what was held
// is sent, since it may not be on disk, and fn is told. The default panics,
// as a database does when fsync fails: a server that cannot keep what it
// acknowledges must stop rather than go on acknowledging.
func WithSyncFailure(fn func(error)) Option { return func(s *Server) { s.onFail = fn } }

// New returns a server keeping messages in st and registering its metrics
// in set.
func New(cfg Config, st store.Store, set *metrics.Set, opts ...Option) *Server {
	s := &Server{cfg: cfg, store: st, hub: fanout.NewHub(), now: time.Now, tenants: make(map[string]*Tenant)}
	s.onFail = func(err error) { panic(fmt.Sprintf("refserver: %v: acknowledged messages may be lost; stopping", err)) }
	for _, o := range opts {
		o(s)
	}
	s.metrics = newMetrics(set, s)
	if cfg.HoldUntilSync {
		s.hold = newHolder(s, set, s.onFail)
	}
	return s
}

// Restored returns how many conversations the tenants loaded found in the
// store (after a restart on a durable store).
func (s *Server) Restored() int { return int(s.restored.Load()) }

// Close stops the server's own goroutine (the committer of durability
// sync). Call it after the transport has stopped.
func (s *Server) Close() {
	if s.hold != nil {
		s.hold.close()
	}
}

// Config returns the server's settings.
func (s *Server) Config() Config { return s.cfg }

// Metrics returns the server's metrics, for transports to count into.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Hub returns the fanout hub.
func (s *Server) Hub() *fanout.Hub { return s.hub }

// Now reads the server's clock.
func (s *Server) Now() time.Time { return s.now() }

// LoadTenant starts serving a tenant, or reconfigures one already served
// (its bot, menu and limits change; skill groups may be added, not removed;
// conversations go on).
func (s *Server) LoadTenant(rt *tenant.Runtime) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tenants[rt.Config.ID]; ok {
		t.mu.Lock()
		defer t.mu.Unlock()
		if err := t.desk.Reconfigure(rt); err != nil {
			return fmt.Errorf("reload tenant %s: %w", rt.Config.ID, err)
		}
		return nil
	}
	obs := &observer{m: s.metrics, tenant: rt.Config.ID, waits: map[string]*metrics.Histogram{}}
	d, err := desk.New(rt, s.store, desk.WithObserver(obs), desk.WithMaxOpen(s.cfg.MaxOpenChats))
	if err != nil {
		return fmt.Errorf("load tenant %s: %w", rt.Config.ID, err)
	}
	n, err := d.Restore(s.now())
	if err != nil {
		return fmt.Errorf("load tenant %s: %w", rt.Config.ID, err)
	}
	s.restored.Add(int64(n))
	s.tenants[rt.Config.ID] = &Tenant{id: rt.Config.ID, desk: d}
	return nil
}

func (s *Server) tenant(id string) *Tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tenants[id]
}

func (s *Server) tenantList() []*Tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ts := make([]*Tenant, 0, len(s.tenants))
	for _, t := range s.tenants {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *Tenant) int {
		if a.id < b.id {
			return -1
		}
		if a.id > b.id {
			return 1
		}
		return 0
	})
	return ts
}

// Tenants returns the ids of the tenants served.
func (s *Server) Tenants() []string {
	var ids []string
	for _, t := range s.tenantList() {
		ids = append(ids, t.id)
	}
	return ids
}

// WithDesk runs fn with tenant id's desk locked (admin and tests).
func (s *Server) WithDesk(id string, fn func(*desk.Desk)) error {
	t := s.tenant(id)
	if t == nil {
		return fmt.Errorf("%w: %s", ErrUnknownTenant, id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fn(t.desk)
	return nil
}

// Broadcast sends an announcement to every connected customer of a tenant
// and returns how many devices it was queued to.
func (s *Server) Broadcast(tenantID string, kind wire.Kind, body []byte) (int, error) {
	if s.tenant(tenantID) == nil {
		return 0, fmt.Errorf("broadcast: %w: %s", ErrUnknownTenant, tenantID)
	}
	m := &wire.Broadcast{ID: s.broadcastID.Add(1), ServerTime: s.now().UnixNano(), Kind: kind, Body: body}
	r := s.hub.Broadcast(tenantID, m)
	s.metrics.broadcasts.Inc()
	s.metrics.framesOut.Add(r.Sent)
	s.metrics.dropped.Add(r.Dropped)
	return r.Sent, nil
}

// TickEvery calls Tick every d until stop is closed: the timed work of a
// transport that has no loop of its own to run it on (netstd, poll).
func (s *Server) TickEvery(d time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.Tick()
		}
	}
}

// Tick runs every tenant's timed work; a transport calls it every
// Config.Tick.
func (s *Server) Tick() {
	now := s.now()
	for _, t := range s.tenantList() {
		t.mu.Lock()
		t.fx.Reset()
		t.desk.Tick(now, &t.fx)
		s.apply(t, nil)
		t.mu.Unlock()
	}
}

// apply sends t's pending effects. It runs under t.mu, so the frames of
// one connection are queued in the order the desk produced them.
func (s *Server) apply(t *Tenant, origin fanout.Conn) {
	if s.hold != nil {
		s.hold.add(t, origin)
		t.fx.Reset()
		return
	}
	for i := range t.fx.Out {
		o := &t.fx.Out[i]
		r := s.hub.Deliver(t.id, o, origin)
		s.metrics.framesOut.Add(r.Sent)
		s.metrics.dropped.Add(r.Dropped)
		if o.Type == wire.TDelivery {
			s.metrics.deliveries.Add(r.Sent)
		}
	}
	t.fx.Reset()
}
