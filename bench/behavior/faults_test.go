package behavior

import (
	"slices"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
	"github.com/swarmdesk/swarmdesk/reports"
)

// convLog records the sender roles of a conversation's messages, by
// sequence, from every delivery the server sends (whoever receives it).
type convLog map[uint64]wire.Role

// tap makes l record every delivery and transcript entry w's server sends.
func (l convLog) tap(w *world) {
	w.net.drop = func(m wire.Msg) bool {
		switch m := m.(type) {
		case *wire.Delivery:
			l[m.Seq] = m.SenderRole
		case *wire.Assignment:
			for _, d := range m.Transcript {
				l[d.Seq] = d.SenderRole
			}
		}
		return false
	}
}

// roles returns the roles in sequence order.
func (l convLog) roles() []wire.Role {
	seqs := make([]uint64, 0, len(l))
	for s := range l {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	out := make([]wire.Role, len(seqs))
	for i, s := range seqs {
		out[i] = l[s]
	}
	return out
}

// TestCustomerWaitsForTheReply: the agent's greeting comes after the
// customer's first chat message was acknowledged (greet 10s, the message
// 1s after the assignment). The customer must not take the greeting for
// the reply: each of its messages after the first waits for the agent's
// answer to the one before, so in the conversation the k-th customer
// message follows the greeting and k-1 replies.
func TestCustomerWaitsForTheReply(t *testing.T) {
	sc := parseScenario(t, `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - ask_person
    - chat: {messages: 3, think: const(1s)}
    - close
agents:
  greet: const(10s)
  typing: const(20s)
  groups: [{group: general, count: 1}]
`)
	w := newWorld(t, sc, time.Millisecond)
	log := convLog{}
	log.tap(w)
	c := w.arrive()
	w.clk.run(w.start.Add(10 * time.Minute))
	if !c.Done() {
		t.Fatalf("customer stuck at step %d waiting %d", c.pc, c.wait)
	}
	var agent, customer int
	var chat []wire.Role
	for _, r := range log.roles() {
		switch r {
		case wire.RoleAgent:
			agent++
			chat = append(chat, r)
		case wire.RoleCustomer:
			customer++
			chat = append(chat, r)
			// The greeting and the replies to the customer's earlier
			// messages come before its next one.
			if customer > 1 && agent < customer {
				t.Errorf("customer message %d sent after %d agent messages (the greeting and %d replies); want the greeting and %d replies first", customer, agent, max(agent-1, 0), customer-1)
			}
		}
	}
	t.Logf("conversation (customer 1, agent 2): %v", chat)
	res := w.result()
	if n := res.Latency["agent_reply"].Count; n != 3 {
		t.Errorf("agent_reply recorded %d times, want one per customer message (3)", n)
	}
	checkLedger(t, res)
}

// TestReplyBody round-trips the sequence through a reply's body, at its
// size, and refuses bodies without the stamp: greetings, customers'
// messages, bodies bench did not make.
func TestReplyBody(t *testing.T) {
	env := &Env{}
	for _, c := range []struct {
		seq  uint64
		size int
	}{{1, 0}, {7, 5}, {42, 24}, {1<<64 - 1, 1500}} {
		b := env.replyBody(c.seq, c.size)
		if len(b) < c.size {
			t.Errorf("seq %d size %d: body of %d bytes", c.seq, c.size, len(b))
		}
		if got, ok := parseReply(b); !ok || got != c.seq {
			t.Errorf("seq %d size %d: parsed %d %v from %q", c.seq, c.size, got, ok, b)
		}
	}
	for _, body := range []string{"", "re ", "re 0 ", "re 12", "re x ", "re 1x ", "abcdefghijklmnopqrstuvwx", "你好", "re 123456789012345678901 "} {
		if seq, ok := parseReply([]byte(body)); ok {
			t.Errorf("%q parsed as a reply to %d", body, seq)
		}
	}
}

// TestAgentStopsTypingForAClosedChat: one agent taking 40 minutes to type
// a reply, longer than the tenant's idle close (30 minutes). The first
// customer's chat closes idle while the agent types; the agent drops that
// reply and greets the next customer, queued meanwhile, after its greeting
// time, instead of after the dead reply's 40 minutes.
func TestAgentStopsTypingForAClosedChat(t *testing.T) {
	sc := parseScenario(t, `
duration: 1h
customers:
  rate: 1
  script:
    - connect
    - open
    - ask_person
    - chat: {messages: 1, think: const(1s)}
    - close
agents:
  greet: const(1s)
  typing: const(40m)
  wrap_up: const(10s)
  groups: [{group: general, count: 1, max_chats: 1}]
`)
	w := newWorld(t, sc, time.Millisecond)
	first := w.arrive()
	var second *Customer
	w.clk.call(w.start.Add(20*time.Minute), func() { second = w.arrive() })
	// The first chat closes idle at about 30m; the second customer is
	// assigned after the wrap-up, and greeted a second later.
	w.clk.run(w.start.Add(35 * time.Minute))
	if !first.Done() {
		t.Fatalf("first customer stuck at step %d waiting %d", first.pc, first.wait)
	}
	if !second.has(fAssigned) || !second.has(fFirstReply) {
		t.Errorf("second customer: assigned %v, greeted %v by 35m; want both (the first chat closed at about 30m)", second.has(fAssigned), second.has(fFirstReply))
	}
	w.clk.run(w.start.Add(3 * time.Hour))
	res := w.result()
	logLatency(t, res)
	if n := res.Latency["first_reply"].Count; n != 2 {
		t.Errorf("first_reply recorded %d times, want both customers greeted", n)
	}
	if s := res.Sessions; s.Started != 2 || s.Completed != 2 || s.Abandoned != 0 {
		t.Errorf("sessions %+v, want two completed (closed idle) and none abandoned", s)
	}
}

// TestTranscriptChecked: what the customer wrote to the bot before an
// agent took the chat reaches the agent in the assignment's transcript,
// and the ledger checks it there: a transcript missing one of the
// customer's questions counts it lost.
func TestTranscriptChecked(t *testing.T) {
	const doc = `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - ask: {count: 2, think: const(2s)}
    - ask_person
    - chat: {messages: 2, think: const(2s)}
    - close
agents:
  greet: const(2s)
  typing: const(2s)
  groups: [{group: general, count: 1}]
`
	for _, tc := range []struct {
		name            string
		strip           bool
		delivered, lost int64
	}{
		// The 2 questions in the transcript, 2 chat messages at the agent,
		// the greeting and 2 replies at the customer.
		{"whole", false, 7, 0},
		{"one question missing", true, 6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, parseScenario(t, doc), time.Millisecond)
			stripped := false
			w.net.drop = func(m wire.Msg) bool {
				if as, ok := m.(*wire.Assignment); ok && tc.strip && len(as.Transcript) > 0 && !stripped {
					for i, d := range as.Transcript {
						if d.SenderRole == wire.RoleCustomer {
							as.Transcript = slices.Delete(as.Transcript, i, i+1)
							stripped = true
							break
						}
					}
				}
				return false
			}
			c := w.arrive()
			w.clk.run(w.start.Add(10 * time.Minute))
			if !c.Done() || stripped != tc.strip {
				t.Fatalf("customer done %v, transcript stripped %v", c.Done(), stripped)
			}
			res := w.result()
			m := res.Messages
			t.Logf("messages %+v", m)
			if m.Sent != 7 || m.Delivered != tc.delivered || m.Lost != tc.lost || m.Duplicated != 0 || m.Reordered != 0 || m.Unacked != 0 {
				t.Errorf("messages %+v, want 7 sent, %d delivered, %d lost", m, tc.delivered, tc.lost)
			}
		})
	}
}

// TestCutOffInFlight: a run cut off while the agent's greeting is on its
// way to the customer, sent within the last ten seconds (the default
// window: ten intervals of a second), counts it cut off, neither lost nor
// unacked, so that lost == 0 and unacked == 0 hold; a run that lets it
// arrive counts none. One sent longer before and still not arrived is
// lost. The network takes 2s each way, and the customer's link 4s (or
// 30s) more: the greeting is stored 2s after it left, acked at 4s, and
// arrives at 8s (or 34s).
func TestCutOffInFlight(t *testing.T) {
	const doc = `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - ask_person
    - chat: {messages: 1, think: const(30s)}
    - close
agents:
  greet: const(1s)
  typing: const(1s)
  groups: [{group: general, count: 1}]
`
	// play runs to stop and returns when the greeting arrived (0 if it
	// did not) and the run's messages.
	play := func(slow, stop time.Duration) (time.Duration, reports.Messages) {
		w := newWorld(t, parseScenario(t, doc), 2*time.Second)
		var greeted time.Time
		w.net.drop = func(m wire.Msg) bool {
			if d, ok := m.(*wire.Delivery); ok && d.SenderRole == wire.RoleAgent && greeted.IsZero() {
				greeted = w.clk.now
			}
			return false
		}
		w.net.slow = func(a Actor) time.Duration {
			if _, ok := a.(*Customer); ok {
				return slow
			}
			return 0
		}
		w.arrive()
		w.clk.run(w.start.Add(stop))
		if greeted.IsZero() {
			return 0, w.result().Messages
		}
		return greeted.Sub(w.start), w.result().Messages
	}
	for _, tc := range []struct {
		name         string
		slow, before time.Duration // the customer's extra latency; the cut before the greeting arrives
		want         reports.Messages
	}{
		{"acked, in flight", 4 * time.Second, 2 * time.Second, reports.Messages{Sent: 1, CutOff: 1}},
		{"not yet acked", 4 * time.Second, 5 * time.Second, reports.Messages{Sent: 1, CutOff: 1}},
		{"sent 32s before", 30 * time.Second, 2 * time.Second, reports.Messages{Sent: 1, Lost: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The whole run, to learn when the greeting arrives.
			at, m := play(tc.slow, 10*time.Minute)
			if at == 0 {
				t.Fatal("no greeting arrived")
			}
			if m.Lost != 0 || m.Unacked != 0 || m.CutOff != 0 {
				t.Errorf("whole run: messages %+v, want none lost, unacked or cut off", m)
			}
			_, m = play(tc.slow, at-tc.before)
			t.Logf("greeting arrived at %v; cut off %v before: %+v", at, tc.before, m)
			if m != tc.want {
				t.Errorf("messages %+v, want %+v", m, tc.want)
			}
		})
	}
}
