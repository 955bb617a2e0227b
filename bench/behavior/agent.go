package behavior

import (
	"fmt"
	"slices"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// timer kinds of an agent.
const (
	atOnline uint8 = iota + 1
	atType
	atWrap
	atAway
	atBack
)

// Agent is one simulated human agent: it signs in, takes the chats the
// server assigns it, greets, answers each customer message after a typing
// time, closes a chat after the scenario's number of exchanges, wraps up,
// and takes breaks. It writes one message at a time: with several chats,
// replies wait for each other, so the latency a customer perceives grows
// with the agent's concurrency by itself, as it does for a person.
//
// The agent records AgentReply when it sends a reply: from the customer
// message's intended and actual send times (as the ledger returns them on
// receipt) to the reply's send, bucketed by the chats the agent carries
// then. The reply's own network delivery is measured apart, as delivery.
type Agent struct {
	env      *Env
	id       string
	key      uint64
	group    string
	maxChats int

	link     Link
	online   bool
	away     bool
	typing   bool
	wrapping int
	typeGen  uint32
	cids     clientIDs

	chats []agentChat
	jobs  []agentJob // the typing queue, first in first out
	free  time.Time  // when the typist is free (the due time of the last job)
	cur   agentJob   // the job being typed

	lastCID  uint64 // the message in flight, for its ack
	lastConv uint64
	lastAt   [2]time.Time
}

// agentChat is one chat an agent carries.
type agentChat struct {
	conv      uint64
	exchanges int
	closing   bool // the agent closed it and holds the slot already
}

// agentJob is one message to type: a greeting or a reply.
type agentJob struct {
	conv     uint64
	greet    bool
	arrived  time.Time    // when the agent could start it
	customer [2]time.Time // the customer message answered: intended, sent
	due      time.Time
}

var _ Actor = (*Agent)(nil)

// NewAgent returns an agent with user id id serving skill group group with
// at most maxChats chats at once, not yet started.
func NewAgent(env *Env, id, group string, maxChats int) *Agent {
	return &Agent{env: env, id: id, key: userKey(id), group: group, maxChats: max(maxChats, 1)}
}

// Start schedules the agent's sign-in after a draw of the scenario's
// agents.online.
func (a *Agent) Start() {
	now := a.env.Sched.Now()
	a.env.Sched.At(now.Add(a.env.Scenario.Agents.Online.Sample(a.env.Rand)), a, token(atOnline, 0))
}

// Chats returns the number of chats the agent carries now.
func (a *Agent) Chats() int { return len(a.chats) }

// Timer implements Actor.
func (a *Agent) Timer(tok uint64) {
	env := a.env
	now := env.Sched.Now()
	kind, gen := splitToken(tok)
	switch kind {
	case atOnline:
		a.signIn(now)
	case atType:
		if gen == a.typeGen && a.typing {
			a.typed(now)
		}
	case atWrap:
		a.wrapping = max(a.wrapping-1, 0)
		a.status()
	case atAway:
		a.away = true
		a.status()
		env.Sched.At(now.Add(env.Scenario.Agents.Away.For.Sample(env.Rand)), a, token(atBack, 0))
	case atBack:
		a.away = false
		a.status()
		a.scheduleAway(now)
	}
}

func (a *Agent) signIn(now time.Time) {
	env := a.env
	env.started(now, now)
	l, err := env.Dial.Dial(a, 0)
	if err != nil {
		env.Rec.Error("connect")
		return
	}
	env.net(record.Connect, now, now, env.Sched.Now())
	env.Rec.AddConnections(1)
	a.link = l
	a.lastAt = [2]time.Time{now, now}
	a.send(&wire.Hello{Role: wire.RoleAgent, Tenant: env.Tenant, User: a.id, Device: "console"})
}

func (a *Agent) scheduleAway(now time.Time) {
	away := a.env.Scenario.Agents.Away
	if !away.Every.IsSet() {
		return
	}
	a.env.Sched.At(now.Add(away.Every.Sample(a.env.Rand)), a, token(atAway, 0))
}

func (a *Agent) send(m wire.Msg) {
	if a.link == nil {
		a.env.Rec.Error("send")
		return
	}
	if err := a.link.Send(m); err != nil {
		a.env.Rec.Error("send")
	}
}

// status tells the server how many chats the agent takes: its limit less
// the slots held in wrap-up, or away when none.
func (a *Agent) status() {
	if !a.online || a.link == nil {
		return
	}
	eff := a.maxChats - a.wrapping
	st := wire.AgentStatus{State: wire.AgentOnline, MaxChats: uint64(max(eff, 1)), Groups: []string{a.group}}
	if a.away || eff <= 0 {
		st.State = wire.AgentAway
	}
	a.send(&st)
}

// Receive implements Actor.
func (a *Agent) Receive(dev int, m wire.Msg) {
	env := a.env
	now := env.Sched.Now()
	switch m := m.(type) {
	case *wire.Ready:
		env.net(record.Hello, a.lastAt[0], a.lastAt[1], now)
		a.online = true
		env.Rec.AgentChats(a.key, len(a.chats), now)
		a.status()
		a.scheduleAway(now)
	case *wire.Assignment:
		a.assigned(m, now)
	case *wire.Delivery:
		a.delivered(m, now)
	case *wire.Ack:
		if m.ClientID == a.lastCID && m.Seq != 0 {
			env.Ledger.Acked(m.Conv, m.ClientID, m.Seq)
			env.net(record.Ack, a.lastAt[0], a.lastAt[1], now)
		}
	case *wire.Close:
		a.closed(m.Conv, now)
	case *wire.Error:
		if m.ClientID != 0 && m.ClientID == a.lastCID {
			env.Ledger.Acked(a.lastConv, m.ClientID, 0)
			if m.Code == wire.CodeClosed {
				return
			}
		}
		env.Rec.Error(fmt.Sprint(int(m.Code)))
	case *wire.Ping:
		a.send(&wire.Pong{Nonce: m.Nonce})
	}
}

func (a *Agent) chat(conv uint64) int {
	return slices.IndexFunc(a.chats, func(c agentChat) bool { return c.conv == conv })
}

func (a *Agent) assigned(m *wire.Assignment, now time.Time) {
	env := a.env
	if a.chat(m.Conv) >= 0 {
		return
	}
	dev := deviceKey(a.key, 0)
	if err := env.Ledger.Join(m.Conv, dev); err != nil {
		env.Rec.Error("ledger")
	}
	for i := range m.Transcript {
		t := &m.Transcript[i]
		env.Ledger.Received(dev, t.Conv, t.Seq, t.ClientID)
	}
	a.chats = append(a.chats, agentChat{conv: m.Conv})
	env.Rec.AgentChats(a.key, len(a.chats), now)
	a.queue(agentJob{conv: m.Conv, greet: true, arrived: now}, now)
}

func (a *Agent) delivered(m *wire.Delivery, now time.Time) {
	env := a.env
	intended, sent, ok := env.Ledger.Received(deviceKey(a.key, 0), m.Conv, m.Seq, m.ClientID)
	if ok {
		env.net(record.Delivery, intended, sent, now)
	} else {
		intended, sent = now, now
	}
	if m.SenderRole != wire.RoleCustomer {
		return
	}
	if i := a.chat(m.Conv); i < 0 || a.chats[i].closing {
		return
	}
	a.queue(agentJob{conv: m.Conv, arrived: now, customer: [2]time.Time{intended, sent}}, now)
}

// queue adds a job to the typing queue and starts typing if idle.
func (a *Agent) queue(j agentJob, now time.Time) {
	a.jobs = append(a.jobs, j)
	if !a.typing {
		a.typeNext(now)
	}
}

// typeNext starts the next job of a chat still open.
func (a *Agent) typeNext(now time.Time) {
	env := a.env
	for len(a.jobs) > 0 {
		j := a.jobs[0]
		a.jobs = append(a.jobs[:0], a.jobs[1:]...)
		if i := a.chat(j.conv); i < 0 || a.chats[i].closing {
			continue
		}
		start := j.arrived
		if a.free.After(start) {
			start = a.free
		}
		d := env.Scenario.Agents.Typing
		if j.greet {
			d = env.Scenario.Agents.Greet
		}
		j.due = start.Add(d.Sample(env.Rand))
		a.cur, a.free, a.typing = j, j.due, true
		a.typeGen++
		env.Sched.At(j.due, a, token(atType, a.typeGen))
		return
	}
	a.typing = false
}

// typed sends the message just typed, and closes the chat after its last
// exchange.
func (a *Agent) typed(now time.Time) {
	env := a.env
	j := a.cur
	i := a.chat(j.conv)
	if i >= 0 && !a.chats[i].closing {
		env.started(j.due, now)
		k, body := env.message()
		cid := a.cids.next(env.Rand)
		a.lastCID, a.lastConv, a.lastAt = cid, j.conv, [2]time.Time{j.due, now}
		env.Ledger.Sent(j.conv, deviceKey(a.key, 0), cid, j.due, now)
		a.send(&wire.Message{ClientID: cid, Conv: j.conv, Kind: k, Body: body})
		if !j.greet {
			env.Rec.AgentReply(len(a.chats), j.customer[0], j.customer[1], now)
			c := &a.chats[i]
			c.exchanges++
			if n := env.Scenario.Agents.CloseAfter; n > 0 && c.exchanges >= n {
				c.closing = true
				a.wrapUp(now)
				a.send(&wire.Close{ClientID: a.cids.next(env.Rand), Conv: j.conv, Reason: "resolved"})
			}
		}
	}
	a.typing = false
	a.typeNext(now)
}

// wrapUp holds one slot for the wrap-up time.
func (a *Agent) wrapUp(now time.Time) {
	env := a.env
	a.wrapping++
	a.status()
	env.Sched.At(now.Add(env.Scenario.Agents.WrapUp.Sample(env.Rand)), a, token(atWrap, 0))
}

// closed handles the end of a chat, by either side.
func (a *Agent) closed(conv uint64, now time.Time) {
	env := a.env
	i := a.chat(conv)
	if i < 0 {
		return
	}
	closing := a.chats[i].closing
	a.chats = slices.Delete(a.chats, i, i+1)
	env.Ledger.Leave(conv, deviceKey(a.key, 0))
	env.Rec.AgentChats(a.key, len(a.chats), now)
	if !closing {
		a.wrapUp(now)
	}
}

// Dropped implements Actor: the agent lost its connection and stays
// offline.
func (a *Agent) Dropped(dev int, err error) {
	if a.link == nil {
		return
	}
	a.link = nil
	a.online = false
	a.env.Rec.AddConnections(-1)
	a.env.Rec.Error("dropped")
	a.env.Rec.AgentOffline(a.key, a.env.Sched.Now())
}
