package conform

import (
	"fmt"
	"slices"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// agentOnline connects an agent and puts it online in the suite's group
// with room for maxChats chats. Conversations a broken earlier run left
// in the group's queue come to it at once: it closes them, so that the
// case starts from an empty queue.
func (t *caseRun) agentOnline(maxChats uint64) (*peer, string) {
	user := t.user("agent")
	ag, _ := t.connect("agent", wire.RoleAgent, user, "console")
	ag.send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: maxChats, Groups: []string{t.cfg.Group}})
	// When the case ends, the agent goes away before its connection
	// closes: a server notices a close only later, and meanwhile the next
	// case's customers would be routed to an agent that left.
	t.cleanups = append(t.cleanups, func() {
		ag.send(&wire.AgentStatus{State: wire.AgentAway, MaxChats: maxChats, Groups: []string{t.cfg.Group}})
		ag.barrier("agent-status away")
	})
	for range 100 {
		var stale []uint64
		for _, m := range ag.barrier("agent-status") {
			switch m := m.(type) {
			case *wire.Error:
				t.Fatalf("agent: agent-status online in group %q was refused: %s (is --group a skill group of tenant %q?)", t.cfg.Group, describe(m), t.cfg.Tenant)
			case *wire.Assignment:
				stale = append(stale, m.Conv)
			}
		}
		if len(stale) == 0 {
			return ag, user
		}
		for _, conv := range stale {
			ag.send(&wire.Close{ClientID: ag.id(), Conv: conv, Reason: "closed by the conformance suite: left in its group's queue"})
		}
	}
	t.Fatalf("agent: group %q's queue did not empty after closing 100 rounds of conversations waiting in it", t.cfg.Group)
	return nil, ""
}

// chatter is a customer with an open conversation in the suite's group.
type chatter struct {
	*peer
	user   string
	conv   uint64
	choice string
}

func (t *caseRun) chatter(name string) *chatter {
	user := t.user(name)
	p, _ := t.connect(name, wire.RoleCustomer, user, "phone")
	conv, menu := p.open(t.cfg.Group)
	c := &chatter{peer: p, user: user, conv: conv, choice: firstChoice(t, menu)}
	// Leave no conversation waiting in the group for the next case.
	t.Cleanup(func() { c.send(&wire.Close{ClientID: c.id(), Conv: conv, Reason: "conformance case over"}) })
	return c
}

// handoff asks for a person: a transfer with no target agent, to the
// suite's group. It returns the request's client id.
func (c *chatter) handoff() uint64 {
	id := c.id()
	c.send(&wire.Transfer{ClientID: id, Conv: c.conv, ToGroup: c.t.cfg.Group})
	return id
}

// assigned awaits the assignment of conv on p, failing on an error
// refusing request id.
func (p *peer) assigned(conv, id uint64, what string) *wire.Assignment {
	as, before := await(p, fmt.Sprintf("assignment of conversation %d (%s)", conv, what), func(a *wire.Assignment) bool { return a.Conv == conv })
	for _, m := range before {
		if e, ok := m.(*wire.Error); ok && (id == 0 || e.ClientID == id) {
			p.t.Errorf("%s: before the assignment came %s", p.name, describe(e))
		}
	}
	return as
}

// checkAssignment checks the two assignments of a handoff: the agent's
// with the transcript so far (seqs 1..last), the customer's without.
func (t *caseRun) checkAssignment(agent, customer *wire.Assignment, agentUser string, c *chatter, last uint64) {
	for _, a := range []struct {
		who string
		as  *wire.Assignment
	}{{"agent", agent}, {"customer", customer}} {
		if a.as.Agent != agentUser || a.as.Customer != c.user || a.as.Group != t.cfg.Group {
			t.Errorf("the %s's assignment is %s, want agent %q, customer %q, group %q", a.who, describe(a.as), agentUser, c.user, t.cfg.Group)
		}
	}
	seqs := make([]uint64, len(agent.Transcript))
	for i, d := range agent.Transcript {
		seqs[i] = d.Seq
		if d.Conv != c.conv {
			t.Errorf("the agent's transcript holds %s, of another conversation", describe(&d))
		}
	}
	if want := span(1, last); !equalSeqs(seqs, want) {
		t.Errorf("the agent's assignment carries a transcript of seqs %v, want %v (the conversation so far)", seqs, want)
	}
	if len(customer.Transcript) != 0 {
		t.Errorf("the customer's assignment carries a transcript of %d messages, want none", len(customer.Transcript))
	}
}

// routing/assignment: a customer asking for a person while an agent of
// the group has room: the agent gets assignment with the transcript, the
// customer gets assignment (Conversations).
func routingAssignment(t *caseRun) {
	ag, agUser := t.agentOnline(1)
	c := t.chatter("customer")
	c.acked(c.say(c.conv, wire.KindMenuChoice, c.choice), "a menu choice")
	last := c.botAnswer(c.conv, "a menu choice").Seq
	id := c.handoff()
	as := ag.assigned(c.conv, 0, "the customer asked for a person")
	cas := c.assigned(c.conv, id, "the customer asked for a person")
	t.checkAssignment(as, cas, agUser, c, last)
}

// routing/chat: once assigned, the agent's messages reach the customer
// and the customer's the agent, each acked to its sender, and the bot
// no longer answers (Conversations).
func routingChat(t *caseRun) {
	ag, agUser := t.agentOnline(1)
	c := t.chatter("customer")
	id := c.handoff()
	ag.assigned(c.conv, 0, "the customer asked for a person")
	c.assigned(c.conv, id, "the customer asked for a person")
	for _, s := range []struct {
		from, to *peer
		user     string
		role     wire.Role
	}{{ag, c.peer, agUser, wire.RoleAgent}, {c.peer, ag, c.user, wire.RoleCustomer}} {
		body := "hello from the " + s.role.String()
		id := s.from.say(c.conv, wire.KindText, body)
		ack := s.from.acked(id, "a text message")
		d, _ := s.to.delivered(c.conv, ack.Seq, "the "+s.role.String()+"'s message")
		if string(d.Sender) != s.user || d.SenderRole != s.role || d.ClientID != id || d.Kind != wire.KindText || string(d.Body) != body {
			t.Errorf("%s: the %s's message came as %s, want sender %q (%s), client_id %d, kind text, body %q", s.to.name, s.role, describe(d), s.user, s.role, id, body)
		}
	}
	for _, m := range c.barrier("the customer's message") {
		if d, ok := m.(*wire.Delivery); ok && d.SenderRole == wire.RoleBot {
			t.Errorf("customer: the bot answered in a conversation an agent holds: %s", describe(d))
		}
	}
}

// routing/queue: with the group's only agent full, a second customer
// asking for a person is told queue position 1; when the agent closes its
// chat, both of its sides get close, and the waiting customer is assigned
// (Conversations).
func routingQueue(t *caseRun) {
	ag, agUser := t.agentOnline(1)
	first := t.chatter("first")
	id := first.handoff()
	ag.assigned(first.conv, 0, "the first customer asked for a person")
	first.assigned(first.conv, id, "the first customer asked for a person")

	second := t.chatter("second")
	id = second.handoff()
	qp, before := await(second.peer, "queue-position (the only agent is at max_chats 1)", func(q *wire.QueuePosition) bool { return q.Conv == second.conv })
	for _, m := range before {
		switch m := m.(type) {
		case *wire.Error:
			t.Fatalf("second customer: asking for a person was refused: %s", describe(m))
		case *wire.Assignment:
			t.Fatalf("second customer: assigned (%s) while the group's only agent is at max_chats 1", describe(m))
		}
	}
	if qp.Position != 1 || qp.Group != t.cfg.Group {
		t.Errorf("second customer: got %s, want position 1 in group %q", describe(qp), t.cfg.Group)
	}

	ag.send(&wire.Close{ClientID: ag.id(), Conv: first.conv, Reason: "resolved"})
	for _, p := range []*peer{ag, first.peer} {
		cl, _ := await(p, fmt.Sprintf("close of conversation %d (the agent closed it)", first.conv), func(c *wire.Close) bool { return c.Conv == first.conv })
		if cl.Reason == "" {
			t.Errorf("%s: the close of conversation %d has no reason", p.name, first.conv)
		}
	}
	sas := second.assigned(second.conv, id, "the agent closed its other chat")
	as := ag.assigned(second.conv, 0, "it closed its other chat")
	t.checkAssignment(as, sas, agUser, second, 1)
}

// routing/reconnect: a user connecting while an agent holds its chat is
// told so between ready and the replay: the customer gets assignment
// without transcript, the agent assignment with it; a customer retrying
// its request for a person (the same client id) is answered the same way
// (Session 5).
func routingReconnect(t *caseRun) {
	ag, agUser := t.agentOnline(1)
	c := t.chatter("customer")
	id := c.handoff()
	ag.assigned(c.conv, 0, "the customer asked for a person")
	c.assigned(c.conv, id, "the customer asked for a person")

	c2, r := t.connect("customer, connecting again", wire.RoleCustomer, c.user, "web")
	if !slices.ContainsFunc(r.Convs, func(p wire.ResumePoint) bool { return p.Conv == c.conv }) {
		t.Errorf("ready.convs is %v, want it to list conversation %d", r.Convs, c.conv)
	}
	cas := expect[*wire.Assignment](c2, fmt.Sprintf("assignment of conversation %d right after ready (where the customer's chat stands)", c.conv))
	ag2, _ := t.connect("agent, connecting again", wire.RoleAgent, agUser, "console-2")
	as := expect[*wire.Assignment](ag2, fmt.Sprintf("assignment of conversation %d right after ready (the chat the agent holds)", c.conv))
	if as.Conv != c.conv || cas.Conv != c.conv {
		t.Fatalf("after ready came %s (agent) and %s (customer), want assignments of conversation %d", describe(as), describe(cas), c.conv)
	}
	t.checkAssignment(as, cas, agUser, c, 1)

	c.send(&wire.Transfer{ClientID: id, Conv: c.conv, ToGroup: t.cfg.Group})
	again := c.assigned(c.conv, id, "the retried request for a person")
	if again.Agent != agUser || len(again.Transcript) != 0 {
		t.Errorf("the retried request for a person was answered by %s, want the same assignment (agent %q, no transcript)", describe(again), agUser)
	}
}
