package conform

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// errors/too-large: a header declaring more than ready.max_frame gets
// error 101 and a close, without the server waiting for the body
// (Transport and framing; Limits).
func errorsTooLarge(t *caseRun) {
	p, r := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	if r.MaxFrame >= math.MaxUint32 {
		t.Skipf("ready.max_frame is %d: no frame header can declare more", r.MaxFrame)
	}
	p.sendRaw(binary.BigEndian.AppendUint32(nil, uint32(r.MaxFrame+1)))
	p.closedWith(wire.CodeTooLarge, fmt.Sprintf("a frame header declaring %d bytes, one over ready.max_frame, and no body", r.MaxFrame+1))
}

// errors/bad-frame: a payload that does not decode gets error 100 and a
// close (Error codes).
func errorsBadFrame(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	// A message whose client id is a varint that never ends.
	p.sendRaw([]byte{0, 0, 0, 4, byte(wire.TMessage), 0xff, 0xff, 0xff})
	p.closedWith(wire.CodeBadFrame, "a message frame whose payload does not decode")
}

// errors/unknown-type: a type byte the protocol does not have gets error
// 108 and a close (Error codes).
func errorsUnknownType(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	p.sendRaw([]byte{0, 0, 0, 2, 200, 0})
	p.closedWith(wire.CodeUnknownType, "a frame of type 200")
}

// errors/bad-text: invalid UTF-8 in a str field, or in the body of a text
// kind, gets error 112 naming the field, and a close (Transport and
// framing).
func errorsBadText(t *caseRun) {
	const bad = "\xff\xfeok"
	p := t.dial("a hello")
	p.send(&wire.Hello{Role: wire.RoleCustomer, Tenant: t.cfg.Tenant + bad, User: t.user("c1"), Device: "phone"})
	nameField(t, p.closedWith(wire.CodeBadText, "a hello whose tenant is not UTF-8"), "tenant")

	p, _ = t.connect("a customer opening", wire.RoleCustomer, t.user("c2"), "phone")
	p.send(&wire.Open{ClientID: p.id(), Channel: bad})
	nameField(t, p.closedWith(wire.CodeBadText, "an open whose channel is not UTF-8"), "channel")

	p, _ = t.connect("a customer writing", wire.RoleCustomer, t.user("c3"), "phone")
	conv, _ := p.open("")
	p.say(conv, wire.KindText, bad)
	nameField(t, p.closedWith(wire.CodeBadText, "a text message whose body is not UTF-8"), "body")
}

func nameField(t *caseRun, text, field string) {
	if !strings.Contains(text, field) {
		t.Errorf("error 112 has the text %q, which does not name the field (%s)", text, field)
	}
}

// errors/wrong-role: a customer sending agent-status gets error 205, and
// the connection goes on (Error codes: 2xx refuse one request).
func errorsWrongRole(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	p.send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 1, Groups: []string{t.cfg.Group}})
	p.refused(wire.CodeWrongRole, 0, "agent-status from a customer")
	p.goesOn("error 205")
}

// errors/forbidden: a message into another customer's conversation gets
// error 200 naming its client id, is neither stored nor delivered, and
// the connection goes on (Conversations; Error codes).
func errorsForbidden(t *caseRun) {
	owner, _ := t.connect("owner", wire.RoleCustomer, t.user("owner"), "phone")
	conv, menu := owner.open("")
	otherUser := t.user("other")
	other, _ := t.connect("another customer", wire.RoleCustomer, otherUser, "phone")
	id := other.say(conv, wire.KindText, "let me in")
	other.refused(wire.CodeForbidden, id, "a message to another customer's conversation")
	other.goesOn("error 200")

	oid := owner.say(conv, wire.KindMenuChoice, firstChoice(t, menu))
	ack, before := await(owner, "the ack of the owner's message", func(a *wire.Ack) bool { return a.ClientID == oid })
	for _, m := range before {
		if d, ok := m.(*wire.Delivery); ok && string(d.Sender) == otherUser {
			t.Errorf("owner: got the refused message as %s", describe(d))
		}
	}
	if ack.Seq != 2 {
		t.Errorf("owner: the first message after the greeting got seq %d, want 2: a refused message takes no sequence", ack.Seq)
	}
}

// errors/unknown-conv: a message to a conversation that does not exist is
// refused as one to another customer's: error 200. PROTOCOL.md
// (Conversations) has a request naming a conversation that is not the
// user's refused "with error 200 forbidden exactly as if the conversation
// did not exist to that user", so a user cannot tell the two apart.
func errorsUnknownConv(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	conv := bogusConv()
	id := p.say(conv, wire.KindText, "anyone there?")
	e, before := await[*wire.Error](p, "an error refusing a message to a conversation that does not exist", nil)
	for _, m := range before {
		t.Errorf("a message to conversation %d, which does not exist, was answered with %s", conv, describe(m))
	}
	switch {
	case e.Code == wire.CodeUnknownConv:
		t.Errorf("a message to a conversation that does not exist got %s, want 200 forbidden: PROTOCOL.md (Conversations) refuses a conversation that is not the user's with 200 exactly as if it did not exist, so both get 200", describe(e))
	case e.Code != wire.CodeForbidden:
		t.Errorf("a message to a conversation that does not exist got %s, want 200 forbidden", describe(e))
	}
	if e.ClientID != id {
		t.Errorf("the error names client id %d, want %d (the refused message's)", e.ClientID, id)
	}
	p.goesOn("the refused message")
}
