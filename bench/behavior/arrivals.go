package behavior

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Arrivals is the actor that starts one lane's customers. With Poisson
// arrivals (the open model) a driver schedules a timer for every planned
// arrival, with the customer's number as token, so customers arrive on the
// schedule whatever the server does. With a population (the closed model)
// it ticks, and on each tick starts customers until the lane holds its
// share of the schedule's level: one who leaves is replaced at the next
// tick. Its methods are called serialised with the lane's other actors.
//
// It keeps the customers still in their script, not every customer it ever
// started, so its memory follows the concurrent sessions, not the total.
type Arrivals struct {
	// Env is the environment the customers live in.
	Env *Env

	live              []*Customer // started, script not yet ended (as of the last sweep)
	started, finished int
	plan              *poissonPlan // Poisson: the lane's arrivals still to come
	pop               *population  // population: the level keeper; nil for Poisson
}

// poissonPlan draws a lane's Poisson arrivals one at a time, so that
// memory does not grow with the run's length. Every lane draws the whole
// run's sequence from the same seed and keeps the arrivals whose number
// falls to it (round-robin), so the plan does not depend on how the
// drivers split the work.
type poissonPlan struct {
	sched    scenario.Schedule
	r        *rand.Rand
	start    time.Time
	off      time.Duration // the last arrival drawn
	n        uint64        // its number
	lane, of uint64
	done     bool // no arrival left for the lane
}

// next returns the lane's next arrival: its number and time.
func (p *poissonPlan) next() (uint64, time.Time, bool) {
	for !p.done {
		at, ok := p.sched.NextArrival(p.off, p.r)
		if !ok {
			p.done = true
			break
		}
		n := p.n
		p.off, p.n = at, p.n+1
		if n%p.of == p.lane {
			return n, p.start.Add(at), true
		}
	}
	return 0, time.Time{}, false
}

// population is the closed model's state of one lane.
type population struct {
	start    time.Time
	sched    scenario.Schedule
	lane, of int           // this lane's index and the number of lanes
	tick     time.Duration // scenario time between checks
	stay     bool          // customers stay connected after their script
	next     uint64        // the next customer's number on this lane
	ended    bool          // the schedule is over: no more starts
	refill   bool          // a check after a leaver is due
}

// Timer tokens of the population among customer numbers: its periodic
// tick, and a check at once after a customer left.
const (
	tickToken   = uint64(1) << 63
	refillToken = tickToken | 1
)

var _ Actor = (*Arrivals)(nil)

// Receive implements Actor; arrivals have no link.
func (a *Arrivals) Receive(int, wire.Msg) {}

// Dropped implements Actor; arrivals have no link.
func (a *Arrivals) Dropped(int, error) {}

// Timer implements Actor: customer number tok arrives and starts its
// script, or the population ticks.
func (a *Arrivals) Timer(tok uint64) {
	if tok&tickToken != 0 && a.pop != nil {
		a.keep(tok == tickToken)
		return
	}
	a.arrive(tok)
	a.planNext()
}

// planNext sets the timer of the lane's next Poisson arrival.
func (a *Arrivals) planNext() {
	if a.plan == nil {
		return
	}
	if n, at, ok := a.plan.next(); ok {
		a.Env.Sched.At(at, a, n)
	}
}

// arrive starts customer number n.
func (a *Arrivals) arrive(n uint64) {
	c := NewCustomer(a.Env, a.Env.Prefix+"cust-"+strconv.FormatUint(n, 10))
	if a.pop != nil {
		c.onLeave = a
	}
	a.live = append(a.live, c)
	a.started++
	c.Start()
}

// sweep forgets customers whose script has ended.
func (a *Arrivals) sweep() {
	kept := a.live[:0]
	for _, c := range a.live {
		if c.Done() {
			a.finished++
			continue
		}
		kept = append(kept, c)
	}
	clear(a.live[len(kept):])
	a.live = kept
}

// Counts returns how many customers the lane has started and how many of
// them have ended their script.
func (a *Arrivals) Counts() (started, finished int) {
	a.sweep()
	return a.started, a.finished
}

// Settled reports whether the lane is through: every planned arrival has
// come (Poisson) or the schedule is over (population), and every customer
// started has ended its script.
func (a *Arrivals) Settled() bool {
	a.sweep()
	if a.pop != nil {
		return a.pop.ended && len(a.live) == 0
	}
	return (a.plan == nil || a.plan.done) && len(a.live) == 0
}

// left is told by a customer of a population that it left: the
// replacement starts at once, not at the next tick.
func (a *Arrivals) left() {
	if !a.pop.refill {
		a.pop.refill = true
		a.Env.Sched.At(a.Env.Sched.Now(), a, refillToken)
	}
}

// keep is the population's check: start customers up to the lane's share
// of the level now, or end at the schedule's end. The periodic tick
// (rearm) sets the next one.
func (a *Arrivals) keep(rearm bool) {
	p := a.pop
	if !rearm {
		p.refill = false
	}
	now := a.Env.Sched.Now()
	off := now.Sub(p.start)
	if off >= p.sched.Duration() {
		p.ended = true
		return
	}
	level := math.Floor(p.sched.At(off) + 1e-9)
	share := int(math.Floor(level*float64(p.lane+1)/float64(p.of))) - int(math.Floor(level*float64(p.lane)/float64(p.of)))
	a.sweep()
	connected := len(a.live)
	if p.stay {
		connected = a.started
	}
	for ; connected < share; connected++ {
		a.arrive(uint64(p.lane) + uint64(p.of)*p.next)
		p.next++
	}
	if rearm {
		a.Env.Sched.At(now.Add(p.tick), a, tickToken)
	}
}

// Lane is one serialised lane of a driver (a swarm loop, a simulator
// shard): its arrival actor, whose Env the lane's agents and customers
// share, and a way to run code serialised with the lane's actors.
type Lane struct {
	Arrivals *Arrivals
	Do       func(fn func())
}

// PopulationTick is how often, in wall time, a population lane checks its
// level; in scenario time it is at least 100ms.
const PopulationTick = 20 * time.Millisecond

// StartAgents starts the scenario's agents, round-robin over the lanes,
// and returns how many. Agent ids number each group's agents across its
// pools ("agent-general-0", ...): two pools of one group must not share
// ids, or the server would see one agent with two consoles.
func StartAgents(sc *scenario.Scenario, lanes []Lane) int {
	n := 0
	next := map[string]int{}
	for _, g := range sc.Agents.Groups {
		for range g.Count {
			l := lanes[n%len(lanes)]
			id := "agent-" + g.Group + "-" + strconv.Itoa(next[g.Group])
			next[g.Group]++
			l.Do(func() { NewAgent(l.Arrivals.Env, l.Arrivals.Env.Prefix+id, g.Group, g.MaxChats).Start() })
			n++
		}
	}
	return n
}

// Populate starts the scenario's agents and the customers' arrivals from
// start on, spreading both round-robin over the lanes. Poisson arrival
// times are drawn from the schedule, one ahead at a time, with a source
// seeded from the scenario, so a seed gives the same plan whatever the
// number of lanes; with a population each lane keeps its share of the
// level. It returns how many agents started and how many customers are
// expected (the schedule's estimate).
func Populate(sc *scenario.Scenario, start time.Time, lanes []Lane) (agents, customers int) {
	agents = StartAgents(sc, lanes)
	sched := sc.Schedule()
	if sched.Arrival == scenario.ArrivalPopulation {
		tick := max(100*time.Millisecond, time.Duration(float64(PopulationTick)*max(sc.Timescale, 1)))
		for i, l := range lanes {
			l.Do(func() {
				a := l.Arrivals
				a.pop = &population{start: start, sched: sched, lane: i, of: len(lanes), tick: tick, stay: sc.Customers.Stay}
				a.Env.Sched.At(start, a, tickToken)
			})
		}
		return agents, int(math.Round(sched.Sessions()))
	}
	for i, l := range lanes {
		l.Do(func() {
			a := l.Arrivals
			a.plan = &poissonPlan{sched: sched, r: rand.New(rand.NewPCG(sc.Seed, 2)), start: start, lane: uint64(i), of: uint64(len(lanes))}
			a.planNext()
		})
	}
	return agents, int(math.Round(sched.Sessions()))
}
