package swarm

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// maxFirePass bounds the timers fired under one hold of the lock, so that
// the event loop gets its turn during a burst.
const maxFirePass = 1024

// Loop is one event loop of a Runtime: a gnet client, a timer heap and the
// lock that serializes every call into the actors placed on it. It
// implements behavior.Scheduler and behavior.Dialer; give it to the
// actors of one behavior.Env.
type Loop struct {
	rt  *Runtime
	idx int
	cli *gnet.Client

	mu     sync.Mutex
	inLoop bool // the gnet event loop holds mu (Write is allowed)
	heap   timerHeap
	seq    uint64
	enc    []byte        // frame scratch for on-loop sends
	msgs   [32]wire.Msg  // decode targets, by type, reused
	wake   chan struct{} // an earlier timer was set
	open   atomic.Int64  // links open
	fired  atomic.Uint64 // timers fired
	maxLag atomic.Int64  // worst timer lateness seen, wall ns
	h      *handler

	// bytesIn and bytesOut count the frames' bytes over TCP.
	bytesIn, bytesOut atomic.Int64

	links []*link // open links, for heartbeats; link.slot is the index
	beats uint32  // heartbeat sweeps so far: the loop's coarse clock, in seconds
	nonce uint64  // the last ping's nonce
}

var (
	_ behavior.Scheduler = (*Loop)(nil)
	_ behavior.Dialer    = (*Loop)(nil)
)

func newLoop(rt *Runtime, idx int) (*Loop, error) {
	lp := &Loop{rt: rt, idx: idx, wake: make(chan struct{}, 1)}
	lp.h = &handler{lp: lp}
	cli, err := gnet.NewClient(lp.h,
		gnet.WithNumEventLoop(1),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(nopLogger{}),
		gnet.WithReadBufferCap(64<<10),
	)
	if err != nil {
		return nil, fmt.Errorf("new gnet client: %w", err)
	}
	if err := cli.Start(); err != nil {
		return nil, fmt.Errorf("start gnet client: %w", err)
	}
	lp.cli = cli
	return lp, nil
}

// heartbeat is a loop's keep-alive actor. Once a second of wall time it
// pings every open link that has sent nothing for the server's heartbeat
// interval (ready.heartbeat_ms), as the protocol asks of clients, so that
// an idle simulated customer is not closed by the server (error 105).
type heartbeat struct{ lp *Loop }

func (heartbeat) Receive(int, wire.Msg) {}
func (heartbeat) Dropped(int, error)    {}

// Timer implements behavior.Actor.
func (h heartbeat) Timer(uint64) { h.lp.beat() }

// beat pings the links silent for a heartbeat and sets the next beat.
func (lp *Loop) beat() {
	lp.beats++
	if ms := lp.rt.heartbeat.Load(); ms > 0 {
		every := uint32(max(ms/1000, 1))
		for _, l := range lp.links {
			if lp.beats-l.lastSend >= every {
				lp.nonce++
				_ = l.Send(&wire.Ping{Nonce: lp.nonce}) // a failed write drops the link
			}
		}
	}
	if !lp.rt.closing.Load() {
		lp.At(lp.rt.Now().Add(lp.rt.scenario(time.Second)), heartbeat{lp}, 0)
	}
}

// enlist adds an open link to the heartbeat list.
func (lp *Loop) enlist(l *link) {
	l.slot = int32(len(lp.links))
	l.lastSend = lp.beats
	lp.links = append(lp.links, l)
}

// delist removes a link from the heartbeat list.
func (lp *Loop) delist(l *link) {
	i := int(l.slot)
	if i < 0 || i >= len(lp.links) || lp.links[i] != l {
		return
	}
	last := len(lp.links) - 1
	lp.links[i] = lp.links[last]
	lp.links[i].slot = int32(i)
	lp.links[last] = nil
	lp.links = lp.links[:last]
	l.slot = -1
}

// Index is the loop's number in its runtime.
func (lp *Loop) Index() int { return lp.idx }

// Now implements behavior.Scheduler: the current scenario time.
func (lp *Loop) Now() time.Time { return lp.rt.Now() }

// At implements behavior.Scheduler: it calls a.Timer(token) from this
// loop's timer goroutine, under the loop's lock, once Now has reached t.
// It must be called under the loop's lock (from an actor, or in Do).
func (lp *Loop) At(t time.Time, a behavior.Actor, token uint64) {
	lp.seq++
	lp.heap.push(timer{at: t, seq: lp.seq, a: a, token: token})
	if lp.heap[0].seq == lp.seq {
		select {
		case lp.wake <- struct{}{}:
		default:
		}
	}
}

// Do runs fn under the loop's lock, serialized with every call into the
// loop's actors: start actors and read their state with it.
func (lp *Loop) Do(fn func()) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	fn()
}

// MaxTimerLag returns the latest a timer has fired after its due time, in
// wall time.
func (lp *Loop) MaxTimerLag() time.Duration { return time.Duration(lp.maxLag.Load()) }

// timers fires due timers until the runtime stops.
func (lp *Loop) timers() {
	defer lp.rt.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait := lp.fire()
		if wait >= 0 {
			t.Reset(wait)
		} else {
			t.Stop()
		}
		select {
		case <-lp.rt.stop:
			return
		case <-lp.wake:
		case <-t.C:
		}
	}
}

// fire runs the due timers and returns the wall time until the next one,
// 0 to come back at once, or -1 when none is set.
func (lp *Loop) fire() time.Duration {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	now := lp.rt.Now()
	for range maxFirePass {
		if len(lp.heap) == 0 {
			return -1
		}
		if lp.heap[0].at.After(now) {
			return lp.rt.wall(lp.heap[0].at.Sub(now))
		}
		e := lp.heap.pop()
		if lag := lp.rt.wall(now.Sub(e.at)); int64(lag) > lp.maxLag.Load() {
			lp.maxLag.Store(int64(lag))
		}
		lp.fired.Add(1)
		e.a.Timer(e.token)
	}
	return 0
}

// Dial implements behavior.Dialer. It returns at once with a link that
// buffers sends until the connection is up; a worker dials and enrolls it.
// With Options.Poll the link is an HTTP session, which connects when the
// actor sends its first frame (its hello). It must be called under the
// loop's lock.
func (lp *Loop) Dial(a behavior.Actor, device int) (behavior.Link, error) {
	if lp.rt.closing.Load() {
		return nil, fmt.Errorf("swarm: dial: %w", ErrClosed)
	}
	if lp.rt.poll != nil {
		return lp.dialPoll(a, device), nil
	}
	l := &link{loop: lp, a: a, dev: int32(device), state: stDialing}
	select {
	case lp.rt.dials <- l:
		return l, nil
	default:
		return nil, fmt.Errorf("swarm: dial: %w", ErrDialQueueFull)
	}
}

// decode decodes a frame body into the loop's reused message of its type.
func (lp *Loop) decode(body []byte) (wire.Msg, error) {
	t, payload, err := wire.Parse(body)
	if err != nil {
		return nil, err
	}
	if int(t) >= len(lp.msgs) {
		return wire.Decode(body)
	}
	m := lp.msgs[t]
	if m == nil {
		m = wire.New(t)
		lp.msgs[t] = m
	}
	if err := m.Decode(payload); err != nil {
		return nil, fmt.Errorf("decode %s: %w", t, err)
	}
	return m, nil
}

// link states.
const (
	stDialing uint8 = iota
	stOpen
	stClosed  // closed by its actor
	stDropped // ended by the server, a failure or the runtime
)

// link is one connection of an actor: what it costs per simulated
// connection on top of gnet's conn.
type link struct {
	loop     *Loop
	a        behavior.Actor
	conn     gnet.Conn
	pending  []byte // frames sent before the connection was up
	dev      int32
	slot     int32  // index in loop.links while open
	lastSend uint32 // loop.beats at the last send
	state    uint8
}

// Send implements behavior.Link. It encodes m before it returns.
func (l *link) Send(m wire.Msg) error {
	switch l.state {
	case stDialing:
		l.pending = m.AppendFrame(l.pending)
		return nil
	case stOpen:
	default:
		return fmt.Errorf("swarm: send %s: %w", m.Type(), ErrLinkClosed)
	}
	lp := l.loop
	l.lastSend = lp.beats
	if lp.inLoop {
		lp.enc = m.AppendFrame(lp.enc[:0])
		lp.bytesOut.Add(int64(len(lp.enc)))
		if _, err := l.conn.Write(lp.enc); err != nil {
			return fmt.Errorf("swarm: send %s: %w", m.Type(), err)
		}
		return nil
	}
	rt := lp.rt
	b := rt.getBuf()
	*b = m.AppendFrame(*b)
	lp.bytesOut.Add(int64(len(*b)))
	err := l.conn.AsyncWrite(*b, func(gnet.Conn, error) error {
		rt.putBuf(b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("swarm: send %s: %w", m.Type(), err)
	}
	return nil
}

// Close implements behavior.Link: it ends the link without reporting
// Dropped to its actor.
func (l *link) Close() error {
	switch l.state {
	case stDialing:
		l.state = stClosed // OnOpen closes the connection, if it comes up
		l.pending = nil
		return nil
	case stOpen:
		l.state = stClosed
		l.loop.open.Add(-1)
		l.loop.delist(l)
		if err := l.conn.Close(); err != nil {
			return fmt.Errorf("swarm: close link: %w", err)
		}
	}
	return nil
}

// handler is a loop's gnet event handler.
type handler struct {
	gnet.BuiltinEventEngine
	lp *Loop
}

// OnOpen marks the link open and flushes what was sent while dialing.
func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	l, ok := c.Context().(*link)
	if !ok {
		return nil, gnet.Close
	}
	lp := h.lp
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if l.state != stDialing || lp.rt.closing.Load() {
		return nil, gnet.Close
	}
	l.conn = c
	l.state = stOpen
	lp.open.Add(1)
	lp.enlist(l)
	out := l.pending
	l.pending = nil
	lp.bytesOut.Add(int64(len(out)))
	return out, gnet.None
}

// OnTraffic splits whole frames, decodes each in place and hands it to
// the actor; a partial frame stays in gnet's buffer.
func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	l, ok := c.Context().(*link)
	if !ok {
		return gnet.Close
	}
	lp := h.lp
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.inLoop = true
	defer func() { lp.inLoop = false }()
	buf, _ := c.Peek(-1)
	off := 0
	var ferr error
	for l.state == stOpen {
		body, n, err := wire.Split(buf[off:], lp.rt.opts.MaxFrame)
		if errors.Is(err, wire.ErrShort) {
			break
		}
		if err != nil {
			ferr = err
			break
		}
		off += n
		m, err := lp.decode(body)
		if err != nil {
			ferr = err
			break
		}
		if r, ok := m.(*wire.Ready); ok && r.HeartbeatMS > 0 {
			lp.rt.heartbeat.Store(int64(r.HeartbeatMS))
		}
		l.a.Receive(int(l.dev), m)
	}
	if ferr != nil || l.state != stOpen {
		lp.bytesIn.Add(int64(len(buf)))
		_, _ = c.Discard(-1)
		if ferr != nil && l.state == stOpen {
			l.drop(fmt.Errorf("swarm: bad frame from server: %w", ferr))
			return gnet.Close
		}
		return gnet.None
	}
	lp.bytesIn.Add(int64(off))
	_, _ = c.Discard(off)
	return gnet.None
}

// OnClose reports Dropped for a link its actor did not close.
func (h *handler) OnClose(c gnet.Conn, err error) gnet.Action {
	l, ok := c.Context().(*link)
	if !ok {
		return gnet.None
	}
	lp := h.lp
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if l.state != stOpen {
		return gnet.None
	}
	if err == nil {
		err = io.EOF
	}
	l.drop(fmt.Errorf("swarm: connection closed: %w", err))
	return gnet.None
}

// drop ends an open link and tells its actor, unless the runtime closes.
func (l *link) drop(err error) {
	l.state = stDropped
	l.loop.open.Add(-1)
	l.loop.delist(l)
	if !l.loop.rt.closing.Load() {
		l.a.Dropped(int(l.dev), err)
	}
}

// nopLogger silences gnet's logger.
type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Fatalf(string, ...any) {}
