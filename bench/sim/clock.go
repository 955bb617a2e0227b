// Package sim is bench sim: it plays a scenario in virtual time, as a
// discrete-event simulation, against the real desk core, routing and bot of
// refserver (no sockets, no wall clock), with the very customer and agent
// scripts bench run plays on real connections (bench/behavior). The result
// is the same result document; human-scale metrics (queue wait, first
// human reply, agent reply, agent concurrency) are in simulated time, and
// network latencies are not invented: messages take no time in transit.
//
// A run is deterministic for a seed: one event queue, ordered by time and
// then by the order events were scheduled.
package sim

import (
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
)

// Clock is virtual time: an event queue ordered by time, then by the order
// the events were set, so that a run is deterministic. It implements
// behavior.Scheduler. It is not safe for concurrent use.
type Clock struct {
	now    int64 // unix nanoseconds
	seq    uint64
	h      []event
	events uint64 // events run
}

// event is one scheduled call: an actor's timer, or fn.
type event struct {
	at    int64
	seq   uint64
	a     behavior.Actor
	token uint64
	fn    func()
}

var _ behavior.Scheduler = (*Clock)(nil)

// NewClock returns a clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start.UnixNano()} }

// Now implements behavior.Scheduler.
func (c *Clock) Now() time.Time { return time.Unix(0, c.now).UTC() }

// At implements behavior.Scheduler: a.Timer(token) at t, or now if t has
// passed.
func (c *Clock) At(t time.Time, a behavior.Actor, token uint64) {
	c.push(event{at: t.UnixNano(), a: a, token: token})
}

// Call runs fn at t, or now if t has passed.
func (c *Clock) Call(t time.Time, fn func()) { c.push(event{at: t.UnixNano(), fn: fn}) }

// callNow runs fn at the current time, after what is already due now.
func (c *Clock) callNow(fn func()) { c.push(event{at: c.now, fn: fn}) }

// Events returns how many events have run.
func (c *Clock) Events() uint64 { return c.events }

// Pending returns how many events are scheduled.
func (c *Clock) Pending() int { return len(c.h) }

// Run runs the events due up to until, in order, and leaves the clock at
// until. When max is above 0 it returns after at most max events, false if
// events due before until remain (the clock is then at the last one run).
func (c *Clock) Run(until time.Time, max int) bool {
	end := until.UnixNano()
	for n := 0; len(c.h) > 0 && c.h[0].at <= end; n++ {
		if max > 0 && n >= max {
			return false
		}
		e := c.pop()
		c.now = e.at
		c.events++
		if e.fn != nil {
			e.fn()
		} else {
			e.a.Timer(e.token)
		}
	}
	if end > c.now {
		c.now = end
	}
	return true
}

func (c *Clock) push(e event) {
	if e.at < c.now {
		e.at = c.now
	}
	c.seq++
	e.seq = c.seq
	c.h = append(c.h, e)
	// Sift up in a 4-ary heap.
	i := len(c.h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !c.less(i, p) {
			break
		}
		c.h[i], c.h[p] = c.h[p], c.h[i]
		i = p
	}
}

func (c *Clock) less(i, j int) bool {
	if c.h[i].at != c.h[j].at {
		return c.h[i].at < c.h[j].at
	}
	return c.h[i].seq < c.h[j].seq
}

func (c *Clock) pop() event {
	top := c.h[0]
	last := len(c.h) - 1
	c.h[0] = c.h[last]
	c.h[last] = event{}
	c.h = c.h[:last]
	// Sift down.
	i := 0
	for {
		first := 4*i + 1
		if first >= len(c.h) {
			break
		}
		m := first
		for k := first + 1; k < first+4 && k < len(c.h); k++ {
			if c.less(k, m) {
				m = k
			}
		}
		if !c.less(m, i) {
			break
		}
		c.h[i], c.h[m] = c.h[m], c.h[i]
		i = m
	}
	return top
}
