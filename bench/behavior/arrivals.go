package behavior

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Arrivals is an actor that starts a customer each time one of its timers
// fires. A driver keeps one per loop (or per simulator shard) and schedules
// a timer for every planned arrival, with the customer's number as token,
// so customers arrive on the schedule whatever the server does (the open
// model). Its fields are read under the same serialisation as its calls.
type Arrivals struct {
	// Env is the environment the customers live in.
	Env *Env
	// Customers are the customers started so far, in arrival order.
	Customers []*Customer
}

var _ Actor = (*Arrivals)(nil)

// Receive implements Actor; arrivals have no link.
func (a *Arrivals) Receive(int, wire.Msg) {}

// Dropped implements Actor; arrivals have no link.
func (a *Arrivals) Dropped(int, error) {}

// Timer implements Actor: customer number tok arrives and starts its script.
func (a *Arrivals) Timer(tok uint64) {
	c := NewCustomer(a.Env, "cust-"+strconv.FormatUint(tok, 10))
	a.Customers = append(a.Customers, c)
	c.Start()
}

// Lane is one serialised lane of a driver (a swarm loop, a simulator
// shard): its arrival actor, whose Env the lane's agents and customers
// share, and a way to run code serialised with the lane's actors.
type Lane struct {
	Arrivals *Arrivals
	Do       func(fn func())
}

// Populate starts the scenario's agents and schedules every planned
// customer arrival from start on, spreading both round-robin over the
// lanes. Arrival times come from the scenario's schedule, drawn with a
// source seeded from the scenario, so a seed gives the same plan. It
// returns how many agents started and how many arrivals were scheduled.
func Populate(sc *scenario.Scenario, start time.Time, lanes []Lane) (agents, customers int) {
	for _, g := range sc.Agents.Groups {
		for i := range g.Count {
			l := lanes[agents%len(lanes)]
			id := "agent-" + g.Group + "-" + strconv.Itoa(i)
			l.Do(func() { NewAgent(l.Arrivals.Env, id, g.Group, g.MaxChats).Start() })
			agents++
		}
	}
	sched := sc.Schedule()
	r := rand.New(rand.NewPCG(sc.Seed, 2))
	for off := time.Duration(0); ; customers++ {
		at, ok := sched.NextArrival(off, r)
		if !ok {
			break
		}
		off = at
		l := lanes[customers%len(lanes)]
		tok := uint64(customers)
		l.Do(func() { l.Arrivals.Env.Sched.At(start.Add(at), l.Arrivals, tok) })
	}
	return agents, customers
}
