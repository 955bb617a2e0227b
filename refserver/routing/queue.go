package routing

import (
	"fmt"
	"math"
	"time"
)

// entry is a conversation waiting in a queue. Cancelled entries stay in
// their FIFO, marked dead, until they reach its front or the FIFO is
// compacted; only then is the entry reused.
type entry struct {
	conv   uint64
	seq    uint64 // enqueue order over all groups
	enq    int64  // when queued, relative to the Router's epoch
	toldAt int64  // when last told its position
	prio   int
	group  int32
	told   int32 // the position it was last told
	dead   bool
}

// level is the FIFO of one priority in a group's queue.
type level struct {
	prio int
	q    ring
	live int // entries in q not dead
}

// ring is a growable FIFO of entry indices.
type ring struct {
	buf  []int32 // length a power of two
	head int
	n    int
}

func (q *ring) at(i int) int32     { return q.buf[(q.head+i)&(len(q.buf)-1)] }
func (q *ring) set(i int, v int32) { q.buf[(q.head+i)&(len(q.buf)-1)] = v }
func (q *ring) front() int32       { return q.buf[q.head] }

func (q *ring) pop() {
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
}

func (q *ring) push(v int32) {
	if q.n == len(q.buf) {
		buf := make([]int32, max(8, 2*len(q.buf)))
		for i := range q.n {
			buf[i] = q.at(i)
		}
		q.buf, q.head = buf, 0
	}
	q.set(q.n, v)
	q.n++
}

// Route asks for an agent for conv in group, with a priority (higher is
// served first; first come first served within a priority). If an agent of
// the group has room, conv is assigned to the one the group's policy picks
// and Route returns (assignment, true, 0, nil). Otherwise conv is queued and
// Route returns (Assignment{}, false, position, nil), position being its
// 1-based place in the group's queue, which the caller tells the customer.
// Routing a conversation already waiting is ErrAlreadyQueued, one already
// held by an agent ErrAlreadyAssigned.
func (r *Router) Route(group string, conv uint64, priority int, now time.Time) (Assignment, bool, int, error) {
	gi, ok := r.groupIdx[group]
	if !ok {
		return Assignment{}, false, 0, fmt.Errorf("route %d: group %q: %w", conv, group, ErrUnknownGroup)
	}
	if c, ok := r.convs.get(conv); ok {
		if c.queued() {
			return Assignment{}, false, 0, fmt.Errorf("route %d: %w", conv, ErrAlreadyQueued)
		}
		return Assignment{}, false, 0, fmt.Errorf("route %d: %w", conv, ErrAlreadyAssigned)
	}
	g := &r.groups[gi]
	if len(g.heap) > 0 {
		return r.assign(g.heap[0].agent, gi, conv, 0), true, 0, nil
	}
	return Assignment{}, false, r.enqueue(gi, conv, priority, r.rel(now)), nil
}

// Cancel takes conv out of its queue, as when the customer abandons or closes
// the conversation while waiting. It reports whether conv was queued.
func (r *Router) Cancel(conv uint64) bool {
	c, ok := r.convs.get(conv)
	if !ok || !c.queued() {
		return false
	}
	r.unqueue(c.entry())
	return true
}

// Position returns the group conv waits in and its current 1-based
// position there, as when a reconnecting customer must be told again; it
// costs O(position). A conversation not waiting is ErrNotQueued. It does not
// count as telling: Positions still reports a change the caller was not told
// by it.
func (r *Router) Position(conv uint64) (string, int, error) {
	c, ok := r.convs.get(conv)
	if !ok || !c.queued() {
		return "", 0, fmt.Errorf("position of %d: %w", conv, ErrNotQueued)
	}
	ei := c.entry()
	e := &r.entries[ei]
	g := &r.groups[e.group]
	pos := 1
	for li := range g.levels {
		lv := &g.levels[li]
		if lv.prio != e.prio {
			pos += lv.live
			continue
		}
		for i := 0; lv.q.at(i) != ei; i++ {
			if !r.entries[lv.q.at(i)].dead {
				pos++
			}
		}
		break
	}
	return g.name, pos, nil
}

// Positions appends to dst the queue position updates due at now and returns
// the extended slice: one for each waiting conversation whose position
// changed since it was last told (by Route or an earlier Positions) and that
// was last told at least the position interval ago. A conversation whose
// position changed more recently is reported by a later call. Call it on a
// timer; it costs O(queue length) for each queue that changed.
func (r *Router) Positions(now time.Time, dst []PositionUpdate) []PositionUpdate {
	t := r.rel(now)
	for gi := range r.groups {
		g := &r.groups[gi]
		if !g.dirty {
			continue
		}
		pending := false
		pos := int32(0)
		for li := range g.levels {
			lv := &g.levels[li]
			q := &lv.q
			w := 0
			for i := range q.n {
				ei := q.at(i)
				e := &r.entries[ei]
				if e.dead {
					r.freeEntry(ei)
					continue
				}
				q.set(w, ei)
				w++
				pos++
				if e.told == pos {
					continue
				}
				if t-e.toldAt < r.interval {
					pending = true
					continue
				}
				e.told, e.toldAt = pos, t
				dst = append(dst, PositionUpdate{Conv: e.conv, Group: g.name, Position: int(pos)})
			}
			q.n = w
		}
		g.dirty = pending
	}
	return dst
}

// enqueue appends conv to its priority's FIFO in group gi and returns its
// position.
func (r *Router) enqueue(gi int32, conv uint64, prio int, t int64) int {
	g := &r.groups[gi]
	li := 0
	for li < len(g.levels) && g.levels[li].prio > prio {
		li++
	}
	if li == len(g.levels) || g.levels[li].prio != prio {
		g.levels = append(g.levels, level{})
		copy(g.levels[li+1:], g.levels[li:])
		g.levels[li] = level{prio: prio}
	}
	pos := 1
	for i := range g.levels[:li+1] {
		pos += g.levels[i].live
	}
	if pos <= g.live {
		g.dirty = true // conv went ahead of lower priorities
	}
	ei := r.newEntry()
	r.enqueueSeq++
	r.entries[ei] = entry{conv: conv, seq: r.enqueueSeq, enq: t, toldAt: t, prio: prio, group: gi, told: int32(pos)}
	lv := &g.levels[li]
	lv.q.push(ei)
	lv.live++
	g.live++
	r.convs.set(conv, queueRef(ei))
	return pos
}

// unqueue takes the live entry ei out of its queue. The entry itself is
// freed when it leaves its FIFO.
func (r *Router) unqueue(ei int32) {
	e := &r.entries[ei]
	r.convs.deleteIf(e.conv, queueRef(ei))
	e.dead = true
	g := &r.groups[e.group]
	li := 0
	for g.levels[li].prio != e.prio {
		li++
	}
	lv := &g.levels[li]
	lv.live--
	g.live--
	g.dirty = true
	if lv.q.n > 2*lv.live+32 {
		r.compact(lv)
	}
}

// compact drops the dead entries of lv's FIFO.
func (r *Router) compact(lv *level) {
	q := &lv.q
	w := 0
	for i := range q.n {
		ei := q.at(i)
		if r.entries[ei].dead {
			r.freeEntry(ei)
			continue
		}
		q.set(w, ei)
		w++
	}
	q.n = w
}

// head returns the first live entry of g's queue and its level; g.live must
// be positive.
func (r *Router) head(g *group) (int32, int) {
	for li := range g.levels {
		lv := &g.levels[li]
		if lv.live == 0 {
			continue
		}
		for {
			ei := lv.q.front()
			if !r.entries[ei].dead {
				return ei, li
			}
			lv.q.pop()
			r.freeEntry(ei)
		}
	}
	panic("routing: head of an empty queue")
}

// before reports whether entry a is served before entry b: higher priority,
// then queued earlier.
func (r *Router) before(a, b int32) bool {
	ea, eb := &r.entries[a], &r.entries[b]
	if ea.prio != eb.prio {
		return ea.prio > eb.prio
	}
	if ea.enq != eb.enq {
		return ea.enq < eb.enq
	}
	return ea.seq < eb.seq
}

func (r *Router) newEntry() int32 {
	if n := len(r.freeEntries); n > 0 {
		ei := r.freeEntries[n-1]
		r.freeEntries = r.freeEntries[:n-1]
		return ei
	}
	if len(r.entries) >= math.MaxInt32-1 {
		panic("routing: too many queued conversations")
	}
	r.entries = append(r.entries, entry{})
	return int32(len(r.entries) - 1)
}

func (r *Router) freeEntry(ei int32) {
	r.entries[ei] = entry{}
	r.freeEntries = append(r.freeEntries, ei)
}
