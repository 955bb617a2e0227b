package routing

// group is a skill group: a heap of its agents that can take a chat, ordered
// by the group's policy, and a queue of conversations waiting for one. When
// the queue holds anyone the heap is empty: conversations are assigned as
// soon as an agent of the group has room.
type group struct {
	name   string
	policy Policy
	heap   []hentry
	levels []level // one FIFO per priority, highest priority first
	live   int     // conversations waiting, over all levels
	// dirty is set when a waiting conversation's position may differ from
	// the one it was last told.
	dirty bool
}

// hentry is an agent's place in a group heap. The order keys are copied in
// so that sifting reads only the heap array.
type hentry struct {
	k1, k2 int64
	agent  int32
	slot   int32
}

// arity is the heap's branching factor: four children keep the heaps of
// thousands of agents shallow, and siblings share cache lines.
const arity = 4

func (e *hentry) less(o *hentry) bool {
	if e.k1 != o.k1 {
		return e.k1 < o.k1
	}
	if e.k2 != o.k2 {
		return e.k2 < o.k2
	}
	return e.agent < o.agent
}

// key returns the heap order keys of a under policy p: the smallest is
// picked first.
func (p Policy) key(a *agent) (int64, int64) {
	switch p {
	case RoundRobin:
		return a.lastAssign, 0
	case LongestIdle:
		return a.idleAt, a.lastAssign
	}
	return int64(a.active), a.lastAssign
}

func (r *Router) hpush(g *group, e hentry) {
	g.heap = append(g.heap, e)
	r.up(g, len(g.heap)-1)
}

func (r *Router) hremove(g *group, i int) {
	h := g.heap
	last := len(h) - 1
	r.pos[h[i].slot] = -1
	if i != last {
		h[i] = h[last]
		r.pos[h[i].slot] = int32(i)
	}
	g.heap = h[:last]
	if i != last {
		r.hfix(g, i)
	}
}

// hfix restores the heap order after the keys of entry i changed.
func (r *Router) hfix(g *group, i int) {
	if !r.up(g, i) {
		r.down(g, i)
	}
}

// up moves entry i towards the root while it is less than its parent and
// reports whether it moved.
func (r *Router) up(g *group, i int) bool {
	h := g.heap
	e := h[i]
	start := i
	for i > 0 {
		p := (i - 1) / arity
		if !e.less(&h[p]) {
			break
		}
		h[i] = h[p]
		r.pos[h[i].slot] = int32(i)
		i = p
	}
	h[i] = e
	r.pos[e.slot] = int32(i)
	return i != start
}

// down moves entry i towards the leaves while a child is less than it.
func (r *Router) down(g *group, i int) {
	h := g.heap
	n := len(h)
	e := h[i]
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		// The least of the children.
		end := min(c+arity, n)
		for j := c + 1; j < end; j++ {
			if h[j].less(&h[c]) {
				c = j
			}
		}
		if !h[c].less(&e) {
			break
		}
		h[i] = h[c]
		r.pos[h[i].slot] = int32(i)
		i = c
	}
	h[i] = e
	r.pos[e.slot] = int32(i)
}
