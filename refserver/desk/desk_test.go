package desk

import (
	"fmt"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// harness drives a desk with a fake clock and collects what it sends.
type harness struct {
	t   *testing.T
	d   *Desk
	now time.Time
	fx  Effects
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	rt, err := tenant.Build(tenant.Demo())
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(rt, store.NewMem(0))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, d: d, now: time.Unix(1_790_000_000, 0)}
}

func (h *harness) step(d time.Duration) { h.now = h.now.Add(d) }

// take returns the effects of the last call and resets them.
func (h *harness) take() []Out {
	out := append([]Out(nil), h.fx.Out...)
	h.fx.Reset()
	return out
}

var (
	cust  = Session{User: "c1", Role: wire.RoleCustomer}
	cust2 = Session{User: "c2", Role: wire.RoleCustomer}
	ag1   = Session{User: "a1", Role: wire.RoleAgent}
	ag2   = Session{User: "a2", Role: wire.RoleAgent}
	sup   = Session{User: "s1", Role: wire.RoleSupervisor}
)

func (h *harness) hello(s Session) {
	h.t.Helper()
	if err := h.d.Hello(h.now, s, nil, &h.fx); err != nil {
		h.t.Fatal(err)
	}
	h.take()
}

func (h *harness) agentOnline(s Session, max uint64) []Out {
	h.hello(s)
	h.d.AgentStatus(h.now, s, &wire.AgentStatus{State: wire.AgentOnline, MaxChats: max, Groups: []string{"general"}}, &h.fx)
	return h.take()
}

func (h *harness) open(s Session) uint64 {
	h.t.Helper()
	h.hello(s)
	h.d.Open(h.now, s, &wire.Open{ClientID: 1}, &h.fx)
	out := h.take()
	if out[0].Type != wire.TAck {
		h.t.Fatalf("open: first effect %s", out[0].Type)
	}
	return out[0].Ack.Conv
}

func (h *harness) handoff(s Session, conv uint64) []Out {
	h.d.Transfer(h.now, s, &wire.Transfer{ClientID: 2, Conv: conv}, &h.fx)
	return h.take()
}

func find[T wire.Msg](out []Out, user string) (T, bool) {
	var zero T
	for _, o := range out {
		if o.Audience == ToUser && o.User == user {
			if m, ok := o.Msg.(T); ok {
				return m, true
			}
		}
	}
	return zero, false
}

func (h *harness) state(conv uint64) State {
	c, ok := h.d.Conversation(conv)
	if !ok {
		h.t.Fatalf("conversation %d unknown", conv)
	}
	return c.State
}

func TestOpenSendsAckMenuGreeting(t *testing.T) {
	h := newHarness(t)
	h.hello(cust)
	h.d.Open(h.now, cust, &wire.Open{ClientID: 5, Channel: "app"}, &h.fx)
	out := h.take()
	if len(out) != 3 || out[0].Type != wire.TAck || out[1].Type != wire.TMenu || out[2].Type != wire.TDelivery {
		t.Fatalf("open effects: %+v", out)
	}
	conv := out[0].Ack.Conv
	if v, _ := h.d.Conversation(conv); v.Channel != "app" || !v.Opened.Equal(h.now) || v.State != StateBot || v.Customer != "c1" {
		t.Fatalf("conversation view %+v", v)
	}
	if out[2].Delivery.Seq != 1 || out[2].Delivery.SenderRole != wire.RoleBot {
		t.Fatalf("greeting %+v", out[2].Delivery)
	}
	// A retried open gets the same conversation, and nothing else.
	h.d.Open(h.now, cust, &wire.Open{ClientID: 5, Channel: "app"}, &h.fx)
	out = h.take()
	if len(out) != 1 || out[0].Ack.Conv != conv {
		t.Fatalf("retried open: %+v", out)
	}
}

func TestDedupe(t *testing.T) {
	h := newHarness(t)
	conv := h.open(cust)
	msg := &wire.Message{ClientID: 42, Conv: conv, Kind: wire.KindImage, Body: []byte("img://1")}
	h.d.Message(h.now, cust, msg, &h.fx)
	first := h.take()
	h.d.Message(h.now, cust, msg, &h.fx)
	again := h.take()
	if len(again) != 1 || again[0].Type != wire.TAck || again[0].Ack.Seq != first[0].Ack.Seq {
		t.Fatalf("retry: %+v, first ack %+v", again, first[0].Ack)
	}
	// Another sender may use the same client id: it is a different request.
	h.d.Message(h.now, cust2, msg, &h.fx)
	if out := h.take(); out[0].Type != wire.TError || out[0].Err.Code != wire.CodeForbidden {
		t.Fatalf("a stranger writing: %+v", out)
	}
}

func TestQueueAbandonAndDrain(t *testing.T) {
	h := newHarness(t)
	h.agentOnline(ag1, 1)
	c1 := h.open(cust)
	if _, ok := find[*wire.Assignment](h.handoff(cust, c1), "a1"); !ok {
		t.Fatal("c1 not assigned")
	}
	c2 := h.open(cust2)
	out := h.handoff(cust2, c2)
	if qp, ok := find[*wire.QueuePosition](out, "c2"); !ok || qp.Position != 1 {
		t.Fatalf("c2 not queued: %+v", out)
	}
	// The queued customer gives up: abandoned, and the queue is empty.
	h.d.Close(h.now, cust2, &wire.Close{ClientID: 9, Conv: c2}, &h.fx)
	h.take()
	if s := h.state(c2); s != StateAbandoned {
		t.Fatalf("c2 is %s, want abandoned", s)
	}
	if n := h.d.Router().Queued("general"); n != 0 {
		t.Fatalf("%d queued after abandon", n)
	}
	// A third customer waits; the agent closes c1 and it is assigned at once.
	c3s := Session{User: "c3", Role: wire.RoleCustomer}
	c3 := h.open(c3s)
	h.handoff(c3s, c3)
	h.d.Close(h.now, ag1, &wire.Close{ClientID: 10, Conv: c1}, &h.fx)
	out = h.take()
	if a, ok := find[*wire.Assignment](out, "a1"); !ok || a.Conv != c3 {
		t.Fatalf("closing c1 did not drain c3: %+v", out)
	}
	if s := h.state(c3); s != StateAssigned {
		t.Fatalf("c3 is %s", s)
	}
}

func TestTransfer(t *testing.T) {
	h := newHarness(t)
	h.agentOnline(ag1, 2)
	h.agentOnline(ag2, 2)
	conv := h.open(cust)
	out := h.handoff(cust, conv)
	first, _ := find[*wire.Assignment](out, "c1")
	from, to := ag1, ag2
	if first.Agent == "a2" {
		from, to = ag2, ag1
	}
	h.d.Message(h.now, cust, &wire.Message{ClientID: 3, Conv: conv, Kind: wire.KindText, Body: []byte("hello")}, &h.fx)
	h.take()

	h.d.Transfer(h.now, from, &wire.Transfer{ClientID: 4, Conv: conv, ToAgent: to.User}, &h.fx)
	out = h.take()
	if cl, ok := find[*wire.Close](out, from.User); !ok || cl.Reason != "transferred" {
		t.Fatalf("old agent not told: %+v", out)
	}
	a, ok := find[*wire.Assignment](out, to.User)
	if !ok || len(a.Transcript) == 0 || string(a.Transcript[len(a.Transcript)-1].Body) != "hello" {
		t.Fatalf("new agent's assignment %+v", a)
	}
	// The old agent can no longer write; the new one can.
	h.d.Message(h.now, from, &wire.Message{ClientID: 5, Conv: conv, Kind: wire.KindText, Body: []byte("x")}, &h.fx)
	if out := h.take(); out[0].Type != wire.TError {
		t.Fatalf("old agent still writes: %+v", out)
	}
	if ai, _ := h.d.Router().Agent(from.User); ai.Active != 0 {
		t.Fatalf("old agent still counts %d chats", ai.Active)
	}

	// Transfer to a group with nobody online: queued there.
	h.d.Transfer(h.now, to, &wire.Transfer{ClientID: 6, Conv: conv, ToGroup: "vip"}, &h.fx)
	out = h.take()
	if qp, ok := find[*wire.QueuePosition](out, "c1"); !ok || qp.Group != "vip" {
		t.Fatalf("transfer to vip: %+v", out)
	}
	if s := h.state(conv); s != StateQueued {
		t.Fatalf("conversation is %s, want queued", s)
	}
}

func TestWatchersReceiveDeliveries(t *testing.T) {
	h := newHarness(t)
	h.hello(sup)
	h.d.Watch(h.now, sup, &wire.Watch{Groups: []string{"general"}}, &h.fx)
	h.take()
	conv := h.open(cust)
	h.d.Message(h.now, cust, &wire.Message{ClientID: 3, Conv: conv, Kind: wire.KindText, Body: []byte("hi")}, &h.fx)
	out := h.take()
	for _, o := range out {
		if o.Type == wire.TDelivery && o.Delivery.SenderRole == wire.RoleCustomer {
			if len(o.Watchers) != 1 || o.Watchers[0] != "s1" {
				t.Fatalf("watchers of the delivery: %v", o.Watchers)
			}
			// Gone supervisors stop watching, and slices handed out earlier
			// are not changed under the driver.
			held := o.Watchers
			h.d.Gone(h.now, sup, &h.fx)
			if held[0] != "s1" || len(h.d.groups["general"].watchers) != 0 {
				t.Fatal("watcher slice modified in place, or supervisor still watching")
			}
			return
		}
	}
	t.Fatalf("no customer delivery in %+v", out)
}

func TestAgentGoneKeepsChats(t *testing.T) {
	h := newHarness(t)
	h.agentOnline(ag1, 2)
	conv := h.open(cust)
	h.handoff(cust, conv)
	h.d.Gone(h.now, ag1, &h.fx)
	h.take()
	a, _ := h.d.Router().Agent("a1")
	if a.Active != 1 || a.Status == 2 {
		t.Fatalf("after the agent left: %+v", a)
	}
	// A new customer is not given to the absent agent.
	conv2 := h.open(cust2)
	if _, ok := find[*wire.QueuePosition](h.handoff(cust2, conv2), "c2"); !ok {
		t.Fatal("a customer was routed to an agent who is gone")
	}
	// The agent comes back, sees its chat in ready, and takes the queue.
	if err := h.d.Hello(h.now, ag1, nil, &h.fx); err != nil {
		t.Fatal(err)
	}
	out := h.take()
	ready := out[0].Msg.(*wire.Ready)
	if len(ready.Convs) != 1 || ready.Convs[0].Conv != conv {
		t.Fatalf("ready %+v", ready)
	}
	h.d.AgentStatus(h.now, ag1, &wire.AgentStatus{State: wire.AgentOnline, MaxChats: 2}, &h.fx)
	if a, ok := find[*wire.Assignment](h.take(), "a1"); !ok || a.Conv != conv2 {
		t.Fatal("the returning agent did not take the queue")
	}
}

func TestRetention(t *testing.T) {
	h := newHarness(t)
	conv := h.open(cust)
	h.d.Close(h.now, cust, &wire.Close{ClientID: 3, Conv: conv}, &h.fx)
	h.take()
	h.step(time.Duration(h.d.cfg.Limits.RetainClosed) - time.Second)
	h.d.Tick(h.now, &h.fx)
	if _, ok := h.d.Conversation(conv); !ok {
		t.Fatal("forgotten before the retention")
	}
	h.step(2 * time.Second)
	h.d.Tick(h.now, &h.fx)
	if _, ok := h.d.Conversation(conv); ok {
		t.Fatal("kept after the retention")
	}
}

func TestHelloRoles(t *testing.T) {
	h := newHarness(t)
	h.hello(cust)
	if err := h.d.Hello(h.now, Session{User: "c1", Role: wire.RoleAgent}, nil, &h.fx); err == nil {
		t.Fatal("a customer id said hello as an agent")
	}
	for _, s := range []Session{{User: "", Role: wire.RoleCustomer}, {User: BotName, Role: wire.RoleCustomer}, {User: "x", Role: wire.RoleBot}} {
		if err := h.d.Hello(h.now, s, nil, &h.fx); err == nil {
			t.Fatalf("hello %+v accepted", s)
		}
	}
}

func TestQueuePositionsCoalesced(t *testing.T) {
	h := newHarness(t)
	h.agentOnline(ag1, 1)
	busy := h.open(Session{User: "c0", Role: wire.RoleCustomer})
	h.handoff(Session{User: "c0", Role: wire.RoleCustomer}, busy)
	var convs []uint64
	for i := range 3 {
		s := Session{User: string(rune('x' + i)), Role: wire.RoleCustomer}
		c := h.open(s)
		h.handoff(s, c)
		convs = append(convs, c)
	}
	// The first in line leaves: the others move up, told once per interval.
	h.d.Close(h.now, Session{User: "x", Role: wire.RoleCustomer}, &wire.Close{ClientID: 7, Conv: convs[0]}, &h.fx)
	h.take()
	h.step(2 * time.Second)
	h.d.Tick(h.now, &h.fx)
	out := h.take()
	got := map[string]uint64{}
	for _, o := range out {
		if qp, ok := o.Msg.(*wire.QueuePosition); ok {
			got[o.User] = qp.Position
		}
	}
	if got["y"] != 1 || got["z"] != 2 || len(got) != 2 {
		t.Fatalf("positions after one left: %v", got)
	}
	h.d.Tick(h.now, &h.fx)
	if out := h.take(); len(out) != 0 {
		t.Fatalf("unchanged positions sent again: %+v", out)
	}
}

func TestIdleClose(t *testing.T) {
	h := newHarness(t)
	idle := time.Duration(h.d.cfg.Limits.IdleClose)
	h.agentOnline(ag1, 1)
	quiet := h.open(cust)
	h.handoff(cust, quiet)
	busy := h.open(cust2)
	// The busy conversation goes on writing; the quiet one says nothing.
	for range 3 {
		h.step(idle / 3)
		h.d.Message(h.now, cust2, &wire.Message{ClientID: uint64(h.now.Unix()), Conv: busy, Kind: wire.KindText, Body: []byte("还在")}, &h.fx)
		h.d.Tick(h.now, &h.fx)
	}
	out := h.take()
	if s := h.state(quiet); s != StateClosed {
		t.Fatalf("quiet conversation is %s after %s of silence, want closed", s, idle)
	}
	if s := h.state(busy); s != StateBot {
		t.Fatalf("busy conversation is %s, want still with the bot", s)
	}
	closed := false
	for _, o := range out {
		if cl, ok := o.Msg.(*wire.Close); ok && cl.Conv == quiet && cl.Reason == "idle" {
			closed = true
		}
	}
	if !closed {
		t.Fatal("nobody was told the quiet conversation closed")
	}
	// Its agent's slot is free again.
	if a, _ := h.d.Router().Agent("a1"); a.Active != 0 {
		t.Fatalf("agent still holds %d chats", a.Active)
	}
}

// TestCustomersForgotten: the desk's memory follows the customers present:
// one who left with no open conversation is forgotten, one with an open
// conversation is kept until it closes.
func TestCustomersForgotten(t *testing.T) {
	h := newHarness(t)
	h.hello(cust)
	h.d.Gone(h.now, cust, &h.fx)
	if _, ok := h.d.users["c1"]; ok {
		t.Fatal("a customer who left with nothing open is still known")
	}
	conv := h.open(cust2)
	h.d.Gone(h.now, cust2, &h.fx)
	if _, ok := h.d.users["c2"]; !ok {
		t.Fatal("a customer with an open conversation was forgotten")
	}
	h.step(time.Duration(h.d.cfg.Limits.IdleClose) + time.Second)
	h.d.Tick(h.now, &h.fx)
	if s := h.state(conv); s != StateClosed {
		t.Fatalf("conversation is %s", s)
	}
	if _, ok := h.d.users["c2"]; ok {
		t.Fatal("the customer was kept after its last conversation closed")
	}
}

// TestMaxOpen: beyond the bound an open is refused as busy, naming the
// reason; conversations already open go on, and room comes back when one
// closes.
func TestMaxOpen(t *testing.T) {
	rt, err := tenant.Build(tenant.Demo())
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(rt, store.NewMem(0), WithMaxOpen(2))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, d: d, now: time.Unix(1_790_000_000, 0)}
	first := h.open(cust)
	h.open(cust2)
	c3 := Session{User: "c3", Role: wire.RoleCustomer}
	h.hello(c3)
	h.d.Open(h.now, c3, &wire.Open{ClientID: 1}, &h.fx)
	out := h.take()
	if len(out) != 1 || out[0].Type != wire.TError || out[0].Err.Code != wire.CodeBusy || out[0].Err.ClientID != 1 {
		t.Fatalf("open beyond the bound: %+v, want one busy error", out)
	}
	h.d.Message(h.now, cust, &wire.Message{ClientID: 9, Conv: first, Kind: wire.KindText, Body: []byte("still here")}, &h.fx)
	if out := h.take(); out[0].Type != wire.TAck {
		t.Fatalf("an open conversation at the bound: %+v, want an ack", out[0])
	}
	h.d.Close(h.now, cust, &wire.Close{ClientID: 10, Conv: first}, &h.fx)
	h.take()
	if n := h.d.OpenCount(); n != 1 {
		t.Fatalf("OpenCount = %d after a close, want 1", n)
	}
	h.d.Open(h.now, c3, &wire.Open{ClientID: 2}, &h.fx)
	if out := h.take(); out[0].Type != wire.TAck {
		t.Fatalf("open after a close: %+v, want an ack", out[0])
	}
}

// TestIdleHeapFollowsOpen: the idle-close heap holds an entry per open
// conversation and, lazily, those of conversations ended since; the ended
// ones leave at once when they are most of the heap, so closing thousands
// of conversations long before their idle deadline leaves it small.
func TestIdleHeapFollowsOpen(t *testing.T) {
	h := newHarness(t)
	keep := h.open(cust) // stays open throughout
	for i := range 5000 {
		s := Session{User: fmt.Sprintf("u%d", i), Role: wire.RoleCustomer}
		conv := h.open(s)
		h.d.Close(h.now, s, &wire.Close{ClientID: 2, Conv: conv}, &h.fx)
		h.take()
	}
	if n := len(h.d.idle); n > 2100 {
		t.Fatalf("idle heap holds %d entries for 1 open conversation after 5000 closed", n)
	}
	// The open one still closes when idle.
	h.step(time.Duration(h.d.cfg.Limits.IdleClose) + time.Second)
	h.d.Tick(h.now, &h.fx)
	h.take()
	if h.state(keep) != StateClosed {
		t.Fatalf("conversation %d: %s after its idle deadline, want closed", keep, h.state(keep))
	}
	if h.d.idleStale < 0 || h.d.idleStale > len(h.d.idle) {
		t.Fatalf("stale count %d with %d entries", h.d.idleStale, len(h.d.idle))
	}
}
