package routing

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// agent is one human agent. Its chats are not listed here: the Router's
// conversation index says which agent holds each conversation, so an agent
// costs the same whatever its maximum.
type agent struct {
	id     string
	mem    []membership
	max    int32
	active int32
	status Status
	// lastAssign is the assignment sequence number of the agent's latest
	// chat (0 if it never had one): least-loaded ties and round-robin order.
	lastAssign int64
	// idleAt is when the agent's last chat ended or it became available,
	// relative to the Router's epoch: the longest-idle order.
	idleAt int64
}

// membership places an agent in a group; slot indexes Router.pos.
type membership struct {
	group int32
	slot  int32
}

func sameGroups(mem []membership, gs []int32) bool {
	if len(mem) != len(gs) {
		return false
	}
	for i := range mem {
		if mem[i].group != gs[i] {
			return false
		}
	}
	return true
}

func (a *agent) available() bool { return a.status == Online && a.active < a.max }

// SetAgent creates or updates the agent id: the skill groups it serves (at
// least one, in the order Agent reports them; duplicates are ignored), the
// most chats it carries at once (zero or more) and its status.
//
// Lowering the maximum below the agent's current load keeps its chats but
// gives it no new ones until it is under the maximum again; going Away or
// Offline likewise keeps its chats. Raising the maximum, going Online or
// joining a group gives it room: conversations waiting in its groups' queues
// are assigned to it at once and returned. The returned slice is valid until
// the next call of SetAgent or Release.
func (r *Router) SetAgent(id string, groups []string, maxChats int, status Status, now time.Time) ([]Assignment, error) {
	switch {
	case id == "":
		return nil, fmt.Errorf("set agent: empty id: %w", ErrInvalid)
	case len(groups) == 0:
		return nil, fmt.Errorf("set agent %q: no groups: %w", id, ErrInvalid)
	case maxChats < 0 || maxChats > math.MaxInt32:
		return nil, fmt.Errorf("set agent %q: max chats %d: %w", id, maxChats, ErrInvalid)
	case status > Online:
		return nil, fmt.Errorf("set agent %q: status %d: %w", id, status, ErrInvalid)
	}
	gs, err := r.resolveGroups(groups)
	if err != nil {
		return nil, fmt.Errorf("set agent %q: %w", id, err)
	}
	t := r.rel(now)

	ai, exists := r.agentIdx[id]
	if !exists {
		if len(r.freeAgents) > 0 {
			ai = r.freeAgents[len(r.freeAgents)-1]
			r.freeAgents = r.freeAgents[:len(r.freeAgents)-1]
		} else {
			if len(r.agents) >= math.MaxInt32 {
				return nil, fmt.Errorf("set agent %q: too many agents: %w", id, ErrInvalid)
			}
			ai = int32(len(r.agents))
			r.agents = append(r.agents, agent{})
		}
		r.agentIdx[id] = ai
		r.agents[ai] = agent{id: id, idleAt: t}
	}
	a := &r.agents[ai]
	was := exists && a.available()

	if !sameGroups(a.mem, gs) {
		// Join in the order given, keeping the slots of groups kept.
		mem := make([]membership, len(gs))
		for i, gi := range gs {
			mem[i].group = gi
			if j := slices.IndexFunc(a.mem, func(m membership) bool { return m.group == gi }); j >= 0 {
				mem[i].slot = a.mem[j].slot
			} else {
				mem[i].slot = r.newSlot()
			}
		}
		for _, m := range a.mem {
			if !slices.Contains(gs, m.group) {
				r.leave(m)
			}
		}
		a.mem = mem
	}
	a.max, a.status = int32(maxChats), status
	if !a.available() {
		r.sync(ai)
		return nil, nil
	}
	if !was {
		a.idleAt = t // became available
	}
	r.sync(ai)
	return r.drain(ai, t), nil
}

// RemoveAgent forgets an agent that holds no chats (ErrAgentBusy otherwise).
func (r *Router) RemoveAgent(id string) error {
	ai, ok := r.agentIdx[id]
	if !ok {
		return fmt.Errorf("remove agent %q: %w", id, ErrUnknownAgent)
	}
	a := &r.agents[ai]
	if a.active > 0 {
		return fmt.Errorf("remove agent %q: %d chats: %w", id, a.active, ErrAgentBusy)
	}
	for _, m := range a.mem {
		r.leave(m)
	}
	*a = agent{}
	delete(r.agentIdx, id)
	r.freeAgents = append(r.freeAgents, ai)
	return nil
}

// Assign gives conv directly to the named agent, as when a conversation is
// transferred to a specific agent; group is the skill group it is served
// under (the agent need not belong to it). A conversation waiting in a queue
// is taken out of it. It fails with ErrAgentUnavailable when the agent is not
// Online and ErrAgentFull when it has no room.
func (r *Router) Assign(agentID string, group string, conv uint64, now time.Time) (Assignment, error) {
	gi, ok := r.groupIdx[group]
	if !ok {
		return Assignment{}, fmt.Errorf("assign %d to %q: group %q: %w", conv, agentID, group, ErrUnknownGroup)
	}
	ai, ok := r.agentIdx[agentID]
	if !ok {
		return Assignment{}, fmt.Errorf("assign %d to %q: %w", conv, agentID, ErrUnknownAgent)
	}
	c, held := r.convs.get(conv)
	if held && !c.queued() {
		return Assignment{}, fmt.Errorf("assign %d to %q: %w", conv, agentID, ErrAlreadyAssigned)
	}
	a := &r.agents[ai]
	if a.status != Online {
		return Assignment{}, fmt.Errorf("assign %d to %q: %s: %w", conv, agentID, a.status, ErrAgentUnavailable)
	}
	if a.active >= a.max {
		return Assignment{}, fmt.Errorf("assign %d to %q: %d of %d chats: %w", conv, agentID, a.active, a.max, ErrAgentFull)
	}
	var waited time.Duration
	if held {
		ei := c.entry()
		waited = time.Duration(r.rel(now) - r.entries[ei].enq)
		r.unqueue(ei)
	}
	return r.assign(ai, gi, conv, waited), nil
}

// Restore records conv as held by agentID under group, whatever the
// agent's status and room: the agent had it before a restart and keeps it.
// An agent not yet known is created Offline in that group with no room; its
// own SetAgent later sets its groups, limit and status, and its load counts
// the chats restored. Restoring a conversation routing already holds is
// ErrAlreadyAssigned or ErrAlreadyQueued.
func (r *Router) Restore(agentID, group string, conv uint64, now time.Time) error {
	gi, ok := r.groupIdx[group]
	if !ok {
		return fmt.Errorf("restore %d to %q: group %q: %w", conv, agentID, group, ErrUnknownGroup)
	}
	if c, held := r.convs.get(conv); held {
		if c.queued() {
			return fmt.Errorf("restore %d to %q: %w", conv, agentID, ErrAlreadyQueued)
		}
		return fmt.Errorf("restore %d to %q: %w", conv, agentID, ErrAlreadyAssigned)
	}
	if _, ok := r.agentIdx[agentID]; !ok {
		if _, err := r.SetAgent(agentID, []string{group}, 0, Offline, now); err != nil {
			return fmt.Errorf("restore %d: %w", conv, err)
		}
	}
	r.assign(r.agentIdx[agentID], gi, conv, 0)
	return nil
}

// Release ends conv's chat with the agent (closed, or transferred away). The
// agent's capacity frees and, if it is Online, conversations waiting in its
// groups' queues are assigned to it at once and returned. The returned slice
// is valid until the next call of SetAgent or Release. Releasing a
// conversation the agent does not hold is ErrNotAssigned.
func (r *Router) Release(agentID string, conv uint64, now time.Time) ([]Assignment, error) {
	ai, ok := r.agentIdx[agentID]
	if !ok {
		return nil, fmt.Errorf("release %d from %q: %w", conv, agentID, ErrUnknownAgent)
	}
	if !r.convs.deleteIf(conv, agentRef(ai)) {
		return nil, fmt.Errorf("release %d from %q: %w", conv, agentID, ErrNotAssigned)
	}
	t := r.rel(now)
	a := &r.agents[ai]
	a.active--
	a.idleAt = t
	r.sync(ai)
	if !a.available() {
		return nil, nil
	}
	return r.drain(ai, t), nil
}

// assign records conv as held by agent ai under group gi.
func (r *Router) assign(ai, gi int32, conv uint64, waited time.Duration) Assignment {
	a := &r.agents[ai]
	a.active++
	r.assignSeq++
	a.lastAssign = r.assignSeq
	r.convs.set(conv, agentRef(ai))
	r.sync(ai)
	return Assignment{Conv: conv, Agent: a.id, Group: r.groups[gi].name, Waited: waited}
}

// drain assigns waiting conversations to agent ai while it has room: the
// first in queue order of each of its groups competes, highest priority
// first, then oldest.
func (r *Router) drain(ai int32, t int64) []Assignment {
	out := r.out[:0]
	for r.agents[ai].available() {
		best, bestLevel := int32(-1), -1
		for _, m := range r.agents[ai].mem {
			g := &r.groups[m.group]
			if g.live == 0 {
				continue
			}
			ei, li := r.head(g)
			if best < 0 || r.before(ei, best) {
				best, bestLevel = ei, li
			}
		}
		if best < 0 {
			break
		}
		e := &r.entries[best]
		conv, gi, waited := e.conv, e.group, time.Duration(t-e.enq)
		g := &r.groups[gi]
		lv := &g.levels[bestLevel]
		lv.q.pop()
		lv.live--
		g.live--
		g.dirty = true
		r.freeEntry(best)
		out = append(out, r.assign(ai, gi, conv, waited))
	}
	r.out = out
	if len(out) == 0 {
		return nil
	}
	return out
}

// sync brings agent ai's place in each of its groups' heaps up to date
// after its load, status or order keys changed.
func (r *Router) sync(ai int32) {
	a := &r.agents[ai]
	avail := a.available()
	for _, m := range a.mem {
		g := &r.groups[m.group]
		p := r.pos[m.slot]
		if !avail {
			if p >= 0 {
				r.hremove(g, int(p))
			}
			continue
		}
		k1, k2 := g.policy.key(a)
		if p < 0 {
			r.hpush(g, hentry{k1: k1, k2: k2, agent: ai, slot: m.slot})
			continue
		}
		e := &g.heap[p]
		if e.k1 != k1 || e.k2 != k2 {
			e.k1, e.k2 = k1, k2
			r.hfix(g, int(p))
		}
	}
}

// leave takes a membership out of its group's heap and frees its slot.
func (r *Router) leave(m membership) {
	if p := r.pos[m.slot]; p >= 0 {
		r.hremove(&r.groups[m.group], int(p))
	}
	r.freeSlots = append(r.freeSlots, m.slot)
}

func (r *Router) newSlot() int32 {
	if n := len(r.freeSlots); n > 0 {
		s := r.freeSlots[n-1]
		r.freeSlots = r.freeSlots[:n-1]
		return s
	}
	r.pos = append(r.pos, -1)
	return int32(len(r.pos) - 1)
}
