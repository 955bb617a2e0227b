package conform

import (
	"fmt"
	"slices"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// customer/open: open is answered by ack{client_id, conv ≠ 0}, then the
// tenant's menu, then the bot's greeting as delivery seq 1
// (Conversations).
func customerOpen(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	id := p.id()
	p.send(&wire.Open{ClientID: id, Channel: "app"})
	ack := expect[*wire.Ack](p, "ack of open")
	if ack.ClientID != id {
		t.Errorf("the ack of open names client id %d, want %d", ack.ClientID, id)
	}
	if ack.Conv == 0 {
		t.Fatalf("the ack of open names conversation 0, want a conversation id")
	}
	menu := expect[*wire.Menu](p, "the menu (after the ack of open)")
	if menu.Conv != ack.Conv {
		t.Errorf("the menu names conversation %d, want %d (the ack's)", menu.Conv, ack.Conv)
	}
	if len(menu.Items) == 0 {
		t.Errorf("the menu has no items")
	}
	g := expect[*wire.Delivery](p, "the bot's greeting (a delivery after the menu)")
	if g.Conv != ack.Conv || g.Seq != 1 || g.SenderRole != wire.RoleBot {
		t.Errorf("the greeting is %s, want a delivery of conversation %d, seq 1, from the bot", describe(g), ack.Conv)
	}
	if len(g.Body) == 0 {
		t.Errorf("the greeting has an empty body")
	}
}

// botAnswer awaits the bot's answer in conv (a delivery from role bot).
func (p *peer) botAnswer(conv uint64, to string) *wire.Delivery {
	d, _ := await(p, fmt.Sprintf("the bot's answer to %s (a delivery from role bot in conversation %d)", to, conv),
		func(d *wire.Delivery) bool { return d.Conv == conv && d.SenderRole == wire.RoleBot })
	return d
}

// customer/sequence: every message of a conversation, the customer's and
// the bot's, has the next sequence: 1, 2, 3, ... with no gaps; the ack of
// the customer's gives its sequence (Conversations).
func customerSequence(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	conv, menu := p.open("")
	choice := firstChoice(t, menu)
	seqs := []uint64{1} // the greeting
	last := uint64(1)
	for i := range 3 {
		id := p.say(conv, wire.KindMenuChoice, choice)
		var acked, answered bool
		for !acked || !answered {
			m := p.next(fmt.Sprintf("the ack of message %d and the bot's answer", i+1))
			switch m := m.(type) {
			case *wire.Ack:
				if m.ClientID != id {
					t.Fatalf("expected the ack of client id %d, got %s", id, describe(m))
				}
				if m.Conv != conv {
					t.Errorf("%s names conversation %d, want %d", describe(m), m.Conv, conv)
				}
				acked = true
				seqs = append(seqs, m.Seq)
			case *wire.Delivery:
				if m.Conv != conv {
					continue
				}
				if m.Seq <= last {
					t.Errorf("delivery seq %d came after seq %d: deliveries of a conversation come in order", m.Seq, last)
				}
				last = m.Seq
				answered = answered || m.SenderRole == wire.RoleBot
				seqs = append(seqs, m.Seq)
			case *wire.Error:
				t.Fatalf("message %d (client id %d) was refused: %s", i+1, id, describe(m))
			}
		}
	}
	sorted := slices.Sorted(slices.Values(seqs))
	if want := span(1, uint64(len(seqs))); !equalSeqs(sorted, want) {
		t.Errorf("the conversation's sequences (acks and deliveries, as they came) are %v, want %v: one per message, from 1, no gaps", seqs, want)
	}
}

// customer/menu-choice: the bot answers a menu choice with a delivery.
func customerMenuChoice(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	conv, menu := p.open("")
	choice := firstChoice(t, menu)
	id := p.say(conv, wire.KindMenuChoice, choice)
	ack := p.acked(id, fmt.Sprintf("menu choice %q", choice))
	d := p.botAnswer(conv, fmt.Sprintf("menu choice %q", choice))
	if d.Seq <= ack.Seq {
		t.Errorf("the bot's answer has seq %d, not after the choice's %d", d.Seq, ack.Seq)
	}
	if len(d.Body) == 0 {
		t.Errorf("the bot's answer has an empty body")
	}
}

// dedupe/message-retry: a message re-sent with its client id is acked
// again with the original sequence and is not stored, delivered or
// answered again (Conversations).
func dedupeMessageRetry(t *caseRun) {
	user := t.user("c")
	a, _ := t.connect("device A", wire.RoleCustomer, user, "phone")
	b, _ := t.connect("device B", wire.RoleCustomer, user, "web")
	conv, menu := a.open("")
	b.delivered(conv, 1, "the greeting, to the user's other device")
	choice := firstChoice(t, menu)
	msg := &wire.Message{ClientID: a.id(), Conv: conv, Kind: wire.KindMenuChoice, Body: []byte(choice)}
	a.send(msg)
	first := a.acked(msg.ClientID, "the message")
	answer := a.botAnswer(conv, "the message")
	b.delivered(conv, first.Seq, "device A's message")
	b.delivered(conv, answer.Seq, "the bot's answer")

	a.send(msg)
	again := a.acked(msg.ClientID, "the retried message (the same client id)")
	if again.Seq != first.Seq || again.Conv != conv {
		t.Errorf("the retry of client id %d was acked as %s, want seq %d again (the original's)", msg.ClientID, describe(again), first.Seq)
	}
	for _, m := range a.barrier("the retry") {
		if d, ok := m.(*wire.Delivery); ok && d.Conv == conv {
			t.Errorf("device A: the retry caused %s; a retry is acked, and neither stored nor answered again", describe(d))
		}
	}
	for _, m := range b.barrier("device A's retry") {
		if d, ok := m.(*wire.Delivery); ok && d.Conv == conv {
			t.Errorf("device B: the retry caused %s; a retried message is not delivered twice", describe(d))
		}
	}
	id := a.say(conv, wire.KindMenuChoice, choice)
	if next := a.acked(id, "a new message after the retry"); next.Seq != answer.Seq+1 {
		t.Errorf("the message after the retry got seq %d, want %d: the retry must not take a sequence", next.Seq, answer.Seq+1)
	}
}

// dedupe/open-retry: an open retried with its client id gets the same
// conversation, and no second greeting is stored.
func dedupeOpenRetry(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	open := &wire.Open{ClientID: p.id(), Channel: "app"}
	p.send(open)
	ack := p.acked(open.ClientID, "open")
	menu, _ := p.greeted(ack.Conv)
	p.send(open)
	again := p.acked(open.ClientID, "the retried open (the same client id)")
	if again.Conv != ack.Conv {
		t.Errorf("the retried open got conversation %d, want %d (the original's)", again.Conv, ack.Conv)
	}
	for _, m := range p.barrier("the retried open") {
		if d, ok := m.(*wire.Delivery); ok {
			t.Errorf("the retried open caused %s; a retry is not stored again", describe(d))
		}
	}
	id := p.say(ack.Conv, wire.KindMenuChoice, firstChoice(t, menu))
	if a := p.acked(id, "a message after the retried open"); a.Seq != 2 {
		t.Errorf("the first message after the greeting got seq %d, want 2: the retried open must not store a second greeting", a.Seq)
	}
}

// multi-device/fanout: a message from one device of a user is acked on
// it and delivered to the user's other devices, not back to the sender's
// device (Limits: "A user may be connected from several devices").
func multiDeviceFanout(t *caseRun) {
	user := t.user("c")
	a, _ := t.connect("device A", wire.RoleCustomer, user, "phone")
	b, _ := t.connect("device B", wire.RoleCustomer, user, "web")
	conv, menu := a.open("")
	b.delivered(conv, 1, "the greeting, to the user's other device")
	choice := firstChoice(t, menu)
	for _, dir := range []struct {
		from, to *peer
	}{{a, b}, {b, a}} {
		id := dir.from.say(conv, wire.KindMenuChoice, choice)
		ack := dir.from.acked(id, "the message")
		d, _ := dir.to.delivered(conv, ack.Seq, dir.from.name+"'s message")
		if d.ClientID != id || string(d.Sender) != user || d.SenderRole != wire.RoleCustomer || d.Kind != wire.KindMenuChoice || string(d.Body) != choice {
			t.Errorf("%s: %s's message came as %s, want client_id %d, sender %q (customer), kind menu-choice, body %q",
				dir.to.name, dir.from.name, describe(d), id, user, choice)
		}
		for _, m := range dir.from.barrier("the message") {
			if d, ok := m.(*wire.Delivery); ok && d.Conv == conv && d.Seq == ack.Seq {
				t.Errorf("%s, which sent seq %d, also got it as a delivery; the sending device gets the ack instead", dir.from.name, ack.Seq)
			}
		}
	}
}

// history is a conversation made for the resume cases: device A held it
// up to seq held, then left; device B added to it up to seq last.
type history struct {
	user       string
	conv       uint64
	choice     string
	held, last uint64
}

func makeHistory(t *caseRun) history {
	h := history{user: t.user("c")}
	a, _ := t.connect("device A", wire.RoleCustomer, h.user, "phone")
	conv, menu := a.open("")
	h.conv, h.choice = conv, firstChoice(t, menu)
	a.acked(a.say(conv, wire.KindMenuChoice, h.choice), "a message")
	h.held = a.botAnswer(conv, "a message").Seq
	_ = a.c.Close()
	b, _ := t.connect("device B", wire.RoleCustomer, h.user, "web")
	b.acked(b.say(conv, wire.KindMenuChoice, h.choice), "a message while device A is away")
	h.last = b.botAnswer(conv, "a message while device A is away").Seq
	_ = b.c.Close()
	return h
}

// resume/hello: a client reconnecting with hello.resume {conv, k} gets
// every delivery after k, in order, before anything new (Session 4).
func resumeHello(t *caseRun) {
	h := makeHistory(t)
	a := t.dial("device A, back")
	a.send(t.hello(wire.RoleCustomer, h.user, "phone", wire.ResumePoint{Conv: h.conv, Seq: h.held}))
	id := a.id()
	a.send(&wire.Message{ClientID: id, Conv: h.conv, Kind: wire.KindMenuChoice, Body: []byte(h.choice)})
	expect[*wire.Ready](a, "ready (the answer to hello with a resume list)")
	ack, before := await(a, "the replay, then the ack of a message sent after the hello", func(m *wire.Ack) bool { return m.ClientID == id })
	if got, want := seqsOf(h.conv, before), span(h.held+1, h.last); !equalSeqs(got, want) {
		t.Errorf("after hello with resume {conv %d, seq %d} the deliveries before the ack of the next message were seqs %v, want %v (the replay, in order, before anything new)",
			h.conv, h.held, got, want)
	}
	if ack.Seq != h.last+1 {
		t.Errorf("the message after the resume got seq %d, want %d", ack.Seq, h.last+1)
	}
}

// resume/ready-convs: ready lists the user's active conversations with
// their latest sequence (Session 4).
func resumeReadyConvs(t *caseRun) {
	h := makeHistory(t)
	_, r := t.connect("device A, back", wire.RoleCustomer, h.user, "phone")
	i := slices.IndexFunc(r.Convs, func(p wire.ResumePoint) bool { return p.Conv == h.conv })
	switch {
	case i < 0:
		t.Errorf("ready.convs is %v, want it to list conversation %d (seq %d)", r.Convs, h.conv, h.last)
	case r.Convs[i].Seq != h.last:
		t.Errorf("ready.convs lists conversation %d at seq %d, want %d (its latest)", h.conv, r.Convs[i].Seq, h.last)
	}
}

// resume/message: the resume message replays as the hello's list does
// (Session 4).
func resumeMessage(t *caseRun) {
	h := makeHistory(t)
	a, _ := t.connect("device A, back", wire.RoleCustomer, h.user, "phone")
	for _, from := range []uint64{h.held, 0} {
		a.send(&wire.Resume{Points: []wire.ResumePoint{{Conv: h.conv, Seq: from}}})
		_, before := a.delivered(h.conv, h.last, fmt.Sprintf("the replay asked by resume {conv %d, seq %d}", h.conv, from))
		if got, want := append(seqsOf(h.conv, before), h.last), span(from+1, h.last); !equalSeqs(got, want) {
			t.Errorf("resume {conv %d, seq %d} replayed seqs %v, want %v, in order", h.conv, from, got, want)
		}
	}
}

// resume/not-yours: a resume naming another customer's conversation
// replays nothing of it, and is answered exactly as one naming a
// conversation that does not exist (Conversations).
func resumeNotYours(t *caseRun) {
	owner, _ := t.connect("owner", wire.RoleCustomer, t.user("owner"), "phone")
	conv, _ := owner.open("")
	other, _ := t.connect("another customer", wire.RoleCustomer, t.user("other"), "phone")
	var codes []wire.Code
	for _, c := range []struct {
		conv uint64
		what string
	}{{conv, "another customer's conversation"}, {bogusConv(), "a conversation that does not exist"}} {
		other.send(&wire.Resume{Points: []wire.ResumePoint{{Conv: c.conv, Seq: 0}}})
		e, before := await[*wire.Error](other, "an error refusing a resume of "+c.what, nil)
		for _, m := range before {
			t.Errorf("a resume of %s was answered with %s", c.what, describe(m))
		}
		if e.Code != wire.CodeForbidden {
			t.Errorf("a resume of %s was refused with %s, want 200 forbidden", c.what, describe(e))
		}
		codes = append(codes, e.Code)
	}
	if codes[0] != codes[1] {
		t.Errorf("a resume of another customer's conversation got error %s, of one that does not exist %s: they must be answered alike", codeName(codes[0]), codeName(codes[1]))
	}
	other.goesOn("the refused resumes")
}
