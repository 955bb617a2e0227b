package behavior

import (
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// ErrNoLink is returned when an actor must send but holds no link.
var ErrNoLink = errors.New("behavior: no link")

// Scheduler is time and timers as the actors see them: the swarm
// implements it on a timer wheel in wall time scaled by the scenario's
// timescale, the simulator on an event heap in virtual time. It need not be
// safe for concurrent use: each event loop has its own, and calls its
// actors from that loop only.
type Scheduler interface {
	// Now returns the current scenario time.
	Now() time.Time
	// At calls a.Timer(token) at t, or as soon as possible if t has passed.
	// Timers cannot be cancelled: an actor ignores a stale one by its token.
	At(t time.Time, a Actor, token uint64)
}

// Link is one connection of a simulated user, as its script sees it: the
// swarm backs it with a client connection, the simulator with direct desk
// calls.
type Link interface {
	// Send writes m to the server. m is encoded (or copied) before Send
	// returns, so the caller may reuse it.
	Send(m wire.Msg) error
	// Close ends the link from the client's side. The link reports no
	// Dropped for a link its actor closed.
	Close() error
}

// Dialer opens links: the swarm dials TCP, the simulator attaches to the
// desk. The new link delivers its messages to a.Receive with the given
// device number and reports a.Dropped when the server or the driver ends
// it. Dial returns once the link can take Send.
type Dialer interface {
	// Dial opens link device of actor a.
	Dial(a Actor, device int) (Link, error)
}

// Actor is a simulated user driven by its driver's events. Its methods are
// called from one event loop at a time.
type Actor interface {
	// Receive handles a message that arrived on link device. Byte fields of
	// m are valid only during the call.
	Receive(device int, m wire.Msg)
	// Timer handles a timer the actor set with Scheduler.At.
	Timer(token uint64)
	// Dropped says that link device ended: the server closed it, or the
	// driver killed it (a storm).
	Dropped(device int, err error)
}

// Env is what actors of one event loop share: its clock, its dialer, its
// recording shard, and the run's ledger, random source and scenario.
type Env struct {
	// Sched is the loop's clock and timers.
	Sched Scheduler
	// Dial opens links.
	Dial Dialer
	// Rec is the loop's recording shard.
	Rec *record.Shard
	// Ledger is the run's message ledger (shared by every loop).
	Ledger *record.Ledger
	// Rand is the loop's random source: every sample the actors draw.
	Rand *rand.Rand
	// Scenario is the scenario played: the script and the agents' behaviour.
	Scenario *scenario.Scenario
	// Corpus is where customers' questions come from.
	Corpus *scenario.Corpus
	// Tenant is the tenant the actors sign in to.
	Tenant string
	// Timescale is how many seconds of scenario time pass per second of
	// wall time (the scenario's timescale in the swarm, 1 in the
	// simulator); network latencies are divided by it. 0 means 1.
	Timescale float64
	// MenuItems are the menu items a choose step without items picks from
	// (the tenant's items the bot answers). Empty: DefaultMenuItems.
	MenuItems []string
	// Prefix begins the user ids of the lane's customers and agents, so
	// that several runs against one server (the steps of --find-max) do
	// not share users. Empty: none.
	Prefix string

	body  []byte // scratch for message bodies
	reply []byte // scratch for the bodies of agents' replies
}

// wall converts a span of scenario time to wall time.
func (e *Env) wall(d time.Duration) time.Duration {
	if e.Timescale <= 0 || e.Timescale == 1 {
		return d
	}
	return time.Duration(float64(d) / e.Timescale)
}

// scen converts a span of wall time to scenario time.
func (e *Env) scen(d time.Duration) time.Duration {
	if e.Timescale <= 0 || e.Timescale == 1 {
		return d
	}
	return time.Duration(float64(d) * e.Timescale)
}

// The reconnect backoff: after a link drops, or a dial fails, a client
// dials again after a delay drawn uniformly from [0, ceiling) (full
// jitter), where the ceiling starts at RedialBase and doubles with each
// attempt that fails, up to RedialMax, in wall time. A ready resets it. The
// draws come from Env.Rand, so a run stays reproducible for a seed.
const (
	RedialBase = 100 * time.Millisecond
	RedialMax  = 2 * time.Second
)

// backoff draws the delay, in scenario time, before redial number attempt
// (0 for the first after a drop).
func (e *Env) backoff(attempt uint8) time.Duration {
	ceiling := RedialMax
	if attempt < 8 {
		ceiling = min(RedialBase<<attempt, RedialMax)
	}
	return e.scen(time.Duration(e.Rand.Int64N(int64(ceiling))) + 1)
}

// fatalCode reports whether an error closing a connection says that the
// client itself is wrong (a bad frame, no hello, refused credentials, ...):
// dialing again would be refused the same way, so the client does not.
// Shutdown, overload, idleness, rate limits and slow reading are worth a
// redial.
func fatalCode(c wire.Code) bool {
	switch c {
	case wire.CodeBadFrame, wire.CodeTooLarge, wire.CodeNotHello, wire.CodeAuth, wire.CodeDupHello, wire.CodeUnknownType, wire.CodeBadText:
		return true
	}
	return false
}

// net records a network latency in wall time.
func (e *Env) net(m record.Metric, intended, sent, done time.Time) {
	e.Rec.RecordDurations(m, e.wall(done.Sub(intended)), e.wall(done.Sub(sent)))
}

// started records that an action meant for intended started now, its lag
// in wall time.
func (e *Env) started(intended, now time.Time) {
	e.Rec.ActionStarted(intended, intended.Add(e.wall(now.Sub(intended))))
}

// fill returns a scratch body of n bytes, valid until the next call.
func (e *Env) fill(n int) []byte {
	if cap(e.body) < n {
		e.body = make([]byte, n)
		for i := range e.body {
			e.body[i] = 'a' + byte(i%26)
		}
	}
	return e.body[:n]
}

// message draws a chat message from the scenario's mix: its kind and a
// body valid until the next call.
func (e *Env) message() (wire.Kind, []byte) {
	mix := e.Scenario.Messages.Mix
	if len(mix) == 0 {
		return wire.KindText, e.fill(24)
	}
	total := 0.0
	for _, m := range mix {
		total += m.Weight
	}
	x := e.Rand.Float64() * total
	pick := mix[len(mix)-1]
	for _, m := range mix {
		if x < m.Weight {
			pick = m
			break
		}
		x -= m.Weight
	}
	k, ok := pick.WireKind()
	if !ok {
		k = wire.KindText
	}
	return k, e.fill(max(pick.Size.Sample(e.Rand), 1))
}

// DefaultMenuItems are the demo tenant's menu items the bot answers: what a
// choose step without items picks from when Env.MenuItems is empty.
var DefaultMenuItems = []string{"1", "2", "3", "4", "5"}

// deviceNames are the hello device names of a user's links.
var deviceNames = [...]string{"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"}

// MaxDevices is the most links a simulated customer holds.
const MaxDevices = len(deviceNames)

// userKey hashes a user id to the number the ledger and the agent
// accounting know it by.
func userKey(user string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(user))
	return h.Sum64()
}

// deviceKey is the ledger's id of a user's device.
func deviceKey(user uint64, device int) uint64 { return user<<3 | uint64(device) }

// clientIDs hands out a sender's client ids: a random base and a counter,
// so that ids stay unique across reconnects and never are 0.
// stamp is a scenario time in 8 bytes, Unix nanoseconds (0: none): a
// simulated customer keeps several, and a time.Time takes 24. Scenario
// times carry no monotonic reading, so nothing is lost.
type stamp int64

func stampOf(t time.Time) stamp {
	if t.IsZero() {
		return 0
	}
	return stamp(t.UnixNano())
}

// time returns the stamp as a time.Time, in UTC; the zero time for 0.
func (s stamp) time() time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s)).UTC()
}

type clientIDs struct {
	base uint64
	n    uint32
}

func (c *clientIDs) next(r *rand.Rand) uint64 {
	if c.base == 0 {
		c.base = r.Uint64() | 1<<63
	}
	c.n++
	return c.base + uint64(c.n)
}

// timer tokens: the low byte is the kind, the rest a generation.
func token(kind uint8, gen uint32) uint64 { return uint64(gen)<<8 | uint64(kind) }

func splitToken(t uint64) (kind uint8, gen uint32) { return uint8(t), uint32(t >> 8) }
