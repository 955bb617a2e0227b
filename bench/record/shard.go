package record

import (
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Shard is where one event loop or worker records. It is not safe for
// concurrent use: give each loop its own (Recorder.NewShard). It is safe
// against its Recorder, which takes what the shard recorded at every
// interval boundary without stopping it (see the package documentation).
//
// The Record methods, ActionStarted, ActionDropped, Session, AddConnections
// and AddQueued take no lock and, once the shard has seen a metric, do not
// allocate.
type Shard struct {
	ph     phaser
	active atomic.Uint32
	bufs   [2]buffer

	conns  atomic.Int64
	queued atomic.Int64
	down   atomic.Int64 // links dropped and not yet back
	drops  atomic.Int64 // links dropped so far

	lowest, highest int64
	digits          int
	lateBound       time.Duration
	maxChats        int

	// Owned by the shard's writer alone, and read by the Recorder only at
	// Close, once the writer has stopped.
	agents  map[uint64]*agentState
	levels  []time.Duration
	replies []*hdrhistogram.PackedHistogram

	_ [64]byte // keep the next shard's phaser off this one's cache line
}

// buffer is what a shard's writer records into during one phase; the
// Recorder takes the other one.
type buffer struct {
	hist [NumMetrics][2]*hdrhistogram.PackedHistogram // [metric][corrected, raw]
	lag  *hdrhistogram.PackedHistogram
	counts
}

// counts are the plain counters of a buffer or an interval.
type counts struct {
	outOfRange [NumMetrics]int64
	started    int64
	late       int64
	dropped    int64
	sessions   [numSessionEvents]int64
	links      [numLinkEvents]int64
	errors     map[string]int64
	errorCount int64
}

// take adds src's counters to c and zeroes src.
func (c *counts) take(src *counts) {
	for m, n := range src.outOfRange {
		c.outOfRange[m] += n
	}
	c.started += src.started
	c.late += src.late
	c.dropped += src.dropped
	for i, n := range src.sessions {
		c.sessions[i] += n
	}
	for i, n := range src.links {
		c.links[i] += n
	}
	for code, n := range src.errors {
		c.errors[code] += n
	}
	c.errorCount += src.errorCount
	errs := src.errors
	clear(errs)
	*src = counts{errors: errs}
}

// agentState is one agent's concurrency as its shard last saw it.
type agentState struct {
	chats  int
	since  time.Time
	online bool
	max    int
}

func newShard(cfg Config) *Shard {
	s := &Shard{
		lowest:    int64(cfg.Lowest),
		highest:   int64(cfg.Highest),
		digits:    cfg.Digits,
		lateBound: cfg.LateBound,
		maxChats:  cfg.MaxChats,
		agents:    map[uint64]*agentState{},
	}
	for i := range s.bufs {
		s.bufs[i].errors = map[string]int64{}
	}
	return s
}

func (s *Shard) newHistogram() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(s.lowest, s.highest, s.digits)
}

// put records d in h, clamped to the histogram's range, and returns 1 if it
// had to be clamped.
func (s *Shard) put(h *hdrhistogram.PackedHistogram, d time.Duration) int64 {
	v, out := int64(d), int64(0)
	switch {
	case v < 0:
		v, out = 0, 1
	case v > s.highest:
		v, out = s.highest, 1
	}
	_ = h.RecordValue(v) // in range, so it cannot fail
	return out
}

// Record records one event of metric m that was meant to start at
// intended, actually started at sent and completed at done: the corrected
// latency done-intended and the raw latency done-sent. For an event with no
// schedule of its own (a reply the customer waits for), intended and sent
// are the same time.
func (s *Shard) Record(m Metric, intended, sent, done time.Time) {
	s.RecordDurations(m, done.Sub(intended), done.Sub(sent))
}

// RecordDurations records one event of metric m by its corrected latency
// (from the intended start) and raw latency (from the actual start).
// Latencies outside the configured range are recorded clamped to it and
// counted out of range.
func (s *Shard) RecordDurations(m Metric, corrected, raw time.Duration) {
	e := s.ph.enter()
	b := &s.bufs[s.active.Load()]
	p := &b.hist[m]
	if p[0] == nil {
		p[0], p[1] = s.newHistogram(), s.newHistogram()
	}
	b.outOfRange[m] += s.put(p[0], corrected) + s.put(p[1], raw)
	s.ph.exit(e)
}

// ActionStarted records that a scheduled action (a connect, a message, a
// reply) meant to start at intended started at started. It records the lag
// and counts the action late if the lag passes Config.LateBound, and
// returns the lag. Starting early counts as no lag.
func (s *Shard) ActionStarted(intended, started time.Time) time.Duration {
	lag := max(started.Sub(intended), 0)
	e := s.ph.enter()
	b := &s.bufs[s.active.Load()]
	if b.lag == nil {
		b.lag = s.newHistogram()
	}
	s.put(b.lag, lag)
	b.started++
	if lag > s.lateBound {
		b.late++
	}
	s.ph.exit(e)
	return lag
}

// ActionDropped counts a scheduled action the generator gave up without
// starting, because it could not start it in time.
func (s *Shard) ActionDropped() {
	e := s.ph.enter()
	s.bufs[s.active.Load()].dropped++
	s.ph.exit(e)
}

// Session counts a step of a customer session.
func (s *Shard) Session(ev SessionEvent) {
	e := s.ph.enter()
	s.bufs[s.active.Load()].sessions[ev]++
	s.ph.exit(e)
}

// Error counts an error by code: the wire error code in decimal, or a
// client-side name ("connect", "timeout"). The first error of a code
// allocates.
func (s *Shard) Error(code string) {
	e := s.ph.enter()
	b := &s.bufs[s.active.Load()]
	b.errors[code]++
	b.errorCount++
	s.ph.exit(e)
}

// LinkEvent is a step in a simulated connection's way back after the
// server or the network ended it (reports.Reconnects).
type LinkEvent uint8

// The link events.
const (
	// LinkDropped is a connection that had said hello ended by the server
	// or the network, not by its client.
	LinkDropped LinkEvent = iota
	// LinkRedial is a dial made to replace a dropped or failed connection.
	LinkRedial
	// LinkFailed is a dial that ended before the server's ready.
	LinkFailed
	// LinkResumed is a redial that reached ready.
	LinkResumed

	numLinkEvents = iota
)

// Link counts a link event. A LinkDropped also counts in Drops at once.
func (s *Shard) Link(ev LinkEvent) {
	if ev == LinkDropped {
		s.drops.Add(1)
	}
	e := s.ph.enter()
	s.bufs[s.active.Load()].links[ev]++
	s.ph.exit(e)
}

// AddDown adds delta to the number of this shard's links that were
// dropped and are not back yet (reconnected, and caught up with what they
// missed): +1 when one drops, -1 when it is back or its client gives it
// up.
func (s *Shard) AddDown(delta int64) { s.down.Add(delta) }

// AddConnections adds delta (negative when closing) to the number of
// simulated connections this shard holds open.
func (s *Shard) AddConnections(delta int64) { s.conns.Add(delta) }

// AddQueued adds delta to the number of this shard's customers waiting for
// an agent.
func (s *Shard) AddQueued(delta int64) { s.queued.Add(delta) }

// AgentChats says that agent now carries chats chats at once (0 when
// online and idle). Time is weighted by how long each concurrency lasts, so
// call it at every change, with the time of the change.
func (s *Shard) AgentChats(agent uint64, chats int, now time.Time) {
	st := s.agents[agent]
	if st == nil {
		st = &agentState{}
		s.agents[agent] = st
	}
	s.account(st, now)
	chats = max(chats, 0)
	st.chats, st.since, st.online = chats, now, true
	st.max = max(st.max, chats)
}

// AgentOffline says that agent went offline (away, or gone): its time stops
// counting until the next AgentChats.
func (s *Shard) AgentOffline(agent uint64, now time.Time) {
	if st := s.agents[agent]; st != nil {
		s.account(st, now)
		st.online = false
	}
}

// account adds the time st spent at its concurrency up to now.
func (s *Shard) account(st *agentState, now time.Time) {
	if !st.online {
		return
	}
	for len(s.levels) <= st.chats {
		s.levels = append(s.levels, 0)
	}
	if d := now.Sub(st.since); d > 0 {
		s.levels[st.chats] += d
	}
	st.since = now
}

// AgentReply records an agent's reply as the customer perceived it: the
// customer's message meant to go at intended, sent at sent, the reply
// received at done, from an agent then carrying chats chats. It records
// the AgentReply metric and the reply latency at that concurrency (the
// corrected latency; concurrencies above Config.MaxChats count at MaxChats).
func (s *Shard) AgentReply(chats int, intended, sent, done time.Time) {
	s.Record(AgentReply, intended, sent, done)
	level := min(max(chats, 0), s.maxChats)
	for len(s.replies) <= level {
		s.replies = append(s.replies, nil)
	}
	h := s.replies[level]
	if h == nil {
		h = hdrhistogram.NewPacked(s.lowest, s.highest, s.digits)
		s.replies[level] = h
	}
	v := min(max(int64(done.Sub(intended)), 0), s.highest)
	_ = h.RecordValue(v) // in range, so it cannot fail
}

// collect takes what the shard recorded since the last collect into iv.
// Only the Recorder calls it, holding its lock.
func (s *Shard) collect(iv *interval) {
	old := s.active.Load()
	s.active.Store(1 - old)
	s.ph.flip()
	b := &s.bufs[old]
	for m := range b.hist {
		for k, h := range b.hist[m] {
			if h != nil && h.TotalCount() > 0 {
				iv.hist[m][k].Merge(h)
				h.Reset()
			}
		}
	}
	if b.lag != nil && b.lag.TotalCount() > 0 {
		iv.lag.Merge(b.lag)
		b.lag.Reset()
	}
	iv.take(&b.counts)
}
