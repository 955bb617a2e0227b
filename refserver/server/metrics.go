package server

import (
	"fmt"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Metrics are the server's Prometheus series, in a metrics.Set the caller
// exposes (the admin endpoint writes it).
type Metrics struct {
	set *metrics.Set

	connsCustomer, connsAgent, connsSupervisor, connsPending *metrics.Counter
	framesIn, framesOut                                      *metrics.Counter
	deliveries, dropped                                      *metrics.Counter
	slowReaders, protocolErrors                              *metrics.Counter
	botAnswered, botMenu, botHandoff                         *metrics.Counter
	broadcasts                                               *metrics.Counter
	stored                                                   *metrics.Counter
	httpRequests                                             *metrics.Counter

	// faults counts the connections closed for each 1xx code, indexed by
	// code-100; refusedOverloaded the connections refused at accept.
	faults            [len(faultNames)]*metrics.Counter
	refusedOverloaded *metrics.Counter
}

// faultNames name the connection-fatal codes (100 + index) in the
// disconnect series, as PROTOCOL.md names them.
var faultNames = [...]string{
	"bad-frame", "too-large", "not-hello", "auth", "slow-reader", "idle", "shutdown",
	"dup-hello", "unknown-type", "rate-limited", "overloaded", "frame-timeout", "bad-text",
}

func newMetrics(set *metrics.Set, srv *Server) *Metrics {
	m := &Metrics{set: set}
	m.connsCustomer = set.NewCounter(`swarmdesk_connections{role="customer"}`)
	m.connsAgent = set.NewCounter(`swarmdesk_connections{role="agent"}`)
	m.connsSupervisor = set.NewCounter(`swarmdesk_connections{role="supervisor"}`)
	m.connsPending = set.NewCounter(`swarmdesk_connections{role="none"}`)
	m.framesIn = set.NewCounter(`swarmdesk_frames_in_total`)
	m.framesOut = set.NewCounter(`swarmdesk_frames_out_total`)
	m.deliveries = set.NewCounter(`swarmdesk_deliveries_total`)
	m.dropped = set.NewCounter(`swarmdesk_frames_dropped_total`)
	m.slowReaders = set.NewCounter(`swarmdesk_slow_reader_disconnects_total`)
	m.protocolErrors = set.NewCounter(`swarmdesk_protocol_errors_total`)
	m.botAnswered = set.NewCounter(`swarmdesk_bot_total{outcome="answered"}`)
	m.botMenu = set.NewCounter(`swarmdesk_bot_total{outcome="menu"}`)
	m.botHandoff = set.NewCounter(`swarmdesk_bot_total{outcome="handoff"}`)
	m.broadcasts = set.NewCounter(`swarmdesk_broadcasts_total`)
	m.stored = set.NewCounter(`swarmdesk_messages_stored_total`)
	m.httpRequests = set.NewCounter(`swarmdesk_http_requests_total`)
	for i, name := range faultNames {
		m.faults[i] = set.NewCounter(fmt.Sprintf(`swarmdesk_disconnects_total{code="%d",reason=%q}`, 100+i, name))
	}
	m.refusedOverloaded = set.NewCounter(`swarmdesk_connections_refused_total{reason="overloaded"}`)
	set.RegisterMetricsWriter(srv.writeTenantMetrics)
	return m
}

// conns returns the connection gauge of role (none before hello).
func (m *Metrics) conns(r wire.Role) *metrics.Counter {
	switch r {
	case wire.RoleCustomer:
		return m.connsCustomer
	case wire.RoleAgent:
		return m.connsAgent
	case wire.RoleSupervisor:
		return m.connsSupervisor
	}
	return m.connsPending
}

// SlowReader counts a connection closed for reading too slowly; transports
// call it.
func (m *Metrics) SlowReader() { m.slowReaders.Inc() }

// FrameIn counts a frame received; transports call it.
func (m *Metrics) FrameIn() { m.framesIn.Inc() }

// HTTPRequest counts a request of the HTTP binding (connect, send, poll,
// delete); the polling transport calls it.
func (m *Metrics) HTTPRequest() { m.httpRequests.Inc() }

// ProtocolError counts a connection closed for a protocol fault.
func (m *Metrics) ProtocolError() { m.protocolErrors.Inc() }

// Disconnect counts a connection the server closed with a 1xx error code;
// transports call it once per connection they fault.
func (m *Metrics) Disconnect(code wire.Code) {
	if i := int(code) - 100; i >= 0 && i < len(m.faults) {
		m.faults[i].Inc()
	}
}

// RefusedOverloaded counts a connection refused at accept because the
// server held its maximum (CodeOverloaded).
func (m *Metrics) RefusedOverloaded() { m.refusedOverloaded.Inc() }

// TrackConns exports the connections a transport holds (held is read at
// each scrape) and the bound beyond which it refuses new ones. A transport
// calls it once, when it starts.
func (m *Metrics) TrackConns(held func() int64, bound int) {
	m.set.GetOrCreateGauge(`swarmdesk_connections_held`, func() float64 { return float64(held()) })
	m.set.GetOrCreateGauge(`swarmdesk_connections_max`, func() float64 { return float64(bound) })
}

// observer implements desk.Observer for one tenant.
type observer struct {
	m      *Metrics
	tenant string
	waits  map[string]*metrics.Histogram
}

func (o *observer) Assigned(group string, waited time.Duration) {
	h := o.waits[group]
	if h == nil {
		h = o.m.set.GetOrCreateHistogram(fmt.Sprintf(`swarmdesk_queue_wait_seconds{tenant=%q,group=%q}`, o.tenant, group))
		o.waits[group] = h
	}
	h.Update(waited.Seconds())
}

func (o *observer) Bot(a bot.Action, _ string) {
	switch a {
	case bot.ActionAnswer:
		o.m.botAnswered.Inc()
	case bot.ActionMenu:
		o.m.botMenu.Inc()
	case bot.ActionHandoff:
		o.m.botHandoff.Inc()
	}
}

func (o *observer) Stored(wire.Kind) { o.m.stored.Inc() }

// writeTenantMetrics writes the series read from the desks at scrape time:
// queue length per skill group and agent load.
func (s *Server) writeTenantMetrics(w io.Writer) {
	for _, t := range s.tenantList() {
		t.mu.Lock()
		r := t.desk.Router()
		for _, g := range r.Groups() {
			fmt.Fprintf(w, "swarmdesk_queue_length{tenant=%q,group=%q} %d\n", t.id, g, r.Queued(g))
		}
		active, capacity, online := 0, 0, 0
		for _, id := range t.desk.Agents() {
			if a, ok := r.Agent(id); ok {
				active += a.Active
				if a.Status == statusOnline {
					capacity += a.Max
					online++
				}
			}
		}
		t.mu.Unlock()
		fmt.Fprintf(w, "swarmdesk_agent_chats{tenant=%q} %d\n", t.id, active)
		fmt.Fprintf(w, "swarmdesk_agent_capacity{tenant=%q} %d\n", t.id, capacity)
		fmt.Fprintf(w, "swarmdesk_agents_online{tenant=%q} %d\n", t.id, online)
	}
}
