package swarm

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// maxFirePass bounds the timers fired in one pass of a loop, so that
// ready connections get their turn during a burst.
const maxFirePass = 1024

// timerSlack is how much later than due, in wall time, a loop may fire a
// timer so that it shares a wake-up with a later one. Each wake-up costs a
// timerfd_settime, a park and an unpark of the loop's goroutine (a tenth of
// the loop's CPU at smoke's half load, measured under perf), and the
// action lag objective is a millisecond at p99.
const timerSlack = 200 * time.Microsecond

// Loop is one event loop of a Runtime: a goroutine that owns an epoll set
// of connections and a timer heap, and calls every actor placed on it. It
// implements behavior.Scheduler and behavior.Dialer; give it to the
// actors of one behavior.Env.
type Loop struct {
	rt  *Runtime
	idx int
	ep  *poller

	// mu is held by the loop goroutine for each pass (once per wake-up,
	// not per action), by Do, and by poll links' goroutines when they
	// call actors.
	mu     sync.Mutex
	inLoop bool // the loop goroutine holds mu
	kick   bool // work was queued outside a pass: wake the loop
	closed bool // the loop has ended and released its descriptors
	heap   timerHeap
	seq    uint64
	armed  time.Time    // scenario time the timerfd is set for; zero if unset
	msgs   [32]wire.Msg // decode targets, by type, reused
	open   atomic.Int64 // links open
	maxLag atomic.Int64 // worst timer lateness seen, wall ns

	// bytesIn and bytesOut count the frames' bytes over TCP.
	bytesIn, bytesOut atomic.Int64

	conns

	links []*link // open links, for heartbeats; link.slot is the index
	beats uint32  // heartbeat sweeps so far: the loop's coarse clock, in seconds
	nonce uint64  // the last ping's nonce
}

var (
	_ behavior.Scheduler = (*Loop)(nil)
	_ behavior.Dialer    = (*Loop)(nil)
)

func newLoop(rt *Runtime, idx int) (*Loop, error) {
	ep, err := newPoller()
	if err != nil {
		return nil, err
	}
	lp := &Loop{rt: rt, idx: idx, ep: ep}
	if rt.poll == nil {
		lp.rbuf = make([]byte, readBuf) // poll links read through fasthttp
	}
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

// beat pings the links silent for a heartbeat, ends connects that took
// too long, and sets the next beat.
func (lp *Loop) beat() {
	lp.beats++
	lp.expireDials()
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
func (lp *Loop) delist(l *link) { lp.links = unlist(lp.links, l) }

// unlist removes l from list, where l.slot is its index, moving the last
// link into its place.
func unlist(list []*link, l *link) []*link {
	i := int(l.slot)
	if i < 0 || i >= len(list) || list[i] != l {
		return list
	}
	last := len(list) - 1
	list[i] = list[last]
	list[i].slot = int32(i)
	list[last] = nil
	l.slot = -1
	return list[:last]
}

// Index is the loop's number in its runtime.
func (lp *Loop) Index() int { return lp.idx }

// Now implements behavior.Scheduler: the current scenario time.
func (lp *Loop) Now() time.Time { return lp.rt.Now() }

// At implements behavior.Scheduler: it calls a.Timer(token) from this
// loop, once Now has reached t. It must be called from an actor or in Do.
func (lp *Loop) At(t time.Time, a behavior.Actor, token uint64) {
	lp.seq++
	lp.heap.push(timer{at: t, seq: lp.seq, a: a, token: token})
	if !lp.inLoop && lp.heap[0].seq == lp.seq {
		lp.rearm() // outside a pass (Do, a poll link): set the timerfd now
	}
}

// Do runs fn serialized with every call into the loop's actors: start
// actors and read their state with it. It must not be called from an
// actor.
func (lp *Loop) Do(fn func()) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	fn()
	if lp.kick && !lp.closed {
		lp.kick = false
		lp.ep.wake()
	}
}

// MaxTimerLag returns the latest a timer has fired after its due time, in
// wall time.
func (lp *Loop) MaxTimerLag() time.Duration { return time.Duration(lp.maxLag.Load()) }

// run is the loop's goroutine: it parks in Go's network poller until the
// epoll set is readable (a connection, the timerfd or the eventfd), then
// makes passes until nothing is ready, until the runtime stops.
func (lp *Loop) run() {
	defer lp.rt.wg.Done()
	var failed error
	err := lp.ep.rc.Read(func(uintptr) bool {
		for {
			if lp.rt.stopped.Load() {
				return true
			}
			more, err := lp.pass()
			if err != nil {
				failed = err
				return true
			}
			if !more {
				return false
			}
		}
	})
	if err == nil {
		err = failed
	}
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if err != nil && !lp.rt.stopped.Load() {
		lp.rt.fail(fmt.Errorf("swarm: loop %d: %w", lp.idx, err))
	}
	lp.shutdown()
	lp.ep.close()
	lp.closed = true
}

// pass handles what is ready now: connection events, then due timers, then
// queued dials, then writes, and sets the timerfd for the next timer. It
// reports whether more may be ready at once (a full batch of events, or
// timers left due).
func (lp *Loop) pass() (more bool, err error) {
	evs, err := lp.ep.ready()
	if err != nil {
		return false, err
	}
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.inLoop = true
	defer func() { lp.inLoop, lp.kick = false, false }() // what the pass queued, it handled
	for i := range evs {
		lp.event(evs[i].Fd, evs[i].Events)
	}
	lp.readAgain()
	more = lp.fire()
	lp.startDials()
	lp.flush()
	lp.rearm()
	return more || len(lp.again) > 0 || len(evs) == len(lp.ep.events), nil
}

// fire runs the due timers, at most maxFirePass of them, and reports
// whether more are due.
func (lp *Loop) fire() bool {
	now := lp.rt.Now()
	for range maxFirePass {
		if len(lp.heap) == 0 || lp.heap[0].at.After(now) {
			return false
		}
		e := lp.heap.pop()
		if lag := lp.rt.wall(now.Sub(e.at)); int64(lag) > lp.maxLag.Load() {
			lp.maxLag.Store(int64(lag))
		}
		e.a.Timer(e.token)
	}
	return len(lp.heap) > 0 && !lp.heap[0].at.After(now)
}

// rearm sets the timerfd for the heap's earliest timer, if it is not set
// for it already.
func (lp *Loop) rearm() {
	if lp.closed {
		return
	}
	if len(lp.heap) == 0 {
		if !lp.armed.IsZero() {
			lp.armed = time.Time{}
			_ = lp.ep.arm(-1)
		}
		return
	}
	// Timers due within timerSlack of the earliest share its wake-up: the
	// timerfd is set for the latest of them, so none fires early and none
	// more than timerSlack late, for one wake-up and one timerfd_settime.
	at := lp.heap.latestWithin(lp.heap[0].at.Add(lp.rt.scenario(timerSlack)), 64)
	if at.Equal(lp.armed) {
		return
	}
	lp.armed = at
	if err := lp.ep.arm(lp.rt.wall(at.Sub(lp.rt.Now()))); err != nil {
		lp.armed = time.Time{}
		lp.rt.fail(fmt.Errorf("swarm: loop %d: %w", lp.idx, err))
	}
}

// Dial implements behavior.Dialer. It returns at once with a link that
// buffers sends until the connection is up; the loop connects it, without
// blocking, at the end of its pass. With Options.Poll the link is an HTTP
// session, which connects when the actor sends its first frame (its
// hello). It must be called from an actor or in Do.
func (lp *Loop) Dial(a behavior.Actor, device int) (behavior.Link, error) {
	if lp.rt.closing.Load() {
		return nil, fmt.Errorf("swarm: dial: %w", ErrClosed)
	}
	if lp.rt.poll != nil {
		return lp.dialPoll(a, device), nil
	}
	if len(lp.dialQ)-lp.dialHead >= lp.rt.opts.DialQueue {
		return nil, fmt.Errorf("swarm: dial: %w", ErrDialQueueFull)
	}
	l := &link{loop: lp, a: a, dev: int32(device), fd: -1, slot: -1, state: stQueued}
	lp.dialQ = append(lp.dialQ, l)
	lp.kick = true
	return l, nil
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
