package behavior

import (
	"fmt"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// wait is what a customer waits for.
type wait uint8

const (
	wNone    wait = iota
	wAct          // the action timer of the current step
	wReady        // ready on every link (connect, reconnect)
	wOpen         // the ack and the menu of an open
	wBot          // the bot's answer to a question or choice
	wPerson       // the server's answer to a request for a person
	wAgent        // an agent, before chatting
	wReply        // the agent's reply to a chat message
	wClose        // the close of the conversation
	wAbandon      // the close after giving up in the queue
	wDone         // the script ended
)

// timer kinds of a customer.
const (
	ctAct uint8 = iota + 1
	ctPatience
	ctRedial // the low 3 bits of the generation are the device
)

// customer flags.
const (
	fOpenAcked uint16 = 1 << iota
	fMenu
	fToHuman
	fQueued
	fAssigned
	fFirstReply
	fEnded
	fOutcome
	fKilled
	fPending // a request of pendingCID awaits its ack
	fMessage // the pending request is a ledgered message
	fRetried // the pending request was sent again after a reconnect
	fEarly   // the bot's answer to the pending retried request came before its ack
)

// Customer is one simulated customer running the scenario's script.
// Create it with NewCustomer and start it with Start; from then on its
// driver calls Receive, Timer and Dropped.
type Customer struct {
	env   *Env
	id    string
	key   uint64
	links []custLink

	pc     int16
	wait   wait
	flags  uint16
	left   int32 // questions or messages left in the current step
	actGen uint32
	patGen uint32

	conv       uint64
	cids       clientIDs
	pendingCID uint64
	// msgSeq is the sequence the last chat message was stored under (0
	// until its ack), answered the highest sequence an agent's reply in
	// the conversation said it answers: the customer has its reply once
	// answered reaches msgSeq.
	msgSeq   uint64
	answered uint64

	// The pending request, to send it again, the same, after a reconnect:
	// its type, and for a message its kind and body (text, or a body of
	// reqSize scratch bytes); for a close its reason, for a transfer its
	// group (reqText). An open is rebuilt from the current step.
	reqType wire.Type
	reqKind wire.Kind
	reqSize int32
	reqText string
	// readySeq is the conversation's sequence in the ready of the first
	// link's last reconnect: a retried message acked at or below it was
	// stored before the connection dropped.
	readySeq uint64
	// adopt is a conversation the server listed in a reconnect's ready
	// while an open was pending: the open was stored before the drop.
	adopt uint64

	due      stamp // when the script means to act next
	intended stamp // the intended time of the action in flight
	sent     stamp // when it was sent
	handoff  [2]stamp
	opened   stamp // the conversation's open acknowledged
	patience time.Duration

	// onLeave is told when the customer leaves, so that a population replaces
	// it at once; nil for none.
	onLeave *Arrivals
}

// custLink is one device of a customer.
type custLink struct {
	link    Link
	lastSeq uint64 // highest sequence received in the conversation
	target  uint64 // while resuming: the sequence to catch up to
	dialAt  int64  // when a redial was made (scenario time, Unix ns)
	gen     uint32 // generation of the redial timer
	attempt uint8  // redials since the last ready
	resumes bool
	up      bool // ready received on this link
	fatal   bool // the server refused the client: no redial
	redial  bool // the link is a redial, not yet caught up
	down    bool // dropped and not back (counted in the shard's AddDown)
}

var _ Actor = (*Customer)(nil)

// NewCustomer returns a customer with user id id, not yet started.
func NewCustomer(env *Env, id string) *Customer {
	n := min(max(env.Scenario.Customers.Devices, 1), MaxDevices)
	return &Customer{env: env, id: id, key: userKey(id), links: make([]custLink, n)}
}

// Start begins the script now.
func (c *Customer) Start() {
	c.due = stampOf(c.env.Sched.Now())
	c.pc = -1
	c.next()
}

// Done reports whether the customer's script has ended.
func (c *Customer) Done() bool { return c.wait == wDone }

func (c *Customer) script() []scenario.Step { return c.env.Scenario.Customers.Script }

func (c *Customer) has(f uint16) bool { return c.flags&f != 0 }

// next ends the current step and begins the following ones, until one
// waits or the script ends.
func (c *Customer) next() {
	c.wait = wNone
	steps := c.script()
	for c.pc++; int(c.pc) < len(steps); c.pc++ {
		st := &steps[c.pc]
		if p := st.Probability(); p < 1 && c.env.Rand.Float64() >= p {
			continue
		}
		if c.begin(st) {
			return
		}
	}
	c.finish()
}

// open reports whether a conversation is open and not ended.
func (c *Customer) open() bool { return c.has(fOpenAcked) && !c.has(fEnded) }

// begin starts step st, reporting whether the customer now waits.
func (c *Customer) begin(st *scenario.Step) bool {
	r := c.env.Rand
	switch st.Kind() {
	case scenario.StepConnect, scenario.StepOpen, scenario.StepClose:
		if st.Open != nil && c.open() || st.Close != nil && !c.open() {
			return false
		}
	case scenario.StepExpectMenu:
		return false // open waits for the menu
	case scenario.StepThink:
		c.due = stampOf(c.due.time().Add(st.Think.Sample(r)))
	case scenario.StepBackground:
		c.due = stampOf(c.due.time().Add(st.Background.Sample(r)))
	case scenario.StepAbandonAfter:
		c.patience = st.AbandonAfter.Sample(r)
		if c.has(fQueued) {
			c.armPatience()
		}
		return false
	case scenario.StepAsk:
		if !c.open() || c.has(fToHuman) {
			return false
		}
		c.left = int32(st.Ask.Count)
	case scenario.StepChoose, scenario.StepAskPerson:
		if !c.open() || c.has(fToHuman) {
			return false
		}
	case scenario.StepChat:
		if !c.open() || !c.has(fToHuman) {
			return false
		}
		c.left = int32(st.Chat.Messages)
		if !c.has(fAssigned) {
			c.wait = wAgent
			return true
		}
		c.due = stampOf(c.due.time().Add(st.Chat.Think.Sample(r)))
	case scenario.StepKill:
		if c.links[0].link == nil {
			return false
		}
	default:
		return false
	}
	c.schedule()
	return true
}

// schedule sets the action timer for c.due.
func (c *Customer) schedule() {
	c.wait = wAct
	c.actGen++
	c.env.Sched.At(c.due.time(), c, token(ctAct, c.actGen))
}

// Timer implements Actor.
func (c *Customer) Timer(tok uint64) {
	kind, gen := splitToken(tok)
	switch {
	case kind == ctAct && gen == c.actGen && c.wait == wAct:
		c.act()
	case kind == ctPatience && gen == c.patGen && c.has(fQueued) && !c.has(fEnded):
		c.abandon()
	case kind == ctRedial:
		dev := int(gen & 7)
		if dev < len(c.links) && c.links[dev].gen<<3 == gen&^7 && c.links[dev].link == nil {
			c.redialNow(dev)
		}
	}
}

// act performs the current step's action, due at c.due.
func (c *Customer) act() {
	env := c.env
	now := env.Sched.Now()
	st := &c.script()[c.pc]
	switch st.Kind() {
	case scenario.StepThink, scenario.StepBackground:
		c.next()
		return
	case scenario.StepKill:
		if !c.has(fKilled) {
			c.kill(st.Kill.ReconnectAfter.Sample(env.Rand))
			return
		}
		c.start(now)
		c.connect(true)
		return
	}
	switch st.Kind() {
	case scenario.StepAsk, scenario.StepChoose, scenario.StepAskPerson, scenario.StepChat, scenario.StepClose:
		// The conversation ended while the customer was thinking (an
		// agent's close, the idle close): what needs it is skipped, as
		// begin skips it.
		if !c.open() {
			c.next()
			return
		}
	}
	c.start(now)
	switch st.Kind() {
	case scenario.StepConnect:
		c.connect(false)
	case scenario.StepOpen:
		c.wait = wOpen
		c.keep(wire.TOpen, "")
		c.request(&wire.Open{ClientID: c.cid(false), Channel: st.Open.Channel, Group: st.Open.Group})
	case scenario.StepAsk:
		c.wait = wBot
		q := env.Corpus.Draw(env.Rand, float64(env.Scenario.Customers.Answerable))
		c.say(wire.KindText, q.Question, 0)
	case scenario.StepChoose:
		c.wait = wBot
		items := st.Choose.Items
		if len(items) == 0 {
			items = env.MenuItems
		}
		if len(items) == 0 {
			items = DefaultMenuItems
		}
		item := items[env.Rand.IntN(len(items))]
		c.say(wire.KindMenuChoice, item, 0)
	case scenario.StepAskPerson:
		c.wait = wPerson
		c.keep(wire.TTransfer, st.AskPerson.Group)
		c.request(&wire.Transfer{ClientID: c.cid(false), Conv: c.conv, ToGroup: st.AskPerson.Group})
	case scenario.StepChat:
		c.wait = wReply
		k, body := env.message()
		c.say(k, "", len(body))
	case scenario.StepClose:
		c.wait = wClose
		c.keep(wire.TClose, "")
		c.request(&wire.Close{ClientID: c.cid(false), Conv: c.conv})
	}
}

// keep remembers what the next request is, to send it again after a
// reconnect.
func (c *Customer) keep(t wire.Type, text string) {
	c.reqType, c.reqKind, c.reqSize, c.reqText = t, 0, 0, text
}

// start records the start of the action due at c.due.
func (c *Customer) start(now time.Time) {
	c.intended, c.sent = c.due, stampOf(now)
	c.env.started(c.due.time(), now)
}

// cid returns a new client id for a request, remembered as pending.
func (c *Customer) cid(message bool) uint64 {
	c.pendingCID = c.cids.next(c.env.Rand)
	c.flags |= fPending
	c.flags &^= fMessage | fRetried | fEarly
	if message {
		c.flags |= fMessage
	}
	return c.pendingCID
}

// request sends m on the first link. While that link is down (dropped,
// redialing, or not yet ready) it waits: the request stays pending and
// goes when the link is ready again, its latency still measured from its
// intended time.
func (c *Customer) request(m wire.Msg) {
	if !c.links[0].up {
		return
	}
	c.sendOn(0, m)
}

// sendOn sends m on link dev. A link that cannot take a send is broken:
// it is closed and handled as dropped, so that it is dialed again and
// what is pending is sent again.
func (c *Customer) sendOn(dev int, m wire.Msg) {
	if err := c.send(dev, m); err != nil && c.links[dev].link != nil {
		_ = c.links[dev].link.Close()
		c.Dropped(dev, err)
	}
}

// say sends a chat message (a question, a menu choice, a chat line) in the
// conversation, accounted in the ledger: its body is text, or, when text
// is empty, size bytes of the scratch body.
func (c *Customer) say(kind wire.Kind, text string, size int) {
	c.reqType, c.reqKind, c.reqSize, c.reqText = wire.TMessage, kind, int32(size), text
	c.msgSeq = 0
	m := c.pendingMessage(c.cid(true))
	c.env.Ledger.Sent(c.conv, deviceKey(c.key, 0), m.ClientID, c.intended.time(), c.sent.time())
	c.request(&m)
}

// pendingMessage builds the pending chat message with client id cid.
func (c *Customer) pendingMessage(cid uint64) wire.Message {
	m := wire.Message{ClientID: cid, Conv: c.conv, Kind: c.reqKind}
	if c.reqText != "" {
		m.Body = []byte(c.reqText)
	} else {
		m.Body = c.env.fill(max(int(c.reqSize), 1))
	}
	return m
}

// resend sends the pending request again on the first link, with the same
// client id and content, after a reconnect: the server acks a request it
// stored before with its original answer and stores it at most once.
func (c *Customer) resend() {
	if !c.has(fPending) {
		return
	}
	c.flags |= fRetried
	cid := c.pendingCID
	switch c.reqType {
	case wire.TOpen:
		st := &c.script()[c.pc]
		if st.Open == nil {
			return
		}
		c.sendOn(0, &wire.Open{ClientID: cid, Channel: st.Open.Channel, Group: st.Open.Group})
	case wire.TMessage:
		m := c.pendingMessage(cid)
		c.sendOn(0, &m)
	case wire.TTransfer:
		c.sendOn(0, &wire.Transfer{ClientID: cid, Conv: c.conv, ToGroup: c.reqText})
	case wire.TClose:
		c.sendOn(0, &wire.Close{ClientID: cid, Conv: c.conv, Reason: c.reqText})
	}
}

func (c *Customer) send(dev int, m wire.Msg) error {
	l := c.links[dev].link
	if l == nil {
		return ErrNoLink
	}
	if err := l.Send(m); err != nil {
		return fmt.Errorf("customer %s: send %s: %w", c.id, m.Type(), err)
	}
	return nil
}

// connect dials every device and says hello, resuming the conversation on
// a reconnect.
func (c *Customer) connect(resume bool) {
	env := c.env
	c.wait = wReady
	for i := range c.links {
		d := &c.links[i]
		l, err := env.Dial.Dial(c, i)
		if err != nil {
			env.Rec.Error("connect")
			c.redialLater(i)
			continue
		}
		done := env.Sched.Now()
		env.net(record.Connect, c.intended.time(), c.sent.time(), done)
		env.Rec.AddConnections(1)
		d.link = l
		c.hello(i, resume)
	}
	c.flags &^= fKilled
	c.readyAll(env.Sched.Now())
}

// hello says hello on link dev, with its resume point when asked and a
// conversation is open.
func (c *Customer) hello(dev int, resume bool) {
	d := &c.links[dev]
	h := wire.Hello{Role: wire.RoleCustomer, Tenant: c.env.Tenant, User: c.id, Device: deviceNames[dev]}
	var pt [1]wire.ResumePoint
	d.resumes = false
	if resume && c.open() {
		pt[0] = wire.ResumePoint{Conv: c.conv, Seq: d.lastSeq}
		h.Resume = pt[:]
		d.resumes = true
		d.target = 0
	}
	c.sendOn(dev, &h)
}

// readyAll goes on with the script once every link is ready (or refused
// for good), when the customer waits for that.
func (c *Customer) readyAll(now time.Time) {
	if c.wait != wReady {
		return
	}
	for i := range c.links {
		if d := &c.links[i]; !d.up && !d.fatal {
			return
		}
	}
	c.due = stampOf(now)
	c.next()
}

// kill drops every link without goodbye and sets the reconnect.
func (c *Customer) kill(after time.Duration) {
	c.closeLinks()
	c.flags |= fKilled
	c.due = stampOf(c.due.time().Add(after))
	c.schedule()
}

// closeLinks closes every link and gives up the redials in progress.
func (c *Customer) closeLinks() {
	for i := range c.links {
		d := &c.links[i]
		if l := d.link; l != nil {
			_ = l.Close()
			d.link = nil
			c.env.Rec.AddConnections(-1)
		}
		d.gen++ // a redial timer set is stale
		d.up, d.redial, d.resumes, d.attempt = false, false, false, 0
		c.back(i)
	}
}

// Dropped implements Actor: the server or the network ended link device,
// or a dial failed. The customer dials it again after a backoff
// (Env.backoff) and, once it is ready, resumes the conversation on it and
// sends again the request that was not acknowledged; meanwhile its script
// waits for the answers as before, and the latencies include the outage.
func (c *Customer) Dropped(device int, err error) {
	if device < 0 || device >= len(c.links) || c.links[device].link == nil {
		return
	}
	env := c.env
	d := &c.links[device]
	d.link = nil
	env.Rec.AddConnections(-1)
	if d.up {
		env.Rec.Link(record.LinkDropped)
		if !d.down {
			d.down = true
			env.Rec.AddDown(1)
		}
	} else {
		env.Rec.Link(record.LinkFailed)
	}
	d.up, d.resumes = false, false
	if d.fatal || c.wait == wDone && !env.Scenario.Customers.Stay {
		c.back(device)
		c.readyAll(env.Sched.Now())
		return
	}
	c.redialLater(device)
}

// redialLater sets the timer of the next redial of link dev.
func (c *Customer) redialLater(dev int) {
	d := &c.links[dev]
	d.gen++
	at := c.env.Sched.Now().Add(c.env.backoff(d.attempt))
	d.attempt = min(d.attempt+1, 255)
	c.env.Sched.At(at, c, token(ctRedial, d.gen<<3|uint32(dev)))
}

// redialNow dials link dev again and says hello with its resume point.
func (c *Customer) redialNow(dev int) {
	env := c.env
	d := &c.links[dev]
	env.Rec.Link(record.LinkRedial)
	l, err := env.Dial.Dial(c, dev)
	if err != nil {
		env.Rec.Link(record.LinkFailed)
		c.redialLater(dev)
		return
	}
	env.Rec.AddConnections(1)
	d.link = l
	d.redial = true
	d.dialAt = env.Sched.Now().UnixNano()
	c.hello(dev, true)
}

// back marks link dev no longer down: it is back, or given up.
func (c *Customer) back(dev int) {
	if d := &c.links[dev]; d.down {
		d.down = false
		c.env.Rec.AddDown(-1)
	}
}

// Receive implements Actor.
func (c *Customer) Receive(dev int, m wire.Msg) {
	if dev < 0 || dev >= len(c.links) || c.wait == wDone && c.links[dev].link == nil {
		return
	}
	env := c.env
	now := env.Sched.Now()
	switch m := m.(type) {
	case *wire.Ready:
		c.onReady(dev, m, now)
	case *wire.Ack:
		if dev == 0 {
			c.onAck(m, now)
		}
	case *wire.Menu:
		if dev == 0 && m.Conv == c.conv && c.wait == wOpen && !c.has(fMenu) {
			c.flags |= fMenu
			env.net(record.Menu, c.intended.time(), c.sent.time(), now)
			if c.has(fOpenAcked) {
				c.due = stampOf(now)
				c.next()
			}
		} else if dev == 0 && c.wait == wBot && m.Conv == c.conv {
			c.botAnswered(now, true)
		}
	case *wire.Delivery:
		c.onDelivery(dev, m, now)
	case *wire.QueuePosition:
		if dev == 0 && m.Conv == c.conv && !c.has(fEnded) && !c.has(fAssigned) {
			c.toHuman()
			if !c.has(fQueued) {
				c.flags |= fQueued
				env.Rec.AddQueued(1)
				c.armPatience()
			}
			if c.wait == wBot || c.wait == wPerson {
				c.next()
			}
		}
	case *wire.Assignment:
		if dev == 0 && m.Conv == c.conv && !c.has(fEnded) && !c.has(fAssigned) {
			c.assigned(now)
		}
	case *wire.Close:
		c.onClose(dev, m, now)
	case *wire.Error:
		c.onError(dev, m, now)
	case *wire.Ping:
		c.sendOn(dev, &wire.Pong{Nonce: m.Nonce})
	case *wire.Broadcast:
		// Every connected device of every customer gets it: one receipt
		// each.
		if intended, sent, ok := parseBroadcast(m.Body); ok {
			env.net(record.Broadcast, intended, sent, now)
		}
	}
}

func (c *Customer) onReady(dev int, m *wire.Ready, now time.Time) {
	env := c.env
	d := &c.links[dev]
	d.up = true
	if dev == 0 {
		c.readySeq = 0
	}
	if d.redial {
		d.attempt = 0
		env.Rec.Link(record.LinkResumed)
		at := time.Unix(0, d.dialAt)
		env.net(record.Hello, at, at, now)
	} else {
		env.net(record.Hello, c.intended.time(), c.sent.time(), now)
	}
	if d.resumes {
		d.target = d.lastSeq
		for _, p := range m.Convs {
			if p.Conv == c.conv {
				d.target = p.Seq
			}
		}
		if dev == 0 {
			c.readySeq = d.target
		}
	}
	c.caughtUp(dev, now)
	if dev == 0 {
		c.reconnected(m, now)
	}
	c.readyAll(now)
}

// reconnected picks up the script when the first link is ready: the
// request still pending (sent on a link that dropped, or held while the
// link was down) is sent again, and what a crash may have swallowed that
// no resume replays (the menu of an open) is taken as done.
func (c *Customer) reconnected(m *wire.Ready, now time.Time) {
	if c.has(fPending) && c.reqType == wire.TOpen {
		// A conversation the server lists that is not the customer's last
		// is the pending open's, stored before the drop: its retry gets
		// the ack and no menu.
		c.adopt = 0
		for _, p := range m.Convs {
			if p.Conv != c.conv {
				c.adopt = p.Conv
			}
		}
	}
	c.resend()
	if c.wait == wOpen && c.has(fOpenAcked) && !c.has(fMenu) {
		// Acked, and its menu lost with the connection: menus are not
		// replayed. Go on without it.
		c.flags |= fMenu
		c.due = stampOf(now)
		c.next()
	}
}

// caughtUp records the resume once device dev has what it missed, and
// marks a dropped link back.
func (c *Customer) caughtUp(dev int, now time.Time) {
	d := &c.links[dev]
	if d.resumes && d.lastSeq >= d.target {
		d.resumes = false
		if d.redial {
			at := time.Unix(0, d.dialAt)
			c.env.net(record.Resume, at, at, now)
		} else {
			c.env.net(record.Resume, c.intended.time(), c.sent.time(), now)
		}
	}
	if !d.resumes && d.up {
		d.redial = false
		c.back(dev)
	}
}

func (c *Customer) onAck(m *wire.Ack, now time.Time) {
	env := c.env
	if !c.has(fPending) || m.ClientID != c.pendingCID {
		// The late ack of an earlier message, sent again after a
		// reconnect: the ledger ignores ids it does not hold.
		if m.Seq != 0 {
			env.Ledger.Acked(m.Conv, m.ClientID, m.Seq)
		}
		return
	}
	retried := c.has(fRetried)
	c.flags &^= fPending | fRetried
	if c.has(fMessage) {
		env.Ledger.Acked(m.Conv, m.ClientID, m.Seq)
		env.net(record.Ack, c.intended.time(), c.sent.time(), now)
		c.msgSeq = m.Seq
		switch {
		case c.wait == wReply:
			// The agent's reply may have come first, replayed on a
			// reconnect.
			if m.Seq != 0 && c.answered >= m.Seq {
				c.reply(now)
			}
		case c.has(fEarly):
			// The bot's answer came first, replayed on the reconnect.
			c.flags &^= fEarly
			if c.wait == wBot {
				c.botAnswered(now, true)
			}
		case retried && c.wait == wBot && m.Seq != 0 && m.Seq <= c.readySeq:
			// Stored before the drop, and no answer replayed: the bot's
			// answer was a menu, which is not replayed. Go on.
			c.botAnswered(now, false)
		}
		return
	}
	switch c.wait {
	case wOpen:
		c.conv = m.Conv
		c.msgSeq, c.answered = 0, 0
		c.flags |= fOpenAcked
		c.flags &^= fMenu | fToHuman | fQueued | fAssigned | fFirstReply | fEnded | fOutcome
		if retried && m.Conv == c.adopt {
			c.flags |= fMenu // stored before the drop: no menu comes again
		}
		c.adopt = 0
		for i := range c.links {
			c.links[i].lastSeq = 0
			if err := env.Ledger.Join(c.conv, deviceKey(c.key, i)); err != nil {
				env.Rec.Error("ledger")
			}
		}
		env.Rec.Session(record.SessionStarted)
		c.opened = stampOf(now)
		if c.has(fMenu) {
			c.due = stampOf(now)
			c.next()
		}
	case wPerson:
		if retried {
			// Whether the first request was routed before the drop is not
			// known: the conversation is with the people now, and an
			// assignment (or the agent's first message) says when it is
			// taken.
			c.toHuman()
			c.due = stampOf(now)
			c.next()
		}
	}
}

func (c *Customer) onDelivery(dev int, m *wire.Delivery, now time.Time) {
	env := c.env
	if m.Conv != c.conv || c.conv == 0 {
		return
	}
	d := &c.links[dev]
	if intended, sent, ok := env.Ledger.Received(deviceKey(c.key, dev), m.Conv, m.Seq, m.ClientID); ok {
		env.net(record.Delivery, intended, sent, now)
	}
	d.lastSeq = max(d.lastSeq, m.Seq)
	c.caughtUp(dev, now)
	if dev != 0 {
		return
	}
	switch m.SenderRole {
	case wire.RoleBot:
		if c.wait == wBot {
			if !c.has(fPending) {
				c.botAnswered(now, true)
			} else if c.has(fRetried) {
				c.flags |= fEarly
			}
		}
	case wire.RoleAgent:
		if !c.has(fAssigned) && c.has(fToHuman) && !c.has(fEnded) {
			// The assignment was lost with a connection: the agent's
			// message says the chat is taken.
			c.assigned(now)
		}
		if !c.has(fFirstReply) && c.has(fToHuman) {
			c.flags |= fFirstReply
			env.Rec.Record(record.FirstReply, c.handoff[0].time(), c.handoff[1].time(), now)
		}
		// Only the agent's answer to the customer's last message is its
		// reply: not the greeting, nor the late answer to an earlier
		// message. An answer before the message's ack (replayed on a
		// reconnect) is kept for the ack.
		if seq, ok := parseReply(m.Body); ok {
			c.answered = max(c.answered, seq)
			if c.wait == wReply && !c.has(fPending) && c.msgSeq != 0 && seq >= c.msgSeq {
				c.reply(now)
			}
		}
	}
}

// botAnswered handles the bot's answer to a question or choice; measured
// says whether the answer arrived (a menu lost with a connection did not).
func (c *Customer) botAnswered(now time.Time, measured bool) {
	if measured {
		c.env.net(record.Bot, c.intended.time(), c.sent.time(), now)
	}
	c.due = stampOf(now)
	st := &c.script()[c.pc]
	if st.Ask != nil && c.left > 1 && !c.has(fToHuman) {
		c.left--
		c.due = stampOf(now.Add(st.Ask.Think.Sample(c.env.Rand)))
		c.schedule()
		return
	}
	c.next()
}

// assigned handles the conversation's assignment to an agent.
func (c *Customer) assigned(now time.Time) {
	env := c.env
	c.toHuman()
	c.unqueue()
	c.flags |= fAssigned
	env.Rec.Record(record.QueueWait, c.handoff[0].time(), c.handoff[1].time(), now)
	if now.After(c.due.time()) {
		c.due = stampOf(now)
	}
	switch c.wait {
	case wBot, wPerson:
		c.next()
	case wAgent:
		c.due = stampOf(c.due.time().Add(c.script()[c.pc].Chat.Think.Sample(env.Rand)))
		c.schedule()
	}
}

// reply handles the agent's reply to the customer's chat message.
func (c *Customer) reply(now time.Time) {
	c.due = stampOf(now)
	c.left--
	if c.left <= 0 {
		c.next()
		return
	}
	c.due = stampOf(now.Add(c.script()[c.pc].Chat.Think.Sample(c.env.Rand)))
	c.schedule()
}

// toHuman marks the conversation handed to a person, from the action in
// flight.
func (c *Customer) toHuman() {
	if c.has(fToHuman) {
		return
	}
	c.flags |= fToHuman
	c.handoff = [2]stamp{c.intended, c.sent}
	c.env.Rec.Session(record.SessionToHuman)
}

func (c *Customer) unqueue() {
	if c.has(fQueued) {
		c.flags &^= fQueued
		c.env.Rec.AddQueued(-1)
	}
}

// armPatience sets the abandon timer, from the handoff.
func (c *Customer) armPatience() {
	if c.patience <= 0 {
		return
	}
	c.patGen++
	c.env.Sched.At(c.handoff[0].time().Add(c.patience), c, token(ctPatience, c.patGen))
}

// abandon gives up waiting in the queue: the customer closes and leaves.
func (c *Customer) abandon() {
	now := c.env.Sched.Now()
	c.actGen++ // cancel the step in progress
	c.outcome(record.SessionAbandoned)
	c.wait = wAbandon
	c.due = stampOf(now)
	c.start(now)
	c.keep(wire.TClose, "abandoned")
	c.request(&wire.Close{ClientID: c.cid(false), Conv: c.conv, Reason: "abandoned"})
}

// outcome counts how the session ended, once.
func (c *Customer) outcome(ev record.SessionEvent) {
	if c.has(fOutcome) || !c.has(fOpenAcked) {
		return
	}
	c.flags |= fOutcome
	c.env.Rec.Session(ev)
	now := c.env.Sched.Now()
	c.env.Rec.Record(record.Session, c.opened.time(), c.opened.time(), now)
}

// ending is the outcome of a conversation ending now.
func (c *Customer) ending() record.SessionEvent {
	switch {
	case c.has(fQueued):
		return record.SessionAbandoned
	case c.has(fAssigned):
		return record.SessionCompleted
	case c.has(fToHuman):
		return record.SessionAbandoned
	}
	return record.SessionBotResolved
}

func (c *Customer) onClose(dev int, m *wire.Close, now time.Time) {
	if m.Conv != c.conv || c.conv == 0 {
		return
	}
	c.env.Ledger.Leave(c.conv, deviceKey(c.key, dev))
	c.links[dev].resumes = false
	c.caughtUp(dev, now)
	if dev != 0 || c.has(fEnded) {
		return
	}
	c.outcome(c.ending())
	c.unqueue()
	c.flags |= fEnded
	switch c.wait {
	case wAbandon:
		c.finish()
	case wBot, wPerson, wAgent, wReply, wClose:
		c.due = stampOf(now)
		c.next()
	}
}

func (c *Customer) onError(dev int, m *wire.Error, now time.Time) {
	env := c.env
	if fatalCode(m.Code) {
		c.links[dev].fatal = true
	}
	if dev == 0 && c.has(fPending) && m.ClientID == c.pendingCID {
		c.flags &^= fPending | fRetried | fEarly
		if c.has(fMessage) {
			env.Ledger.Acked(c.conv, m.ClientID, 0)
		}
		if m.Code == wire.CodeClosed {
			// The conversation closed while the request was in flight (an
			// agent's or the idle close crossing it): not an error; the
			// close follows or came already.
			return
		}
		env.Rec.Error(fmt.Sprint(int(m.Code)))
		switch c.wait {
		case wOpen, wBot, wPerson, wReply, wClose:
			c.due = stampOf(now)
			c.next()
		}
		return
	}
	env.Rec.Error(fmt.Sprint(int(m.Code)))
}

// finish ends the script: the customer leaves (closing its links) unless
// the scenario keeps it connected.
func (c *Customer) finish() {
	if c.wait == wDone {
		return
	}
	c.wait = wDone
	c.actGen++
	c.patGen++
	if c.open() {
		c.outcome(c.ending())
	}
	c.unqueue()
	if c.env.Scenario.Customers.Stay {
		return
	}
	if c.conv != 0 {
		for i := range c.links {
			c.env.Ledger.Leave(c.conv, deviceKey(c.key, i))
		}
	}
	c.closeLinks()
	if c.onLeave != nil {
		c.onLeave.left()
	}
}
