package behavior

import (
	"strconv"

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
