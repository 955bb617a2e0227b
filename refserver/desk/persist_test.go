package desk

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// restart builds a new desk of the same tenant over h's store, as a
// restarted server does, and restores it.
func (h *harness) restart() *harness {
	h.t.Helper()
	rt, err := tenant.Build(tenant.Demo())
	if err != nil {
		h.t.Fatal(err)
	}
	d, err := New(rt, h.d.store)
	if err != nil {
		h.t.Fatal(err)
	}
	h2 := &harness{t: h.t, d: d, now: h.now.Add(time.Second)}
	if _, err := d.Restore(h2.now); err != nil {
		h.t.Fatal(err)
	}
	return h2
}

func (h *harness) say(s Session, conv, cid uint64, text string) []Out {
	h.d.Message(h.now, s, &wire.Message{ClientID: cid, Conv: conv, Kind: wire.KindText, Body: []byte(text)}, &h.fx)
	return h.take()
}

func ackOf(t *testing.T, out []Out) wire.Ack {
	t.Helper()
	for _, o := range out {
		if o.Type == wire.TAck {
			return o.Ack
		}
		if o.Type == wire.TError {
			t.Fatalf("error instead of an ack: %+v", o.Err)
		}
	}
	t.Fatalf("no ack in %+v", out)
	return wire.Ack{}
}

// TestRestore: after a restart on the same store, conversations come back
// in the state they were saved in: a bot conversation, an assigned one
// (its agent holds it while offline and counts it once back), two queued
// ones in their old order, a closed one still resumable; sequences go on,
// and retried client ids are answered as before, not stored again.
func TestRestore(t *testing.T) {
	h := newHarness(t)
	c3 := Session{User: "c3", Role: wire.RoleCustomer}
	c4 := Session{User: "c4", Role: wire.RoleCustomer}
	c5 := Session{User: "c5", Role: wire.RoleCustomer}

	botConv := h.open(cust) // stays with the bot
	h.say(cust, botConv, 10, "hello")

	h.agentOnline(ag1, 1)
	assigned := h.open(cust2)
	h.handoff(cust2, assigned)
	if h.state(assigned) != StateAssigned {
		t.Fatalf("conversation %d: %s, want assigned", assigned, h.state(assigned))
	}
	sent := ackOf(t, h.say(cust2, assigned, 11, "my order"))
	h.step(time.Second)
	q1 := h.open(c3)
	h.handoff(c3, q1)
	h.step(time.Second)
	q2 := h.open(c4)
	h.handoff(c4, q2)
	closed := h.open(c5)
	h.d.Close(h.now, c5, &wire.Close{ClientID: 3, Conv: closed}, &h.fx)
	h.take()
	before := map[uint64]Conversation{}
	for _, id := range []uint64{botConv, assigned, q1, q2, closed} {
		before[id], _ = h.d.Conversation(id)
	}

	h2 := h.restart()
	for id, want := range before {
		got, ok := h2.d.Conversation(id)
		if !ok {
			t.Fatalf("conversation %d not restored", id)
		}
		if got.State != want.State || got.Seq != want.Seq || got.Customer != want.Customer || got.Agent != want.Agent || got.Group != want.Group || !got.Opened.Equal(want.Opened) {
			t.Errorf("conversation %d restored as %+v, want %+v", id, got, want)
		}
	}

	// The retried message is acked with its sequence, not stored again.
	h2.hello(cust2)
	if again := ackOf(t, h2.say(cust2, assigned, 11, "my order")); again.Seq != sent.Seq {
		t.Errorf("retried message acked at %d, first at %d", again.Seq, sent.Seq)
	}
	if v, _ := h2.d.Conversation(assigned); v.Seq != before[assigned].Seq {
		t.Errorf("retry stored again: seq %d, was %d", v.Seq, before[assigned].Seq)
	}
	// A retried open gets its conversation back.
	h2.d.Open(h2.now, cust, &wire.Open{ClientID: 1}, &h2.fx)
	if a := ackOf(t, h2.take()); a.Conv != botConv {
		t.Errorf("retried open got conversation %d, want %d", a.Conv, botConv)
	}
	// New messages follow the old sequence.
	if a := ackOf(t, h2.say(cust, botConv, 12, "again")); a.Seq != before[botConv].Seq+1 {
		t.Errorf("first message after restart at seq %d, want %d", a.Seq, before[botConv].Seq+1)
	}

	// The agent reconnects: it is told its chat again, with the transcript.
	if err := h2.d.Hello(h2.now, ag1, nil, &h2.fx); err != nil {
		t.Fatal(err)
	}
	out := h2.take()
	var as *wire.Assignment
	for _, o := range out {
		if m, ok := o.Msg.(*wire.Assignment); ok && o.Audience == ToOrigin {
			as = m
		}
	}
	if as == nil || as.Conv != assigned || len(as.Transcript) == 0 {
		t.Fatalf("reconnecting agent got %+v, want the assignment of %d with its transcript", out, assigned)
	}
	// Back with room for 2: one restored chat, so one more from the queue,
	// the one that queued first.
	h2.d.AgentStatus(h2.now, ag1, &wire.AgentStatus{State: wire.AgentOnline, MaxChats: 2, Groups: []string{"general"}}, &h2.fx)
	out = h2.take()
	if m, ok := find[*wire.Assignment](out, "a1"); !ok || m.Conv != q1 {
		t.Fatalf("agent back online got %+v, want conversation %d (first in the queue)", out, q1)
	}
	if h2.state(q2) != StateQueued {
		t.Errorf("conversation %d: %s, want still queued", q2, h2.state(q2))
	}
	// The closed conversation can still be resumed.
	h2.hello(c5)
	h2.d.Resume(h2.now, c5, []wire.ResumePoint{{Conv: closed}}, &h2.fx)
	out = h2.take()
	if len(out) == 0 || out[len(out)-1].Type != wire.TClose {
		t.Errorf("resuming the closed conversation: %+v, want its messages then its close", out)
	}
	// New conversations get new ids.
	if id := h2.open(Session{User: "c6", Role: wire.RoleCustomer}); slices.Contains([]uint64{botConv, assigned, q1, q2, closed}, id) {
		t.Errorf("new conversation reuses id %d", id)
	}
}

// TestRestoreBadMeta: a saved conversation that does not decode stops the
// restore with an error naming it.
func TestRestoreBadMeta(t *testing.T) {
	st := store.NewMem(0)
	id, err := st.NewConv()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveConv("demo", id, []byte{metaVersion, byte(StateAssigned), 0}); err != nil {
		t.Fatal(err)
	}
	rt, err := tenant.Build(tenant.Demo())
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(rt, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Restore(time.Now()); !errors.Is(err, ErrMeta) {
		t.Fatalf("Restore = %v, want ErrMeta", err)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(appendMeta(nil, &conv{state: StateAssigned, customer: "c", agent: "a", group: "g", openCID: 9, opened: time.Unix(5, 0)}))
	f.Add([]byte{metaVersion, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeMeta(1, b)
		if err != nil {
			return
		}
		// Varints may come in longer forms than ours: the encoding of what
		// was decoded must decode to itself.
		again := appendMeta(nil, c)
		c2, err := decodeMeta(1, again)
		if err != nil {
			t.Fatalf("re-encoding %x of %x does not decode: %v", again, b, err)
		}
		if third := appendMeta(nil, c2); string(third) != string(again) {
			t.Fatalf("decode then encode is not stable: %x, then %x", again, third)
		}
	})
}
