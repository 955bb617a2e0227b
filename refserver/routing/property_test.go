package routing

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/internal/longtest"
)

// check verifies the Router's internal invariants: the conversation index,
// agent loads, heap order and membership, and queue bookkeeping.
func (r *Router) check() error {
	active := make([]int32, len(r.agents))
	var err error
	n := 0
	r.convs.all(func(conv uint64, c ref) {
		n++
		if got, ok := r.convs.get(conv); !ok || got != c {
			err = errors.Join(err, fmt.Errorf("conv %d: index lookup %d, %v; slot holds %d", conv, got, ok, c))
		}
		if c.queued() {
			ei := c.entry()
			if int(ei) >= len(r.entries) {
				err = errors.Join(err, fmt.Errorf("conv %d: entry %d out of range", conv, ei))
			} else if e := &r.entries[ei]; e.dead || e.conv != conv {
				err = errors.Join(err, fmt.Errorf("conv %d: entry %d holds %+v", conv, ei, *e))
			}
			return
		}
		ai := c.agent()
		if int(ai) >= len(r.agents) || r.agents[ai].id == "" {
			err = errors.Join(err, fmt.Errorf("conv %d: held by missing agent %d", conv, ai))
			return
		}
		active[ai]++
	})
	if err != nil {
		return err
	}
	if n != r.convs.len() {
		return fmt.Errorf("index holds %d, counts %d", n, r.convs.len())
	}
	inHeap := 0
	for ai := range r.agents {
		a := &r.agents[ai]
		if a.id == "" {
			if !slices.Contains(r.freeAgents, int32(ai)) {
				return fmt.Errorf("agent %d: empty and not free", ai)
			}
			continue
		}
		if r.agentIdx[a.id] != int32(ai) {
			return fmt.Errorf("agent %q: index %d, map says %d", a.id, ai, r.agentIdx[a.id])
		}
		if a.active != active[ai] {
			return fmt.Errorf("agent %q: active %d, holds %d", a.id, a.active, active[ai])
		}
		for _, m := range a.mem {
			p := r.pos[m.slot]
			g := &r.groups[m.group]
			if a.available() != (p >= 0) {
				return fmt.Errorf("agent %q: available %v, heap position in %q %d", a.id, a.available(), g.name, p)
			}
			if p < 0 {
				continue
			}
			inHeap++
			e := g.heap[p]
			k1, k2 := g.policy.key(a)
			if e.agent != int32(ai) || e.slot != m.slot || e.k1 != k1 || e.k2 != k2 {
				return fmt.Errorf("agent %q: heap entry %+v in %q, keys %d %d", a.id, e, g.name, k1, k2)
			}
		}
	}
	if len(r.agentIdx) != len(r.agents)-len(r.freeAgents) {
		return fmt.Errorf("%d agents indexed, %d held, %d free", len(r.agentIdx), len(r.agents), len(r.freeAgents))
	}
	for gi := range r.groups {
		g := &r.groups[gi]
		inHeap -= len(g.heap)
		for i := range g.heap {
			if r.pos[g.heap[i].slot] != int32(i) {
				return fmt.Errorf("group %q: heap %d, pos %d", g.name, i, r.pos[g.heap[i].slot])
			}
			if i > 0 && g.heap[i].less(&g.heap[(i-1)/arity]) {
				return fmt.Errorf("group %q: heap order broken at %d", g.name, i)
			}
		}
		live := 0
		for li := range g.levels {
			lv := &g.levels[li]
			if li > 0 && g.levels[li-1].prio <= lv.prio {
				return fmt.Errorf("group %q: levels out of order", g.name)
			}
			n := 0
			for i := range lv.q.n {
				ei := lv.q.at(i)
				e := &r.entries[ei]
				if e.dead {
					continue
				}
				n++
				if e.group != int32(gi) || e.prio != lv.prio || !r.convsHas(e.conv, queueRef(ei)) {
					return fmt.Errorf("group %q: entry %+v misplaced", g.name, *e)
				}
			}
			if n != lv.live {
				return fmt.Errorf("group %q priority %d: %d live, counted %d", g.name, lv.prio, n, lv.live)
			}
			live += n
		}
		if live != g.live {
			return fmt.Errorf("group %q: %d live, counted %d", g.name, live, g.live)
		}
		if g.live > 0 && len(g.heap) > 0 {
			return fmt.Errorf("group %q: %d waiting while %d agents have room", g.name, g.live, len(g.heap))
		}
	}
	if inHeap != 0 {
		return fmt.Errorf("heaps hold %d entries more than memberships", -inHeap)
	}
	return nil
}

func (r *Router) convsHas(conv uint64, want ref) bool {
	c, ok := r.convs.get(conv)
	return ok && c == want
}

// pick returns, by brute force, the agent group gi's policy picks, or "".
func (r *Router) pick(gi int32) string {
	best, bk1, bk2 := -1, int64(0), int64(0)
	for ai := range r.agents {
		a := &r.agents[ai]
		if a.id == "" || !a.available() || !slices.ContainsFunc(a.mem, func(m membership) bool { return m.group == gi }) {
			continue
		}
		k1, k2 := r.groups[gi].policy.key(a)
		if best < 0 || k1 < bk1 || k1 == bk1 && k2 < bk2 {
			best, bk1, bk2 = ai, k1, k2
		}
	}
	if best < 0 {
		return ""
	}
	return r.agents[best].id
}

// model is what the property test expects of the Router, kept by the
// simplest means.
type model struct {
	groups   []string
	agents   map[string]*magent
	assigned map[uint64]string
	loads    map[string]int
	queued   map[uint64]*mconv
	seq      int
	interval time.Duration
}

type magent struct {
	groups []string
	max    int
	status Status
}

type mconv struct {
	group  string
	prio   int
	seq    int
	enq    time.Time
	told   int
	toldAt time.Time
}

func (m *model) load(agent string) int { return m.loads[agent] }

func (m *model) give(conv uint64, agent string) {
	m.assigned[conv] = agent
	m.loads[agent]++
}

func (m *model) take(conv uint64) {
	m.loads[m.assigned[conv]]--
	delete(m.assigned, conv)
}

// ahead reports whether x is served before y in the same queue.
func ahead(x, y *mconv) bool {
	if x.prio != y.prio {
		return x.prio > y.prio
	}
	if !x.enq.Equal(y.enq) {
		return x.enq.Before(y.enq)
	}
	return x.seq < y.seq
}

// order returns group's queue in service order.
func (m *model) order(group string) []uint64 {
	var cs []uint64
	for c, q := range m.queued {
		if q.group == group {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b uint64) int {
		if ahead(m.queued[a], m.queued[b]) {
			return -1
		}
		return 1
	})
	return cs
}

// next returns the conversation agent should be given from its groups'
// queues, or 0.
func (m *model) next(agent string) uint64 {
	var best uint64
	for _, g := range m.agents[agent].groups {
		o := m.order(g)
		if len(o) > 0 && (best == 0 || ahead(m.queued[o[0]], m.queued[best])) {
			best = o[0]
		}
	}
	return best
}

func sortedKeys[V any](mp map[uint64]V) []uint64 {
	ks := make([]uint64, 0, len(mp))
	for k := range mp {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// drained checks assignments made from the queues to agent at now and
// applies them to the model.
func (m *model) drained(agent string, as []Assignment, now time.Time) error {
	ma := m.agents[agent]
	for _, a := range as {
		if a.Agent != agent {
			return fmt.Errorf("drain for %q assigned %+v", agent, a)
		}
		if _, ok := m.assigned[a.Conv]; ok {
			return fmt.Errorf("conv %d assigned twice: %+v", a.Conv, a)
		}
		q, ok := m.queued[a.Conv]
		if !ok {
			return fmt.Errorf("drain assigned conv %d, not queued", a.Conv)
		}
		if want := m.next(agent); want != a.Conv {
			return fmt.Errorf("drain for %q took conv %d, want %d", agent, a.Conv, want)
		}
		if a.Group != q.group || a.Waited != now.Sub(q.enq) {
			return fmt.Errorf("assignment %+v, queued %+v at %v", a, *q, now)
		}
		if ma.status != Online || m.load(agent)+1 > ma.max {
			return fmt.Errorf("drain assigned to %q (%v, %d of %d)", agent, ma.status, m.load(agent), ma.max)
		}
		delete(m.queued, a.Conv)
		m.give(a.Conv, agent)
	}
	return nil
}

// verify compares the Router with the model.
func (m *model) verify(r *Router) error {
	if err := r.check(); err != nil {
		return err
	}
	sum := 0
	for id, ma := range m.agents {
		info, ok := r.Agent(id)
		if !ok {
			return fmt.Errorf("agent %q unknown", id)
		}
		n := m.load(id)
		sum += info.Active
		if info.Active != n || info.Max != ma.max || info.Status != ma.status {
			return fmt.Errorf("agent %+v, model %+v with %d chats", info, *ma, n)
		}
		gs := slices.Clone(info.Groups)
		slices.Sort(gs)
		if !slices.Equal(gs, ma.groups) {
			return fmt.Errorf("agent %q groups %v, model %v", id, gs, ma.groups)
		}
	}
	if sum != len(m.assigned) {
		return fmt.Errorf("agents hold %d chats, %d assigned", sum, len(m.assigned))
	}
	for _, g := range m.groups {
		o := m.order(g)
		if n := r.Queued(g); n != len(o) {
			return fmt.Errorf("group %q: %d queued, model %d", g, n, len(o))
		}
		for i, c := range o {
			if gn, pos, err := r.Position(c); err != nil || gn != g || pos != i+1 {
				return fmt.Errorf("conv %d: Position = %q, %d, %v; want %q, %d", c, gn, pos, err, g, i+1)
			}
		}
		if len(o) == 0 {
			continue
		}
		for id, ma := range m.agents {
			if ma.status == Online && slices.Contains(ma.groups, g) && m.load(id) < ma.max {
				return fmt.Errorf("group %q: %d waiting while %q has room", g, len(o), id)
			}
		}
	}
	positioned := false
	for c, a := range m.assigned {
		if got, ok := r.AgentOf(c); !ok || got != a {
			return fmt.Errorf("conv %d: AgentOf = %q, %v; want %q", c, got, ok, a)
		}
		if _, ok := r.QueuedSince(c); ok {
			return fmt.Errorf("conv %d both assigned and queued", c)
		}
		// Position's error for one assigned conversation a step (the
		// map's order picks it): it formats an error, which costs more
		// than the rest of the check, and QueuedSince above already says
		// for each that it is not queued.
		if positioned {
			continue
		}
		positioned = true
		if _, _, err := r.Position(c); !errors.Is(err, ErrNotQueued) {
			return fmt.Errorf("conv %d assigned: Position error %v", c, err)
		}
	}
	for c, q := range m.queued {
		if since, ok := r.QueuedSince(c); !ok || !since.Equal(q.enq) {
			return fmt.Errorf("conv %d: QueuedSince = %v, %v; want %v", c, since, ok, q.enq)
		}
	}
	return nil
}

// positions returns the updates the model expects at now, and records them
// as told.
func (m *model) positions(now time.Time) []PositionUpdate {
	var ups []PositionUpdate
	for _, g := range m.groups {
		for i, c := range m.order(g) {
			q := m.queued[c]
			if q.told != i+1 && now.Sub(q.toldAt) >= m.interval {
				q.told, q.toldAt = i+1, now
				ups = append(ups, PositionUpdate{Conv: c, Group: g, Position: i + 1})
			}
		}
	}
	return ups
}

// randomSeeds returns how many seeds a property test runs for a standard
// of n: fewer with -short, and a third under the race detector, which
// slows these single-goroutine tests several times over and has nothing to
// find in them; ten times as many with SWARMDESK_LONG=1 (make test-long),
// the search at length.
func randomSeeds(n int) int {
	switch {
	case longtest.Enabled():
		return 10 * n
	case testing.Short():
		return max(1, n/8)
	case raceEnabled:
		return max(1, n/3)
	}
	return n
}

func TestRandomOperations(t *testing.T) {
	seeds := randomSeeds(300)
	for seed := range seeds {
		if err := randomRun(uint64(seed), 400, 8, 3); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// TestRandomOperationsLarge runs longer sequences with enough agents for
// deep heaps.
func TestRandomOperationsLarge(t *testing.T) {
	seeds := randomSeeds(6)
	for seed := range seeds {
		if err := randomRun(uint64(1000+seed), 3000, 300, 20); err != nil {
			t.Fatalf("seed %d: %v", 1000+seed, err)
		}
	}
}

// randomRun applies steps random operations to a Router with up to
// maxAgents agents of up to maxChats chats, checking it against the model
// after each.
func randomRun(seed uint64, steps, maxAgents, maxChats int) error {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	intervals := []time.Duration{0, time.Second, 3 * time.Second}
	m := &model{
		agents:   map[string]*magent{},
		assigned: map[uint64]string{},
		loads:    map[string]int{},
		queued:   map[uint64]*mconv{},
		interval: intervals[rng.IntN(len(intervals))],
	}
	r := New(WithPositionInterval(m.interval))
	for i := range 1 + rng.IntN(3) {
		name := fmt.Sprintf("g%d", i)
		if err := r.AddGroup(name, Policy(rng.IntN(int(numPolicies)))); err != nil {
			return err
		}
		m.groups = append(m.groups, name)
	}
	nAgents := 1 + rng.IntN(maxAgents)
	now := t0
	nextConv := uint64(1)
	var ups []PositionUpdate

	randomConv := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			if ks := sortedKeys(m.assigned); len(ks) > 0 {
				return ks[rng.IntN(len(ks))]
			}
		case 1:
			if ks := sortedKeys(m.queued); len(ks) > 0 {
				return ks[rng.IntN(len(ks))]
			}
		}
		nextConv++
		return nextConv - 1
	}

	for step := range steps {
		now = now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		id := fmt.Sprintf("a%d", rng.IntN(nAgents))
		var err error
		var op string
		switch k := rng.IntN(20); {
		case k < 3: // set agent
			op = "set"
			var gs []string
			for len(gs) == 0 {
				for _, g := range m.groups {
					for range rng.IntN(3) { // sometimes twice
						gs = append(gs, g)
					}
				}
			}
			rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
			max := rng.IntN(maxChats + 1)
			status := []Status{Online, Online, Online, Away, Offline}[rng.IntN(5)]
			var as []Assignment
			as, err = r.SetAgent(id, gs, max, status, now)
			if err != nil {
				break
			}
			uniq := slices.Clone(gs)
			slices.Sort(uniq)
			m.agents[id] = &magent{groups: slices.Compact(uniq), max: max, status: status}
			err = m.drained(id, as, now)
		case k < 10: // route
			op = "route"
			g := m.groups[rng.IntN(len(m.groups))]
			conv := randomConv()
			prio := rng.IntN(3)
			want := r.pick(r.groupIdx[g])
			a, ok, pos, rerr := r.Route(g, conv, prio, now)
			_, assigned := m.assigned[conv]
			_, queued := m.queued[conv]
			switch {
			case assigned:
				if !errors.Is(rerr, ErrAlreadyAssigned) {
					err = fmt.Errorf("route of assigned %d: %v", conv, rerr)
				}
			case queued:
				if !errors.Is(rerr, ErrAlreadyQueued) {
					err = fmt.Errorf("route of queued %d: %v", conv, rerr)
				}
			case rerr != nil:
				err = rerr
			case ok:
				ma := m.agents[a.Agent]
				if a.Agent != want || a.Conv != conv || a.Group != g || ma.status != Online || m.load(a.Agent)+1 > ma.max {
					err = fmt.Errorf("route %d to %q: %+v, want agent %q", conv, g, a, want)
				}
				m.give(conv, a.Agent)
			default:
				ahead := 0
				for _, q := range m.queued {
					if q.group == g && q.prio >= prio {
						ahead++
					}
				}
				if want != "" || pos != ahead+1 {
					err = fmt.Errorf("route %d to %q queued at %d, want %d (agent %q has room)", conv, g, pos, ahead+1, want)
				}
				m.seq++
				m.queued[conv] = &mconv{group: g, prio: prio, seq: m.seq, enq: now, told: pos, toldAt: now}
			}
		case k < 15: // release
			op = "release"
			conv := randomConv()
			if ks := sortedKeys(m.assigned); len(ks) > 0 && rng.IntN(8) != 0 {
				conv = ks[rng.IntN(len(ks))]
			}
			holder, assigned := m.assigned[conv]
			if !assigned || rng.IntN(10) == 0 {
				if _, known := m.agents[id]; !known || holder == id {
					continue
				}
				if _, rerr := r.Release(id, conv, now); !errors.Is(rerr, ErrNotAssigned) {
					err = fmt.Errorf("release %d from %q (held by %q): %v", conv, id, holder, rerr)
				}
				break
			}
			var as []Assignment
			as, err = r.Release(holder, conv, now)
			if err != nil {
				break
			}
			m.take(conv)
			err = m.drained(holder, as, now)
		case k < 17: // cancel
			op = "cancel"
			conv := randomConv()
			_, queued := m.queued[conv]
			if got := r.Cancel(conv); got != queued {
				err = fmt.Errorf("Cancel(%d) = %v, queued %v", conv, got, queued)
			}
			delete(m.queued, conv)
		case k < 18: // direct assignment
			op = "assign"
			ma, known := m.agents[id]
			if !known {
				continue
			}
			g := m.groups[rng.IntN(len(m.groups))]
			conv := randomConv()
			a, aerr := r.Assign(id, g, conv, now)
			_, assigned := m.assigned[conv]
			q, queued := m.queued[conv]
			switch {
			case assigned:
				if !errors.Is(aerr, ErrAlreadyAssigned) {
					err = fmt.Errorf("assign of assigned %d: %v", conv, aerr)
				}
			case ma.status != Online:
				if !errors.Is(aerr, ErrAgentUnavailable) {
					err = fmt.Errorf("assign to %v agent: %v", ma.status, aerr)
				}
			case m.load(id) >= ma.max:
				if !errors.Is(aerr, ErrAgentFull) {
					err = fmt.Errorf("assign to full agent: %v", aerr)
				}
			case aerr != nil:
				err = aerr
			default:
				waited := time.Duration(0)
				if queued {
					waited = now.Sub(q.enq)
				}
				if a != (Assignment{Conv: conv, Agent: id, Group: g, Waited: waited}) {
					err = fmt.Errorf("assign %d to %q: %+v", conv, id, a)
				}
				delete(m.queued, conv)
				m.give(conv, id)
			}
		case k < 19: // positions
			op = "positions"
			ups = r.Positions(now, ups[:0])
			if want := m.positions(now); !slices.Equal(ups, want) {
				err = fmt.Errorf("positions %v, want %v", ups, want)
			}
		default: // remove agent
			op = "remove"
			if _, known := m.agents[id]; !known {
				continue
			}
			rerr := r.RemoveAgent(id)
			if n := m.load(id); n > 0 {
				if !errors.Is(rerr, ErrAgentBusy) {
					err = fmt.Errorf("remove agent with %d chats: %v", n, rerr)
				}
				break
			}
			if rerr != nil {
				err = rerr
				break
			}
			delete(m.agents, id)
		}
		if err == nil {
			err = m.verify(r)
		}
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", step, op, err)
		}
	}
	return nil
}

// TestConvIndex checks the hash table against a Go map under churn with
// clustered keys, so deletion shifts entries back across wrapped probe runs.
func TestConvIndex(t *testing.T) {
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		var x convIndex
		want := map[uint64]ref{}
		keys := func() uint64 { return uint64(rng.IntN(3000)) << (rng.IntN(2) * 40) }
		for step := range 20000 {
			k := keys()
			switch rng.IntN(3) {
			case 0:
				v := ref(rng.IntN(1000) - 500)
				x.set(k, v)
				want[k] = v
			case 1:
				v, ok := want[k]
				if rng.IntN(4) == 0 {
					v++
				}
				got := x.deleteIf(k, v)
				if got != (ok && want[k] == v) {
					t.Fatalf("seed %d step %d: deleteIf(%d, %d) = %v", seed, step, k, v, got)
				}
				if got {
					delete(want, k)
				}
			default:
				got, ok := x.get(k)
				if w, wok := want[k]; ok != wok || got != w {
					t.Fatalf("seed %d step %d: get(%d) = %d, %v; want %d, %v", seed, step, k, got, ok, w, wok)
				}
			}
			if x.len() != len(want) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, x.len(), len(want))
			}
		}
		for k, w := range want {
			if got, ok := x.get(k); !ok || got != w {
				t.Fatalf("seed %d: get(%d) = %d, %v; want %d", seed, k, got, ok, w)
			}
		}
	}
}
