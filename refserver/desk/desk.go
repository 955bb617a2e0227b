// Package desk is the customer-service core: conversations from the bot to a
// queue to an agent and closed, per-conversation sequences, dedupe of retried
// client ids, resume, transfer. It is a pure state machine in the manner of
// etcd's raft: each call takes an event with the time and appends the
// effects (messages to send, with their audience) to an Effects value. It
// starts no goroutine, reads no clock and does no I/O beyond the Store it is
// given, so the server and the virtual-time simulator run the same code.
//
// A Desk serves one tenant and is not safe for concurrent use: its driver
// serialises calls (the server holds one lock per tenant). Because a user
// reaches only its own tenant's Desk, one tenant can neither read nor write
// another's conversations.
package desk

import (
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
	"github.com/swarmdesk/swarmdesk/refserver/routing"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// State is where a conversation is in its life.
type State uint8

// Conversation states.
const (
	StateBot State = iota + 1
	StateQueued
	StateAssigned
	StateClosed
	StateAbandoned
)

func (s State) String() string {
	switch s {
	case StateBot:
		return "bot"
	case StateQueued:
		return "queued"
	case StateAssigned:
		return "assigned"
	case StateClosed:
		return "closed"
	case StateAbandoned:
		return "abandoned"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Session is who performs a request: the user behind a connection.
type Session struct {
	User string
	Role wire.Role
}

// BotName is the sender name of the bot's deliveries; SystemName that of
// the server's notices.
const (
	BotName    = "bot"
	SystemName = "system"
)

// Observer receives the desk's measurements (the server exports them as
// metrics; the simulator records them). Calls happen inside desk calls.
type Observer interface {
	// Assigned reports a conversation assigned to an agent after waiting.
	Assigned(group string, waited time.Duration)
	// Bot reports a bot decision: action, and the handoff reason if any.
	Bot(action bot.Action, reason string)
	// Stored reports a message stored into a conversation.
	Stored(kind wire.Kind)
}

type nopObserver struct{}

func (nopObserver) Assigned(string, time.Duration) {}
func (nopObserver) Bot(bot.Action, string)         {}
func (nopObserver) Stored(wire.Kind)               {}

// Option configures a Desk.
type Option func(*Desk)

// WithObserver sets the desk's observer.
func WithObserver(o Observer) Option { return func(d *Desk) { d.obs = o } }

// WithMaxOpen bounds the conversations open at once (0: no bound): beyond
// it an open is refused with CodeBusy, and the conversations already open
// go on. It bounds the desk's memory under overload.
func WithMaxOpen(n int) Option { return func(d *Desk) { d.maxOpen = n } }

// Desk is one tenant's customer-service core.
type Desk struct {
	rt     *tenant.Runtime
	cfg    *tenant.Config
	store  store.Store
	router *routing.Router
	obs    Observer

	maxOpen int // 0: no bound
	open    int // conversations not ended

	convs   map[uint64]*conv
	users   map[string]*user
	groups  map[string]*group
	closedQ []closedEntry // conversations to forget, in close order
	idle    idleHeap      // open conversations by the time they may go idle
	// idleStale counts the idle heap's entries of conversations ended
	// since: they leave at their deadline, or all at once when they are
	// most of the heap, so the heap follows the open conversations.
	idleStale int

	assigned []routing.Assignment // scratch
	posBuf   []routing.PositionUpdate
	metaBuf  []byte
}

type conv struct {
	id       uint64
	customer string
	agent    string
	group    string
	channel  string
	state    State
	seq      uint64
	bot      bot.Session
	members  []string // customer, then agent; replaced, never modified
	opened   time.Time
	queuedAt time.Time
	closedAt time.Time
	active   time.Time // last message, either side
	openCID  uint64    // the customer's client id of the open

	idleQueued bool // an entry of the idle heap is c's
}

type user struct {
	role      wire.Role
	connected bool     // between Hello and Gone
	convs     []uint64 // active conversations
	openIDs   map[uint64]uint64

	// agents
	groups []string
	max    int
	state  wire.AgentState
	online bool

	// supervisors
	watching []string
}

type group struct {
	name     string
	priority int
	watchers []string // supervisors; replaced, never modified
}

type closedEntry struct {
	conv uint64
	at   time.Time
}

// New returns the desk of the tenant rt, keeping messages in st.
func New(rt *tenant.Runtime, st store.Store, opts ...Option) (*Desk, error) {
	cfg := &rt.Config
	d := &Desk{
		rt:     rt,
		cfg:    cfg,
		store:  st,
		obs:    nopObserver{},
		convs:  make(map[uint64]*conv),
		users:  make(map[string]*user),
		groups: make(map[string]*group),
		router: routing.New(routing.WithPositionInterval(time.Duration(cfg.Limits.QueuePositionInterval))),
	}
	for _, o := range opts {
		o(d)
	}
	for _, g := range cfg.Groups {
		pol, ok := rt.Policies[g.Name]
		if !ok {
			return nil, fmt.Errorf("desk %s: group %s has no policy", cfg.ID, g.Name)
		}
		if err := d.router.AddGroup(g.Name, pol); err != nil {
			return nil, fmt.Errorf("desk %s: %w", cfg.ID, err)
		}
		d.groups[g.Name] = &group{name: g.Name, priority: g.Priority}
	}
	return d, nil
}

// OpenCount returns how many conversations are open (not ended).
func (d *Desk) OpenCount() int { return d.open }

// Tenant returns the id of the desk's tenant.
func (d *Desk) Tenant() string { return d.cfg.ID }

// Router exposes the desk's router for read-only inspection (queue lengths,
// agent loads) by metrics and tests.
func (d *Desk) Router() *routing.Router { return d.router }

func (d *Desk) user(s Session) *user {
	u := d.users[s.User]
	if u == nil {
		u = &user{role: s.Role}
		d.users[s.User] = u
	}
	return u
}

// Hello registers a session and appends the ready frame (the driver fills
// in its transport fields: heartbeat and frame limit) and the replay of
// every conversation the client asks to resume, in order, to fx. A user
// keeps one role: a hello under another role is refused.
func (d *Desk) Hello(now time.Time, s Session, resume []wire.ResumePoint, fx *Effects) error {
	switch s.Role {
	case wire.RoleCustomer, wire.RoleAgent, wire.RoleSupervisor:
	default:
		return fmt.Errorf("hello as role %s: %w", s.Role, ErrRole)
	}
	if s.User == "" || s.User == BotName || s.User == SystemName {
		return fmt.Errorf("hello as user %q: %w", s.User, ErrUser)
	}
	u := d.user(s)
	if u.role != s.Role {
		return fmt.Errorf("hello as %s, user %s is a %s: %w", s.Role, s.User, u.role, ErrRole)
	}
	u.connected = true
	ready := &wire.Ready{ServerTime: now.UnixNano()}
	for _, id := range u.convs {
		ready.Convs = append(ready.Convs, wire.ResumePoint{Conv: id, Seq: d.convs[id].seq})
	}
	fx.toOrigin(ready)
	for _, id := range u.convs {
		d.tellState(d.convs[id], s, fx)
	}
	d.Resume(now, s, resume, fx)
	return nil
}

// tellState tells a connecting user where each of its conversations
// stands: a customer its place in the queue or its agent, an agent each
// chat it holds, with the transcript. These notices are not in the
// conversation's sequence, so a client that missed one (a dropped
// connection, a server restart) learns it again here; a client that had it
// already gets it twice and must take it as the same news.
func (d *Desk) tellState(c *conv, s Session, fx *Effects) {
	switch {
	case s.Role == wire.RoleCustomer && c.state == StateQueued:
		if grp, pos, err := d.router.Position(c.id); err == nil {
			fx.toOrigin(&wire.QueuePosition{Conv: c.id, Group: grp, Position: uint64(pos)})
		}
	case s.Role == wire.RoleCustomer && c.state == StateAssigned:
		fx.toOrigin(&wire.Assignment{Conv: c.id, Agent: c.agent, Customer: c.customer, Group: c.group})
	case s.Role == wire.RoleAgent && c.state == StateAssigned && c.agent == s.User:
		fx.toOrigin(&wire.Assignment{Conv: c.id, Agent: c.agent, Customer: c.customer, Group: c.group, Transcript: d.transcript(c)})
	}
}

// Resume replays, for each point, the conversation's messages after its
// sequence to the requesting connection, in order. A conversation the user
// is not in gets an error, as one that does not exist.
func (d *Desk) Resume(now time.Time, s Session, points []wire.ResumePoint, fx *Effects) {
	for _, rp := range points {
		d.replay(s, rp, fx)
	}
}

// Agents returns the ids of the agents the desk has seen.
func (d *Desk) Agents() []string {
	var ids []string
	for id, u := range d.users {
		if u.role == wire.RoleAgent {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Reconfigure swaps in a new configuration of the same tenant: bot, menu
// and limits change at once, new skill groups are added; removing a group
// is refused, since conversations and agents may be in it.
func (d *Desk) Reconfigure(rt *tenant.Runtime) error {
	if rt.Config.ID != d.cfg.ID {
		return fmt.Errorf("desk %s: reconfigure with tenant %s: %w", d.cfg.ID, rt.Config.ID, ErrTenant)
	}
	names := map[string]bool{}
	for _, g := range rt.Config.Groups {
		names[g.Name] = true
	}
	for name := range d.groups {
		if !names[name] {
			return fmt.Errorf("desk %s: group %s would be removed: %w", d.cfg.ID, name, ErrTenant)
		}
	}
	for _, g := range rt.Config.Groups {
		if gr, ok := d.groups[g.Name]; ok {
			gr.priority = g.Priority
			continue
		}
		pol, ok := rt.Policies[g.Name]
		if !ok {
			return fmt.Errorf("desk %s: group %s has no policy: %w", d.cfg.ID, g.Name, ErrTenant)
		}
		if err := d.router.AddGroup(g.Name, pol); err != nil {
			return fmt.Errorf("desk %s: %w", d.cfg.ID, err)
		}
		d.groups[g.Name] = &group{name: g.Name, priority: g.Priority}
	}
	d.rt = rt
	d.cfg = &rt.Config
	return nil
}

// replay sends conversation messages after rp.Seq to the origin.
func (d *Desk) replay(s Session, rp wire.ResumePoint, fx *Effects) {
	c := d.convs[rp.Conv]
	if c == nil || !c.visibleTo(s) {
		fx.errorTo(wire.CodeForbidden, 0, fmt.Sprintf("resume: no conversation %d", rp.Conv))
		return
	}
	err := d.store.Since(c.id, rp.Seq, func(r *store.Record) bool {
		o := fx.add()
		o.Audience = ToOrigin
		o.Type = wire.TDelivery
		o.Delivery = delivery(r)
		// The record is valid only during the callback (a durable store
		// lends its own memory): the effect outlives it.
		o.Delivery.Body = slices.Clone(r.Body)
		return true
	})
	if err != nil {
		fx.errorTo(wire.CodeInternal, 0, fmt.Sprintf("resume %d: %v", c.id, err))
		return
	}
	if c.ended() {
		fx.toOrigin(&wire.Close{Conv: c.id, Reason: "closed"})
	}
}

// mine returns conversation id if s may use it; otherwise it refuses the
// request. "No such conversation" and "not yours" get the same answer, so a
// user learns nothing of conversations that are not its own.
func (d *Desk) mine(s Session, id, clientID uint64, fx *Effects) *conv {
	c := d.convs[id]
	if c == nil || !c.visibleTo(s) {
		fx.errorTo(wire.CodeForbidden, clientID, fmt.Sprintf("conversation %d is not yours", id))
		return nil
	}
	return c
}

// ended reports whether c is closed or abandoned.
func (c *conv) ended() bool { return c.state == StateClosed || c.state == StateAbandoned }

// visibleTo reports whether s may read c: its customer, its agent, or a
// supervisor watching its group.
func (c *conv) visibleTo(s Session) bool {
	switch s.Role {
	case wire.RoleCustomer:
		return c.customer == s.User
	case wire.RoleAgent:
		return c.agent == s.User
	}
	return false
}

func delivery(r *store.Record) wire.Delivery {
	return wire.Delivery{
		Conv: r.Conv, Seq: r.Seq, Sender: sbytes(r.Sender), SenderRole: r.SenderRole,
		Kind: r.Kind, ClientID: r.ClientID, ServerTime: r.Time, Body: r.Body,
	}
}

// Open opens a conversation for a customer: the ack carries its id, then
// the menu and the bot's greeting follow. A retried open (same client id)
// gets the same conversation.
func (d *Desk) Open(now time.Time, s Session, m *wire.Open, fx *Effects) {
	if s.Role != wire.RoleCustomer {
		fx.errorTo(wire.CodeWrongRole, m.ClientID, "only a customer opens a conversation")
		return
	}
	u := d.user(s)
	if id, ok := u.openIDs[m.ClientID]; ok && m.ClientID != 0 {
		fx.ack(m.ClientID, id, 0, now.UnixNano())
		return
	}
	if d.maxOpen > 0 && d.open >= d.maxOpen {
		fx.errorTo(wire.CodeBusy, m.ClientID, fmt.Sprintf("at capacity: %d conversations open; retry later", d.open))
		return
	}
	grp := d.cfg.DefaultGroup
	if m.Group != "" {
		if _, ok := d.groups[m.Group]; !ok {
			fx.errorTo(wire.CodeUnknownGroup, m.ClientID, fmt.Sprintf("no skill group %q", m.Group))
			return
		}
		grp = m.Group
	}
	id, err := d.store.NewConv()
	if err != nil {
		fx.errorTo(wire.CodeInternal, m.ClientID, fmt.Sprintf("open: %v", err))
		return
	}
	c := &conv{id: id, customer: s.User, group: grp, channel: m.Channel, state: StateBot, opened: now, active: now, openCID: m.ClientID}
	c.members = []string{s.User}
	d.convs[id] = c
	d.open++
	d.save(c, fx)
	if idle := time.Duration(d.cfg.Limits.IdleClose); idle > 0 {
		d.pushIdle(c, now.Add(idle))
	}
	u.convs = append(u.convs, id)
	if m.ClientID != 0 {
		if u.openIDs == nil {
			u.openIDs = make(map[uint64]uint64, 1)
		}
		u.openIDs[m.ClientID] = id
	}
	fx.ack(m.ClientID, id, 0, now.UnixNano())
	d.sendMenu(c, fx)
	menu := d.rt.Bot.Menu()
	d.say(now, c, BotName, wire.RoleBot, wire.KindText, menu.Title, fx)
}

func (d *Desk) sendMenu(c *conv, fx *Effects) {
	menu := d.rt.Bot.Menu()
	wm := &wire.Menu{Conv: c.id, Title: menu.Title, Items: make([]wire.MenuItem, len(menu.Items))}
	for i, it := range menu.Items {
		wm.Items[i] = wire.MenuItem{ID: it.ID, Label: it.Label}
	}
	fx.toUser(c.customer, wm)
}

// say stores a message from the bot or the system and delivers it.
func (d *Desk) say(now time.Time, c *conv, sender string, role wire.Role, kind wire.Kind, text string, fx *Effects) {
	rec := store.Record{Conv: c.id, Seq: c.seq + 1, Sender: sender, SenderRole: role, Kind: kind, Time: now.UnixNano(), Body: sbytes(text)}
	if err := d.store.Append(&rec); err != nil {
		fx.errorTo(wire.CodeInternal, 0, fmt.Sprintf("store: %v", err))
		return
	}
	c.seq++
	d.obs.Stored(kind)
	d.deliver(c, &rec, false, fx)
}

func (d *Desk) deliver(c *conv, r *store.Record, skipOrigin bool, fx *Effects) {
	o := fx.add()
	o.Audience = ToMembers
	o.Members = c.members
	o.Watchers = d.groups[c.group].watchers
	o.SkipOrigin = skipOrigin
	o.Type = wire.TDelivery
	o.Delivery = delivery(r)
}

// Message stores a participant's message under the conversation's next
// sequence, acks it and delivers it to every participant. A retried client
// id is acked with its original sequence and not stored again. While the
// bot holds the conversation, the bot answers.
func (d *Desk) Message(now time.Time, s Session, m *wire.Message, fx *Effects) {
	c := d.mine(s, m.Conv, m.ClientID, fx)
	if c == nil {
		return
	}
	if m.ClientID != 0 {
		if seq, ok := d.store.Lookup(c.id, s.User, m.ClientID); ok {
			fx.ack(m.ClientID, c.id, seq, now.UnixNano())
			return
		}
	}
	if c.ended() {
		fx.errorTo(wire.CodeClosed, m.ClientID, fmt.Sprintf("conversation %d is closed", c.id))
		return
	}
	if !m.Kind.Valid() || len(m.Body) == 0 {
		fx.errorTo(wire.CodeBadRequest, m.ClientID, fmt.Sprintf("message of kind %s with %d bytes", m.Kind, len(m.Body)))
		return
	}
	rec := store.Record{
		Conv: c.id, Seq: c.seq + 1, Sender: s.User, SenderRole: s.Role, Kind: m.Kind,
		ClientID: m.ClientID, Time: now.UnixNano(), Body: slices.Clone(m.Body),
	}
	if err := d.store.Append(&rec); err != nil {
		fx.errorTo(wire.CodeInternal, m.ClientID, fmt.Sprintf("store: %v", err))
		return
	}
	c.seq++
	c.active = now
	d.obs.Stored(m.Kind)
	fx.ack(m.ClientID, c.id, rec.Seq, rec.Time)
	d.deliver(c, &rec, true, fx)
	if c.state == StateBot && s.Role == wire.RoleCustomer {
		var r bot.Reply
		if m.Kind == wire.KindMenuChoice {
			r = d.rt.Bot.Choose(&c.bot, string(m.Body))
		} else {
			q := ""
			if m.Kind == wire.KindText {
				q = string(m.Body)
			}
			r = d.rt.Bot.Ask(&c.bot, q)
		}
		d.botReply(now, c, r, fx)
	}
}

func (d *Desk) botReply(now time.Time, c *conv, r bot.Reply, fx *Effects) {
	d.obs.Bot(r.Action, r.Reason)
	switch r.Action {
	case bot.ActionAnswer:
		d.say(now, c, BotName, wire.RoleBot, wire.KindText, r.Text, fx)
	case bot.ActionMenu:
		// For a greeting the bot's text is the menu title: the menu says it.
		if r.Text != "" && r.Text != d.rt.Bot.Menu().Title {
			d.say(now, c, BotName, wire.RoleBot, wire.KindText, r.Text, fx)
		}
		d.sendMenu(c, fx)
	case bot.ActionHandoff:
		if r.Text != "" {
			d.say(now, c, BotName, wire.RoleBot, wire.KindSystem, r.Text, fx)
		}
		grp := c.group
		if r.Group != "" {
			if _, ok := d.groups[r.Group]; ok {
				grp = r.Group
			}
		}
		d.route(now, c, grp, fx)
	}
}

// route asks routing for an agent for c in grp: assigned at once, or queued
// with the customer told its position.
func (d *Desk) route(now time.Time, c *conv, grp string, fx *Effects) {
	c.group = grp
	a, ok, pos, err := d.router.Route(grp, c.id, d.groups[grp].priority, now)
	if err != nil {
		fx.errorTo(wire.CodeInternal, 0, fmt.Sprintf("route conversation %d: %v", c.id, err))
		return
	}
	c.queuedAt = now
	if ok {
		d.assign(now, a, fx)
		return
	}
	c.state = StateQueued
	d.save(c, fx)
	fx.toUser(c.customer, &wire.QueuePosition{Conv: c.id, Group: grp, Position: uint64(pos)})
}

// assign applies a routing decision: the agent gets the conversation with
// its transcript, the customer learns who joined.
func (d *Desk) assign(now time.Time, a routing.Assignment, fx *Effects) {
	c := d.convs[a.Conv]
	if c == nil {
		return
	}
	c.state = StateAssigned
	c.agent = a.Agent
	c.group = a.Group
	c.members = []string{c.customer, a.Agent}
	d.save(c, fx)
	ag := d.users[a.Agent]
	if ag != nil {
		ag.convs = append(ag.convs, c.id)
	}
	d.obs.Assigned(a.Group, now.Sub(c.queuedAt))
	as := &wire.Assignment{Conv: c.id, Agent: a.Agent, Customer: c.customer, Group: a.Group}
	as.Transcript = d.transcript(c)
	fx.toUser(a.Agent, as)
	fx.toUser(c.customer, &wire.Assignment{Conv: c.id, Agent: a.Agent, Customer: c.customer, Group: a.Group})
}

func (d *Desk) assignAll(now time.Time, as []routing.Assignment, fx *Effects) {
	for _, a := range as {
		d.assign(now, a, fx)
	}
}

// transcript returns the conversation's last messages, at most the
// tenant's transcript_max.
func (d *Desk) transcript(c *conv) []wire.Delivery {
	n := d.cfg.Limits.TranscriptMax
	after := uint64(0)
	if c.seq > uint64(n) {
		after = c.seq - uint64(n)
	}
	out := make([]wire.Delivery, 0, min(int(c.seq-after), n))
	_ = d.store.Since(c.id, after, func(r *store.Record) bool {
		dl := delivery(r)
		// The record is valid only during the callback: keep copies.
		dl.Sender = []byte(r.Sender)
		dl.Body = slices.Clone(r.Body)
		out = append(out, dl)
		return true
	})
	return out
}

// Transfer moves a conversation. A customer's transfer (no target) asks
// for a person; an agent's moves the chat to another agent or group.
func (d *Desk) Transfer(now time.Time, s Session, m *wire.Transfer, fx *Effects) {
	c := d.mine(s, m.Conv, m.ClientID, fx)
	if c == nil {
		return
	}
	if c.ended() {
		fx.errorTo(wire.CodeClosed, m.ClientID, fmt.Sprintf("conversation %d is closed", c.id))
		return
	}
	if m.ToGroup != "" {
		if _, ok := d.groups[m.ToGroup]; !ok {
			fx.errorTo(wire.CodeUnknownGroup, m.ClientID, fmt.Sprintf("no skill group %q", m.ToGroup))
			return
		}
	}
	switch s.Role {
	case wire.RoleCustomer:
		fx.ack(m.ClientID, c.id, 0, now.UnixNano())
		if c.state == StateBot {
			grp := c.group
			if m.ToGroup != "" {
				grp = m.ToGroup
			}
			d.obs.Bot(bot.ActionHandoff, "requested")
			d.route(now, c, grp, fx)
			return
		}
		// A retried request (the answer was lost to a dropped connection
		// or a restart): the customer hears again where it stands.
		d.tellState(c, s, fx)
	case wire.RoleAgent:
		d.agentTransfer(now, s, c, m, fx)
	}
}

func (d *Desk) agentTransfer(now time.Time, s Session, c *conv, m *wire.Transfer, fx *Effects) {
	old := c.agent
	switch {
	case m.ToAgent != "":
		if m.ToAgent == old {
			fx.errorTo(wire.CodeBadRequest, m.ClientID, "transfer to the agent who has it")
			return
		}
		grp := c.group
		if m.ToGroup != "" {
			grp = m.ToGroup
		}
		// Check the target before letting go: routing holds c as the old
		// agent's until it is released, so the target is asked afterwards.
		if err := d.canTake(m.ToAgent, grp); err != nil {
			fx.errorTo(wire.CodeNoAgent, m.ClientID, fmt.Sprintf("transfer to %s: %v", m.ToAgent, err))
			return
		}
		fx.ack(m.ClientID, c.id, 0, now.UnixNano())
		d.dropAgent(now, c, old, "transferred", fx)
		d.releaseAndDrain(now, old, c.id, fx)
		c.queuedAt = now
		a, err := d.router.Assign(m.ToAgent, grp, c.id, now)
		if err != nil {
			// Cannot happen after canTake; if it does, the customer still
			// reaches a person through the group's queue.
			d.route(now, c, grp, fx)
			return
		}
		d.assign(now, a, fx)
	case m.ToGroup != "":
		fx.ack(m.ClientID, c.id, 0, now.UnixNano())
		d.dropAgent(now, c, old, "transferred", fx)
		// Release first: routing still counts c as the old agent's, and
		// the new group may hand it back to the same agent.
		d.releaseAndDrain(now, old, c.id, fx)
		d.route(now, c, m.ToGroup, fx)
	default:
		fx.errorTo(wire.CodeBadRequest, m.ClientID, "transfer names no agent and no group")
	}
}

// canTake reports why agent cannot take a chat of grp now, if it cannot.
func (d *Desk) canTake(agent, grp string) error {
	a, ok := d.router.Agent(agent)
	switch {
	case !ok:
		return routing.ErrUnknownAgent
	case a.Status != routing.Online:
		return routing.ErrAgentUnavailable
	case a.Active >= a.Max:
		return routing.ErrAgentFull
	case !slices.Contains(a.Groups, grp):
		return fmt.Errorf("agent is not in group %s: %w", grp, routing.ErrUnknownGroup)
	}
	return nil
}

// dropAgent takes c away from agent (transfer or close): the agent is told,
// and c leaves the agent's active list. Capacity is released by the caller.
func (d *Desk) dropAgent(now time.Time, c *conv, agent, reason string, fx *Effects) {
	if u := d.users[agent]; u != nil {
		u.convs = removeConv(u.convs, c.id)
	}
	c.agent = ""
	c.members = []string{c.customer}
	fx.toUser(agent, &wire.Close{Conv: c.id, Reason: reason})
}

func (d *Desk) releaseAndDrain(now time.Time, agent string, conv uint64, fx *Effects) {
	as, err := d.router.Release(agent, conv, now)
	if err != nil {
		fx.errorTo(wire.CodeInternal, 0, fmt.Sprintf("release %d from %s: %v", conv, agent, err))
		return
	}
	d.assigned = append(d.assigned[:0], as...)
	d.assignAll(now, d.assigned, fx)
}

func removeConv(convs []uint64, id uint64) []uint64 {
	if i := slices.Index(convs, id); i >= 0 {
		convs = slices.Delete(convs, i, i+1)
	}
	return convs
}

// Close ends a conversation at the request of its customer or agent. Both
// are told; an agent's freed capacity goes at once to the queue.
func (d *Desk) Close(now time.Time, s Session, m *wire.Close, fx *Effects) {
	c := d.mine(s, m.Conv, m.ClientID, fx)
	if c == nil {
		return
	}
	if c.ended() {
		fx.ack(m.ClientID, c.id, 0, now.UnixNano())
		return
	}
	reason := m.Reason
	if reason == "" {
		reason = "closed by " + s.Role.String()
	}
	fx.ack(m.ClientID, c.id, 0, now.UnixNano())
	d.end(now, c, reason, fx)
}

// end closes c: queued → abandoned, otherwise closed.
func (d *Desk) end(now time.Time, c *conv, reason string, fx *Effects) {
	prev := c.state
	agent := c.agent
	if prev == StateQueued {
		d.router.Cancel(c.id)
		c.state = StateAbandoned
	} else {
		c.state = StateClosed
	}
	c.closedAt = now
	d.open--
	d.idleEnded(c)
	d.save(c, fx)
	o := fx.add()
	o.Audience = ToMembers
	o.Members = c.members
	o.Watchers = d.groups[c.group].watchers
	o.Type = wire.TClose
	o.Msg = &wire.Close{Conv: c.id, Reason: reason}
	if u := d.users[c.customer]; u != nil {
		u.convs = removeConv(u.convs, c.id)
		d.maybeForget(c.customer, u)
	}
	if agent != "" {
		if u := d.users[agent]; u != nil {
			u.convs = removeConv(u.convs, c.id)
		}
	}
	d.closedQ = append(d.closedQ, closedEntry{conv: c.id, at: now})
	if prev == StateAssigned {
		d.releaseAndDrain(now, agent, c.id, fx)
	}
}

// AgentStatus sets an agent's availability, limit and groups; capacity it
// frees goes at once to the queue.
func (d *Desk) AgentStatus(now time.Time, s Session, m *wire.AgentStatus, fx *Effects) {
	if s.Role != wire.RoleAgent {
		fx.errorTo(wire.CodeWrongRole, 0, "only an agent sets agent status")
		return
	}
	if m.State != wire.AgentOnline && m.State != wire.AgentAway {
		fx.errorTo(wire.CodeBadRequest, 0, fmt.Sprintf("agent state %d", m.State))
		return
	}
	lim := d.cfg.Limits
	maxChats := int(m.MaxChats)
	if m.MaxChats == 0 {
		maxChats = lim.DefaultMaxChats
		if def, ok := d.rt.AgentDefaults[s.User]; ok && def.MaxChats > 0 {
			maxChats = def.MaxChats
		}
	}
	if m.MaxChats > uint64(lim.MaxChatsCap) {
		fx.errorTo(wire.CodeBadRequest, 0, fmt.Sprintf("max chats %d over the tenant's cap %d", m.MaxChats, lim.MaxChatsCap))
		return
	}
	groups := m.Groups
	if len(groups) == 0 {
		if def, ok := d.rt.AgentDefaults[s.User]; ok && len(def.Groups) > 0 {
			groups = def.Groups
		} else {
			groups = d.groupNames()
		}
	}
	for _, g := range groups {
		if _, ok := d.groups[g]; !ok {
			fx.errorTo(wire.CodeUnknownGroup, 0, fmt.Sprintf("no skill group %q", g))
			return
		}
	}
	u := d.user(s)
	u.groups = slices.Clone(groups)
	u.max = maxChats
	u.state = m.State
	u.online = true
	d.setAgent(now, s.User, u, fx)
}

func (d *Desk) setAgent(now time.Time, id string, u *user, fx *Effects) {
	st := routing.Offline
	if u.online {
		st = routing.Away
		if u.state == wire.AgentOnline {
			st = routing.Online
		}
	}
	as, err := d.router.SetAgent(id, u.groups, u.max, st, now)
	if err != nil {
		fx.errorTo(wire.CodeInternal, 0, fmt.Sprintf("agent status: %v", err))
		return
	}
	d.assigned = append(d.assigned[:0], as...)
	d.assignAll(now, d.assigned, fx)
}

func (d *Desk) groupNames() []string {
	names := make([]string, 0, len(d.cfg.Groups))
	for _, g := range d.cfg.Groups {
		names = append(names, g.Name)
	}
	return names
}

// Gone tells the desk that the last connection of a user closed. An agent
// goes offline for routing (no new chats) and keeps the chats it has, so it
// can reconnect and resume them; a supervisor stops watching.
func (d *Desk) Gone(now time.Time, s Session, fx *Effects) {
	u := d.users[s.User]
	if u == nil {
		return
	}
	u.connected = false
	switch u.role {
	case wire.RoleCustomer:
		d.maybeForget(s.User, u)
	case wire.RoleAgent:
		if u.online && len(u.groups) > 0 {
			u.online = false
			d.setAgent(now, s.User, u, fx)
		}
	case wire.RoleSupervisor:
		d.unwatch(s.User, u)
	}
}

// maybeForget drops a customer the desk no longer needs to know: not
// connected and in no open conversation. Memory then follows the customers
// present, not every customer ever seen.
func (d *Desk) maybeForget(id string, u *user) {
	if u.role == wire.RoleCustomer && !u.connected && len(u.convs) == 0 {
		delete(d.users, id)
	}
}

// Watch makes a supervisor follow skill groups (none named: all).
func (d *Desk) Watch(now time.Time, s Session, m *wire.Watch, fx *Effects) {
	if s.Role != wire.RoleSupervisor {
		fx.errorTo(wire.CodeWrongRole, 0, "only a supervisor watches")
		return
	}
	groups := m.Groups
	if len(groups) == 0 {
		groups = d.groupNames()
	}
	for _, g := range groups {
		if _, ok := d.groups[g]; !ok {
			fx.errorTo(wire.CodeUnknownGroup, 0, fmt.Sprintf("no skill group %q", g))
			return
		}
	}
	u := d.user(s)
	d.unwatch(s.User, u)
	for _, g := range groups {
		gr := d.groups[g]
		gr.watchers = append(slices.Clip(gr.watchers), s.User)
	}
	u.watching = slices.Clone(groups)
}

func (d *Desk) unwatch(id string, u *user) {
	for _, g := range u.watching {
		gr := d.groups[g]
		if i := slices.Index(gr.watchers, id); i >= 0 {
			w := make([]string, 0, len(gr.watchers)-1)
			w = append(w, gr.watchers[:i]...)
			gr.watchers = append(w, gr.watchers[i+1:]...)
		}
	}
	u.watching = nil
}

// Tick does the desk's timed work: coalesced queue-position updates,
// closing conversations idle for longer than the tenant's idle_close, and
// forgetting conversations closed longer ago than the retention.
func (d *Desk) Tick(now time.Time, fx *Effects) {
	d.closeIdle(now, fx)
	d.posBuf = d.router.Positions(now, d.posBuf[:0])
	for _, p := range d.posBuf {
		if c := d.convs[p.Conv]; c != nil {
			fx.toUser(c.customer, &wire.QueuePosition{Conv: p.Conv, Group: p.Group, Position: uint64(p.Position)})
		}
	}
	keep := time.Duration(d.cfg.Limits.RetainClosed)
	n := 0
	for _, e := range d.closedQ {
		if now.Sub(e.at) < keep {
			break
		}
		n++
		if c := d.convs[e.conv]; c != nil {
			if u := d.users[c.customer]; u != nil {
				for k, v := range u.openIDs {
					if v == c.id {
						delete(u.openIDs, k)
					}
				}
			}
		}
		delete(d.convs, e.conv)
		_ = d.store.Forget(e.conv)
	}
	d.closedQ = slices.Delete(d.closedQ, 0, n)
}

// closeIdle closes the conversations nobody wrote in for idle_close. A
// conversation enters the heap once, when opened; when its deadline comes
// and it was active since, it goes back with a deadline from its last
// message, so a message costs no heap work.
func (d *Desk) closeIdle(now time.Time, fx *Effects) {
	idle := time.Duration(d.cfg.Limits.IdleClose)
	for len(d.idle) > 0 && !d.idle[0].at.After(now) {
		e := heap.Pop(&d.idle).(idleEntry)
		c := d.convs[e.conv]
		if c != nil {
			c.idleQueued = false
		}
		if c == nil || c.ended() {
			d.idleStale--
			continue
		}
		if idle <= 0 {
			continue // disabled by a reconfiguration
		}
		if next := c.active.Add(idle); next.After(now) {
			d.pushIdle(c, next)
			continue
		}
		d.end(now, c, "idle", fx)
	}
}

func (d *Desk) pushIdle(c *conv, at time.Time) {
	heap.Push(&d.idle, idleEntry{conv: c.id, at: at})
	c.idleQueued = true
}

// idleEnded notes that c ended: its idle entry, if any, is stale. When
// stale entries are most of a large heap, they all leave at once.
func (d *Desk) idleEnded(c *conv) {
	if !c.idleQueued {
		return
	}
	d.idleStale++
	if d.idleStale < 1024 || d.idleStale <= len(d.idle)/2 {
		return
	}
	live := d.idle[:0]
	for _, e := range d.idle {
		x := d.convs[e.conv]
		if x != nil && !x.ended() {
			live = append(live, e)
		} else if x != nil {
			x.idleQueued = false
		}
	}
	clear(d.idle[len(live):])
	d.idle = live
	heap.Init(&d.idle)
	d.idleStale = 0
}

type idleEntry struct {
	conv uint64
	at   time.Time
}

// idleHeap is a min-heap of idle deadlines (container/heap).
type idleHeap []idleEntry

func (h idleHeap) Len() int           { return len(h) }
func (h idleHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h idleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idleHeap) Push(x any)        { *h = append(*h, x.(idleEntry)) }
func (h *idleHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Conversation is a read-only view of a conversation, for tests and admin.
type Conversation struct {
	ID       uint64
	Customer string
	Agent    string
	Group    string
	Channel  string
	State    State
	Seq      uint64
	Opened   time.Time
}

// Conversation returns a view of conversation id.
func (d *Desk) Conversation(id uint64) (Conversation, bool) {
	c := d.convs[id]
	if c == nil {
		return Conversation{}, false
	}
	return Conversation{ID: c.id, Customer: c.customer, Agent: c.agent, Group: c.group, Channel: c.channel, State: c.state, Seq: c.seq, Opened: c.opened}, true
}

// Errors of Hello.
var (
	// ErrRole: a role that may not connect, or not the user's role.
	ErrRole = errors.New("desk: wrong role")
	// ErrUser: a user id that is empty or reserved.
	ErrUser = errors.New("desk: bad user id")
	// ErrTenant: a reconfiguration the desk cannot apply.
	ErrTenant = errors.New("desk: bad tenant configuration")
)
