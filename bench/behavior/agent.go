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
	atRedial
)

// Agent is one simulated human agent: it signs in, takes the chats the
// server assigns it, greets, answers each customer message after a typing
// time, closes a chat after the scenario's number of exchanges, wraps up,
// and takes breaks. It writes one message at a time: with several chats,
// replies wait for each other, so the latency a customer perceives grows
// with the agent's concurrency by itself, as it does for a person.
//
// A reply's body begins with a stamp naming the sequence of the customer
// message it answers (replyStamp); a greeting has none. That is how the
// customer tells its answer from the greeting, or from the late answer to
// an earlier message (see Customer).
//
// The agent records AgentReply when it sends a reply: from the customer
// message's intended and actual send times (as the ledger returns them on
// receipt) to the reply's send, bucketed by the chats the agent carries
// then. The reply's own network delivery is measured apart, as delivery.
//
// When its connection drops the agent dials again after a backoff
// (Env.backoff), as a console does: its hello resumes every chat it
// carries from the last sequence it received, it says its status again
// (the server does not keep an agent's status across a restart), and it
// sends again, with the same client ids and content, every message and
// close not yet acknowledged. A chat the server lists in its ready that the
// agent does not know (its assignment was lost with the connection) is
// taken up: the agent dials once more at once, resuming it from the start,
// so that its transcript comes in order before anything new.
type Agent struct {
	env      *Env
	id       string
	key      uint64
	group    string
	maxChats int

	link     Link
	up       bool // ready received on link
	signedIn bool // the first ready came
	fatal    bool // the server refused the agent: no redial
	down     bool // dropped and not back (counted in the shard's AddDown)
	redial   bool // link is a redial
	attempt  uint8
	linkGen  uint32
	dialAt   time.Time
	signAt   time.Time // the first sign-in's start

	away     bool
	typing   bool
	wrapping int
	typeGen  uint32
	cids     clientIDs

	chats []agentChat
	jobs  []agentJob // the typing queue, first in first out
	free  time.Time  // when the typist is free (the due time of the last job)
	cur   agentJob   // the job being typed

	pend []agentReq // messages and closes sent and not yet acknowledged
}

// agentChat is one chat an agent carries.
type agentChat struct {
	conv      uint64
	lastSeq   uint64 // the highest sequence received, to resume from
	exchanges int
	closing   bool // the agent closed it and holds the slot already
}

// agentReq is a request of the agent not yet acknowledged, kept to send it
// again after a reconnect: a message (its body is size scratch bytes) or
// a close.
type agentReq struct {
	cid, conv uint64
	re        uint64       // a reply: the sequence of the customer message it answers
	at        [2]time.Time // the message's intended and actual send times
	typ       wire.Type
	kind      wire.Kind
	size      int32
}

// agentJob is one message to type: a greeting or a reply.
type agentJob struct {
	conv     uint64
	seq      uint64 // a reply: the sequence of the customer message answered
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
	case atRedial:
		if gen == a.linkGen && a.link == nil {
			a.dial(now, true)
		}
	}
}

func (a *Agent) signIn(now time.Time) {
	a.env.started(now, now)
	a.signAt = now
	a.dial(now, false)
}

// dial opens the agent's link and says hello, resuming every chat it
// carries.
func (a *Agent) dial(now time.Time, redial bool) {
	env := a.env
	if redial {
		env.Rec.Link(record.LinkRedial)
	}
	l, err := env.Dial.Dial(a, 0)
	if err != nil {
		if redial {
			env.Rec.Link(record.LinkFailed)
		} else {
			env.Rec.Error("connect")
		}
		a.redialLater()
		return
	}
	if !redial {
		env.net(record.Connect, now, now, env.Sched.Now())
	}
	env.Rec.AddConnections(1)
	a.link, a.redial, a.dialAt = l, redial, now
	h := wire.Hello{Role: wire.RoleAgent, Tenant: env.Tenant, User: a.id, Device: "console"}
	for _, c := range a.chats {
		h.Resume = append(h.Resume, wire.ResumePoint{Conv: c.conv, Seq: c.lastSeq})
	}
	a.send(&h)
}

// redialLater sets the timer of the next redial.
func (a *Agent) redialLater() {
	env := a.env
	a.linkGen++
	at := env.Sched.Now().Add(env.backoff(a.attempt))
	a.attempt = min(a.attempt+1, 255)
	env.Sched.At(at, a, token(atRedial, a.linkGen))
}

func (a *Agent) scheduleAway(now time.Time) {
	away := a.env.Scenario.Agents.Away
	if !away.Every.IsSet() {
		return
	}
	a.env.Sched.At(now.Add(away.Every.Sample(a.env.Rand)), a, token(atAway, 0))
}

// send writes m on the link. A link that cannot take a send is broken: it
// is closed and handled as dropped.
func (a *Agent) send(m wire.Msg) {
	if a.link == nil {
		return
	}
	if err := a.link.Send(m); err != nil {
		_ = a.link.Close()
		a.Dropped(0, err)
	}
}

// request sends a message or a close, kept until acknowledged; while the
// link is down it goes when the link is ready again.
func (a *Agent) request(r agentReq) {
	a.pend = append(a.pend, r)
	if a.up {
		a.sendReq(&r)
	}
}

// sendReq sends r, the same each time.
func (a *Agent) sendReq(r *agentReq) {
	switch r.typ {
	case wire.TMessage:
		body := a.env.fill(max(int(r.size), 1))
		if r.re != 0 {
			body = a.env.replyBody(r.re, int(r.size))
		}
		a.send(&wire.Message{ClientID: r.cid, Conv: r.conv, Kind: r.kind, Body: body})
	case wire.TClose:
		a.send(&wire.Close{ClientID: r.cid, Conv: r.conv, Reason: "resolved"})
	}
}

// settle removes the request with client id cid from the pending ones,
// returning it.
func (a *Agent) settle(cid uint64) (agentReq, bool) {
	for i, r := range a.pend {
		if r.cid == cid {
			a.pend = slices.Delete(a.pend, i, i+1)
			return r, true
		}
	}
	return agentReq{}, false
}

// status tells the server how many chats the agent takes: its limit less
// the slots held in wrap-up, or away when none.
func (a *Agent) status() {
	if !a.up {
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
		a.ready(m, now)
	case *wire.Assignment:
		a.assigned(m, now)
	case *wire.Delivery:
		a.delivered(m, now)
	case *wire.Ack:
		r, ok := a.settle(m.ClientID)
		if m.Seq == 0 {
			return
		}
		env.Ledger.Acked(m.Conv, m.ClientID, m.Seq)
		if ok {
			env.net(record.Ack, r.at[0], r.at[1], now)
		}
	case *wire.Close:
		a.closed(m.Conv, now)
	case *wire.Error:
		if fatalCode(m.Code) {
			a.fatal = true
		}
		if m.ClientID != 0 {
			if r, ok := a.settle(m.ClientID); ok {
				if r.typ == wire.TMessage {
					env.Ledger.Acked(r.conv, m.ClientID, 0)
				}
				if m.Code == wire.CodeClosed {
					return
				}
			}
		}
		env.Rec.Error(fmt.Sprint(int(m.Code)))
	case *wire.Ping:
		a.send(&wire.Pong{Nonce: m.Nonce})
	}
}

// ready handles the server's ready: the agent is signed in, says its
// status, takes up chats it did not know of, and sends again what was not
// acknowledged.
func (a *Agent) ready(m *wire.Ready, now time.Time) {
	env := a.env
	a.up = true
	a.attempt = 0
	if a.redial {
		env.Rec.Link(record.LinkResumed)
		env.net(record.Hello, a.dialAt, a.dialAt, now)
	} else {
		env.net(record.Hello, a.signAt, a.signAt, now)
	}
	var adopted bool
	for _, p := range m.Convs {
		if a.chat(p.Conv) < 0 {
			// Assigned, and the assignment lost with a connection. The
			// resume from the start below replays the whole conversation.
			adopted = true
			if err := env.Ledger.Assign(p.Conv, deviceKey(a.key, 0), 1); err != nil {
				env.Rec.Error("ledger")
			}
			a.chats = append(a.chats, agentChat{conv: p.Conv})
			a.queue(agentJob{conv: p.Conv, greet: true, arrived: now}, now)
		}
	}
	if adopted {
		// Resume them from the start on a new connection, so that their
		// transcript comes in order before anything new.
		_ = a.link.Close()
		a.link, a.up = nil, false
		env.Rec.AddConnections(-1)
		a.dial(now, true)
		return
	}
	env.Rec.AgentChats(a.key, len(a.chats), now)
	a.status()
	if !a.signedIn {
		a.signedIn = true
		a.scheduleAway(now)
	}
	for i := range a.pend {
		a.sendReq(&a.pend[i])
	}
	if a.down {
		// Resumed: the replay follows the ready on this connection.
		a.down = false
		env.Rec.AddDown(-1)
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
	// Owed what the customer wrote before, which the transcript carries
	// (its latest messages, from its first sequence on).
	var first uint64
	for i := range m.Transcript {
		if s := m.Transcript[i].Seq; first == 0 || s < first {
			first = s
		}
	}
	if err := env.Ledger.Assign(m.Conv, dev, first); err != nil {
		env.Rec.Error("ledger")
	}
	var last uint64
	for i := range m.Transcript {
		t := &m.Transcript[i]
		env.Ledger.Received(dev, t.Conv, t.Seq, t.ClientID)
		last = max(last, t.Seq)
	}
	a.chats = append(a.chats, agentChat{conv: m.Conv, lastSeq: last})
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
	i := a.chat(m.Conv)
	if i >= 0 {
		a.chats[i].lastSeq = max(a.chats[i].lastSeq, m.Seq)
	}
	if m.SenderRole != wire.RoleCustomer || i < 0 || a.chats[i].closing {
		return
	}
	a.queue(agentJob{conv: m.Conv, seq: m.Seq, arrived: now, customer: [2]time.Time{intended, sent}}, now)
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
		env.Ledger.Sent(j.conv, deviceKey(a.key, 0), cid, j.due, now)
		a.request(agentReq{cid: cid, conv: j.conv, re: j.seq, at: [2]time.Time{j.due, now}, typ: wire.TMessage, kind: k, size: int32(len(body))})
		if !j.greet {
			env.Rec.AgentReply(len(a.chats), j.customer[0], j.customer[1], now)
			c := &a.chats[i]
			c.exchanges++
			if n := env.Scenario.Agents.CloseAfter; n > 0 && c.exchanges >= n {
				c.closing = true
				a.wrapUp(now)
				a.request(agentReq{cid: a.cids.next(env.Rand), conv: j.conv, typ: wire.TClose})
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
	if a.typing && a.cur.conv == conv {
		// The message being typed has nobody to go to: drop it, and type
		// what waits for the other chats now, not after it (its timer is
		// stale).
		a.typing = false
		a.typeGen++
		a.free = now
		a.typeNext(now)
	}
}

// Dropped implements Actor: the agent lost its connection, or a dial
// failed. It is offline until a redial, after a backoff, is ready.
func (a *Agent) Dropped(dev int, err error) {
	if a.link == nil {
		return
	}
	env := a.env
	a.link = nil
	env.Rec.AddConnections(-1)
	if a.up {
		env.Rec.Link(record.LinkDropped)
		env.Rec.AgentOffline(a.key, env.Sched.Now())
		if !a.down {
			a.down = true
			env.Rec.AddDown(1)
		}
	} else {
		env.Rec.Link(record.LinkFailed)
	}
	a.up = false
	if a.fatal {
		if a.down {
			a.down = false
			env.Rec.AddDown(-1)
		}
		return
	}
	a.redialLater()
}
