package poll

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// state is where a session stands.
type state uint8

const (
	// live: said hello (or is saying it) and serves requests.
	live state = iota
	// ended by a fault: the tombstone (frames still owed and the error
	// frame) waits for the next poll, or for three heartbeats to pass.
	ended
	// taken: ended, and the tombstone was handed out; only the error
	// frame is kept, for a held poll that wakes after it.
	taken
	// deleted: ended by the client's DELETE.
	deleted
)

// session is one HTTP session: a server.Session, its outbound queue and
// the bookkeeping of its numbered batches.
//
// Locks: hmu serialises the calls into server.Session (Handle, Closed) and
// every change of state away from live, so Handle never runs on a closed
// session. mu guards the rest and is never held while calling into
// server.Session or taking hmu: Send, called by the core under a tenant's
// lock (perhaps from this session's own Handle), takes only mu.
type session struct {
	server.Session

	s  *Server
	id string

	hmu sync.Mutex

	mu    sync.Mutex
	state state
	// doomed is set by Send when the unfetched bytes passed the bound;
	// the session is ended with CodeSlowReader by the next holder of hmu
	// (a request of the session, or the sweeper, which Send kicks).
	doomed   bool
	errFrame []byte // the error frame that ended the session
	endedAt  time.Time

	queue   []byte // frames not yet in a batch
	last    []byte // the last batch handed out, until acknowledged
	lastNum uint64 // its number, when hasLast
	hasLast bool
	next    uint64 // the number of the next batch formed

	inflight int       // requests in progress (a held poll is one)
	lastEnd  time.Time // when the last request ended
	wait     *waiter   // the held poll, if any
}

// waiter is a held poll. Its channel is closed, and the waiter dropped from
// the session, by whoever wakes it: a frame queued, the session ending, or
// a newer poll (which sets superseded first).
type waiter struct {
	ch         chan struct{}
	superseded bool
}

// Send implements fanout.Conn: it queues a copy of frame for the next
// batch and wakes a held poll. It never blocks and never calls back into
// the session: over the outbound bound it drops what is queued, marks the
// session doomed and leaves ending it to a request or the sweeper.
func (c *session) Send(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != live || c.doomed {
		return false
	}
	if len(c.queue)+len(c.last)+len(frame) > c.s.cfg.MaxOutbound {
		c.doomed = true
		c.queue, c.last = nil, nil
		c.wakeLocked(false)
		c.s.doom(c)
		return false
	}
	c.queue = append(c.queue, frame...)
	c.wakeLocked(false)
	return true
}

// wakeLocked wakes the held poll, if any; c.mu is held.
func (c *session) wakeLocked(supersede bool) {
	if c.wait == nil {
		return
	}
	c.wait.superseded = supersede
	close(c.wait.ch)
	c.wait = nil
}

// beginLocked counts a request in progress; c.mu is held.
func (c *session) beginLocked() { c.inflight++ }

// finish ends a request begun with beginLocked.
func (c *session) finish() {
	c.mu.Lock()
	c.inflight--
	c.lastEnd = time.Now()
	c.mu.Unlock()
}

// formLocked makes the next batch of the queue, up to wire.HTTPMaxBatch
// bytes of whole frames (at least one frame, however big), and keeps it as
// the unacknowledged batch; c.mu is held.
func (c *session) formLocked() {
	c.last, c.queue = takeBatch(c.queue, wire.HTTPMaxBatch)
	c.lastNum, c.hasLast = c.next, true
	c.next++
}

// takeBatch splits the whole frames of q into a batch of at most limit
// bytes (or one frame, when the first is bigger) and the rest. The batch is
// never written to afterwards, so it may be answered without a copy.
func takeBatch(q []byte, limit int) (batch, rest []byte) {
	n := 0
	for n < len(q) {
		l := wire.HeaderSize + int(binary.BigEndian.Uint32(q[n:]))
		if n > 0 && n+l > limit {
			break
		}
		n += l
	}
	if n == len(q) {
		return q, nil
	}
	return q[:n:n], slices.Clone(q[n:])
}

// step applies a poll's ack: batches up to ack are forgotten, and the
// answer is batch ack+1, the unacknowledged one again or a new one formed
// from the queue. ok is false for an ack that is neither the last batch
// handed out nor the one before it; have is false when nothing is queued.
// c.mu is held.
func (c *session) stepLocked(ack uint64) (batch []byte, num uint64, have, ok bool) {
	if c.hasLast {
		switch {
		case ack == c.lastNum:
			c.last, c.hasLast = nil, false
		case ack+1 == c.lastNum:
			return c.last, c.lastNum, true, true
		default:
			return nil, 0, false, false
		}
	} else if ack+1 != c.next {
		return nil, 0, false, false
	}
	if len(c.queue) == 0 {
		return nil, 0, false, true
	}
	c.formLocked()
	return c.last, c.lastNum, true, true
}

// lastHandedOut is the number of the last batch handed out; c.mu is held.
func (c *session) lastHandedOutLocked() uint64 {
	if c.hasLast {
		return c.lastNum
	}
	return c.next - 1
}

// tombLocked returns the answer of a poll with ack on a session that is no
// longer live, and hands the tombstone out: the unacknowledged batch when
// ack says the client lacks it, the frames still queued and the error
// frame; after a DELETE, nothing. It reports whether the session is to be
// forgotten now. c.mu is held.
func (c *session) tombLocked(ack uint64) (body []byte, forget bool) {
	switch c.state {
	case ended:
		resend := c.hasLast && ack+1 == c.lastNum
		if !resend && len(c.queue) == 0 {
			body = c.errFrame
		} else {
			n := len(c.queue) + len(c.errFrame)
			if resend {
				n += len(c.last)
			}
			body = make([]byte, 0, n)
			if resend {
				body = append(body, c.last...)
			}
			body = append(append(body, c.queue...), c.errFrame...)
		}
		c.state = taken
		c.queue, c.last = nil, nil
		return body, true
	case taken:
		return c.errFrame, false
	}
	return nil, false
}

// takeLocked hands the frames still queued and the error frame to the
// request that ended the session (connect, send). The tombstone keeps the
// error frame, and the unacknowledged batch for a client that lost it, for
// the next poll. c.mu is held.
func (c *session) takeLocked() []byte {
	if c.state != ended || len(c.queue) == 0 {
		return c.errFrame
	}
	body := append(slices.Clip(c.queue), c.errFrame...)
	c.queue = nil
	return body
}
