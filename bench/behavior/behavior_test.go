package behavior

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
	"github.com/swarmdesk/swarmdesk/reports"
)

func loadSmoke(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.LoadNamed("smoke")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func checkLedger(t *testing.T, res *reports.Result) {
	t.Helper()
	m := res.Messages
	t.Logf("messages: %+v", m)
	if m.Sent == 0 || m.Delivered == 0 {
		t.Errorf("no messages sent or delivered: %+v", m)
	}
	if m.Lost != 0 || m.Duplicated != 0 || m.Reordered != 0 || m.Unacked != 0 {
		t.Errorf("ledger: lost %d, duplicated %d, reordered %d, unacked %d; want 0", m.Lost, m.Duplicated, m.Reordered, m.Unacked)
	}
}

func logLatency(t *testing.T, res *reports.Result) {
	t.Helper()
	for name, l := range res.Latency {
		if l.Count > 0 {
			t.Logf("%-12s n=%-5d p50=%8.1fms p99=%9.1fms raw.p99=%9.1fms", name, l.Count, l.P50Ms, l.P99Ms, l.Raw.P99Ms)
		}
	}
}

// TestSmokeScenario plays the smoke scenario's arrivals, script and agents
// against the real desk core in virtual time.
func TestSmokeScenario(t *testing.T) {
	sc := loadSmoke(t)
	w := newWorld(t, sc, time.Millisecond)
	w.arrivals()
	end := w.start.Add(time.Duration(sc.Duration))
	w.clk.run(end.Add(30 * time.Minute)) // let every session end
	done := 0
	for _, c := range w.customers {
		if c.Done() {
			done++
		}
	}
	res := w.result()
	logLatency(t, res)
	t.Logf("customers %d (done %d), events %d, sessions %+v, errors %v", len(w.customers), done, w.clk.n, res.Sessions, res.Errors)
	if len(w.customers) < 10 {
		t.Fatalf("only %d customers arrived", len(w.customers))
	}
	if done != len(w.customers) {
		t.Errorf("%d of %d customers finished their script", done, len(w.customers))
	}
	s := res.Sessions
	if s.Started != int64(len(w.customers)) {
		t.Errorf("sessions started %d, want %d", s.Started, len(w.customers))
	}
	if s.BotResolved+s.Abandoned+s.Completed != s.Started {
		t.Errorf("outcomes %+v do not add up to the sessions started", s)
	}
	if s.ToHuman == 0 || s.Completed == 0 || s.BotResolved == 0 {
		t.Errorf("want bot-resolved, to-human and completed sessions: %+v", s)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
	checkLedger(t, res)
	for _, m := range []string{"connect", "hello", "menu", "bot", "ack", "delivery", "queue_wait", "first_reply", "resume", "agent_reply", "session"} {
		if res.Latency[m].Count == 0 {
			t.Errorf("no %s latency recorded", m)
		}
	}
	// One session length per session that ended.
	if n, ss := res.Latency["session"].Count, res.Sessions; n != ss.BotResolved+ss.Abandoned+ss.Completed {
		t.Errorf("%d session lengths for sessions %+v", n, ss)
	}
	if res.Agents.MaxConcurrent == 0 {
		t.Errorf("agents carried no chat: %+v", res.Agents)
	}
	t.Logf("unsafe.Sizeof(Customer{}) = %d bytes (+ %d per device link), Agent{} = %d", unsafe.Sizeof(Customer{}), unsafe.Sizeof(custLink{}), unsafe.Sizeof(Agent{}))
}

func parseScenario(t *testing.T, doc string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse([]byte(doc), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestKillResumes kills a customer's app while the agent writes to it: on
// reconnect the resume replays what it missed, none lost or twice.
func TestKillResumes(t *testing.T) {
	sc := parseScenario(t, `
duration: 10m
customers:
  rate: 1
  devices: 2
  script:
    - connect
    - open
    - expect_menu
    - ask_person
    - kill: {reconnect_after: const(60s)}
    - chat: {messages: 2, think: const(5s)}
    - close
agents:
  greet: const(5s)
  typing: const(10s)
  groups: [{group: general, count: 1, max_chats: 2}]
`)
	w := newWorld(t, sc, time.Millisecond)
	c := w.arrive()
	w.clk.run(w.start.Add(10 * time.Minute))
	if !c.Done() {
		t.Fatalf("customer stuck at step %d waiting %d", c.pc, c.wait)
	}
	res := w.result()
	logLatency(t, res)
	checkLedger(t, res)
	r := res.Latency["resume"]
	if r.Count != 2 {
		t.Errorf("resume recorded %d times, want 2 (one per device)", r.Count)
	}
	// The greeting came while the app was dead: it arrives by the replay,
	// at each of the two devices.
	if res.Messages.Delivered < 2+2*2 {
		t.Errorf("delivered %d, want the greeting and both replies at both devices and the customer's messages at the agent", res.Messages.Delivered)
	}
	if res.Latency["first_reply"].Count != 1 || res.Sessions.Completed != 1 {
		t.Errorf("first_reply %d, sessions %+v", res.Latency["first_reply"].Count, res.Sessions)
	}
}

// TestAbandonAfter: with no agent online, a customer asking for a person
// waits in the queue until its patience runs out, then closes and leaves.
func TestAbandonAfter(t *testing.T) {
	sc := parseScenario(t, `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - abandon_after: const(30s)
    - ask_person
    - chat
    - close
agents:
  online: const(1h)
  groups: [{group: general, count: 1}]
`)
	w := newWorld(t, sc, time.Millisecond)
	c := w.arrive()
	w.clk.run(w.start.Add(40 * time.Second))
	if !c.Done() {
		t.Fatalf("customer still waiting at step %d (wait %d) after its patience", c.pc, c.wait)
	}
	conv, ok := w.net.d.Conversation(c.conv)
	if !ok || conv.State.String() != "abandoned" {
		t.Errorf("conversation %+v (found %v), want abandoned", conv, ok)
	}
	res := w.result()
	if s := res.Sessions; s.Started != 1 || s.ToHuman != 1 || s.Abandoned != 1 || s.Completed != 0 {
		t.Errorf("sessions %+v, want one abandoned", s)
	}
	if n := res.Latency["queue_wait"].Count; n != 0 {
		t.Errorf("queue_wait recorded %d times for a customer never served", n)
	}
}

// TestAgentClosesWhileThinking: an agent that closes after its second
// reply ends the chat while the customer is still thinking of its next
// message; the customer skips what needs the conversation and finishes
// its script, instead of sending into the closed conversation and waiting
// for a reply forever.
func TestAgentClosesWhileThinking(t *testing.T) {
	sc := parseScenario(t, `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - ask_person
    - chat: {messages: 4, think: const(20s)}
    - close
agents:
  greet: const(1s)
  typing: const(1s)
  close_after: 2
  groups: [{group: general, count: 1}]
`)
	w := newWorld(t, sc, time.Millisecond)
	c := w.arrive()
	w.clk.run(w.start.Add(5 * time.Minute))
	if !c.Done() {
		conv, _ := w.net.d.Conversation(c.conv)
		t.Fatalf("customer still waiting at step %d (wait %d, flags %b) after the agent closed; conversation %+v; %+v", c.pc, c.wait, c.flags, conv, w.result().Sessions)
	}
	res := w.result()
	if s := res.Sessions; s.Started != 1 || s.Completed != 1 {
		t.Errorf("sessions %+v, want one completed", s)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v: the customer sent into a closed conversation", res.Errors)
	}
}

// TestLateTimerCorrected: a scheduler firing every timer 200ms late (a
// generator that falls behind) shows in the corrected histograms and not in
// the raw ones.
func TestLateTimerCorrected(t *testing.T) {
	sc := parseScenario(t, `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - ask: {count: 5, think: const(2s)}
    - close
`)
	w := newWorld(t, sc, time.Millisecond)
	w.clk.late = 200 * time.Millisecond
	c := w.arrive()
	w.clk.run(w.start.Add(time.Minute))
	if !c.Done() {
		t.Fatalf("customer stuck at step %d", c.pc)
	}
	res := w.result()
	logLatency(t, res)
	for _, m := range []string{"bot", "ack"} {
		l := res.Latency[m]
		if l.Count != 5 {
			t.Errorf("%s: %d recorded, want 5", m, l.Count)
		}
		if l.P50Ms < 200 || l.MinMs < 200 {
			t.Errorf("%s corrected min %.1fms p50 %.1fms, want at least the 200ms the timer was late", m, l.MinMs, l.P50Ms)
		}
		if l.Raw.MaxMs > 10 {
			t.Errorf("%s raw max %.1fms, want the network's few ms", m, l.Raw.MaxMs)
		}
	}
	if res.Sessions.BotResolved != 1 {
		t.Errorf("sessions %+v, want one bot-resolved", res.Sessions)
	}
}

// TestLedgerSeesLoss is the negative control: a server that drops one of
// the agent's messages to the customer makes the ledger count it lost.
func TestLedgerSeesLoss(t *testing.T) {
	sc := parseScenario(t, `
duration: 10m
customers:
  rate: 1
  script:
    - connect
    - open
    - ask_person
    - chat: {messages: 2, think: const(20s)}
    - close
agents:
  greet: const(5s)
  typing: const(5s)
  groups: [{group: general, count: 1}]
`)
	w := newWorld(t, sc, time.Millisecond)
	dropped := false
	w.net.drop = func(m wire.Msg) bool {
		d, ok := m.(*wire.Delivery)
		if ok && !dropped && d.SenderRole == wire.RoleAgent {
			dropped = true
			return true
		}
		return false
	}
	c := w.arrive()
	w.clk.run(w.start.Add(5 * time.Minute))
	if !dropped || !c.Done() {
		t.Fatalf("dropped %v, customer done %v", dropped, c.Done())
	}
	res := w.result()
	if m := res.Messages; m.Lost != 1 || m.Duplicated != 0 || m.Reordered != 0 {
		t.Errorf("messages %+v, want exactly one lost", m)
	}
}

// TestPopulation keeps a closed population: the lanes together hold the
// schedule's level, a customer who leaves is replaced, and with stay the
// customers started are exactly the population.
func TestPopulation(t *testing.T) {
	for _, stay := range []bool{false, true} {
		t.Run(fmt.Sprintf("stay=%v", stay), func(t *testing.T) {
			sc := parseScenario(t, fmt.Sprintf(`
customers:
  arrival: population
  population: 10
  stay: %v
  script:
    - connect
    - open
    - expect_menu
    - think: const(30s)
    - close
phases:
  - {kind: ramp, duration: 1m, target: 100%%}
  - {kind: steady, duration: 4m}
`, stay))
			w := newWorld(t, sc, time.Millisecond)
			lanes := make([]Lane, 3)
			arr := make([]*Arrivals, len(lanes))
			for i := range lanes {
				arr[i] = &Arrivals{Env: w.env}
				lanes[i] = Lane{Arrivals: arr[i], Do: func(fn func()) { fn() }}
			}
			if _, est := Populate(sc, w.start, lanes); est < 10 {
				t.Errorf("estimated %d customers, want at least the population", est)
			}
			live := func() (started, running int) {
				for _, a := range arr {
					s, f := a.Counts()
					started += s
					running += s - f
				}
				return started, running
			}
			w.clk.run(w.start.Add(30 * time.Second))
			if s, _ := live(); s < 4 || s > 6 {
				t.Errorf("half-way up the ramp: %d started, want about 5", s)
			}
			for _, at := range []time.Duration{90 * time.Second, 2 * time.Minute, 3*time.Minute + 10*time.Second, 4 * time.Minute} {
				w.clk.run(w.start.Add(at))
				started, running := live()
				if stay {
					if started != 10 {
						t.Errorf("at %v: %d started, want exactly 10 with stay", at, started)
					}
					continue
				}
				// A leaver is replaced within a tick; the script's think
				// makes every customer leave within about 31s.
				if running < 9 || running > 10 {
					t.Errorf("at %v: %d in their script, want the population of 10 (±1 for a replacement due)", at, running)
				}
			}
			w.clk.run(w.start.Add(10 * time.Minute))
			started, running := live()
			if running != 0 {
				t.Errorf("%d customers still in their script after the end", running)
			}
			if !stay && started < 40 {
				t.Errorf("%d started over 5 minutes of 31s sessions, want replacements (about 50)", started)
			}
			for i, a := range arr {
				if !a.Settled() {
					t.Errorf("lane %d not settled after the end", i)
				}
			}
			res := w.result()
			if res.Sessions.Started != int64(started) {
				t.Errorf("sessions started %d, customers started %d", res.Sessions.Started, started)
			}
		})
	}
}

// TestBroadcastBody round-trips the send times through a broadcast body
// and refuses bodies bench did not make.
func TestBroadcastBody(t *testing.T) {
	intended := time.Date(2026, 11, 21, 9, 0, 0, 123456789, time.UTC)
	sent := intended.Add(3 * time.Millisecond)
	for _, size := range []int{0, 10, 200, 1500} {
		b := BroadcastBody(intended, sent, size)
		if len(b) < size {
			t.Errorf("size %d: body of %d bytes", size, len(b))
		}
		i, s, ok := parseBroadcast(b)
		if !ok || !i.Equal(intended) || !s.Equal(sent) {
			t.Errorf("size %d: parsed %v %v %v", size, i, s, ok)
		}
	}
	for _, body := range []string{"", "双十一大促开始了", "swarmdesk-broadcast ", "swarmdesk-broadcast 12 x", "swarmdesk-broadcast 12"} {
		if _, _, ok := parseBroadcast([]byte(body)); ok {
			t.Errorf("%q parsed as a bench broadcast", body)
		}
	}
}

// TestAgentIDsUnique: two pools of one skill group get distinct agent
// ids, so that the server sees two agents, not one with two consoles.
func TestAgentIDsUnique(t *testing.T) {
	sc := parseScenario(t, `
duration: 1m
customers: {rate: 0.01, script: [connect]}
agents:
  groups:
    - {group: general, count: 2, max_chats: 4}
    - {group: general, count: 3, max_chats: 2}
`)
	w := newWorld(t, sc, time.Millisecond) // starts agents of its own
	w.env.Prefix = "p-"
	arr := &Arrivals{Env: w.env}
	agents, _ := Populate(sc, w.start, []Lane{{Arrivals: arr, Do: func(fn func()) { fn() }}})
	w.clk.run(w.start.Add(10 * time.Second))
	var ids []string
	for u := range w.net.users {
		if strings.HasPrefix(u, "p-agent-") {
			ids = append(ids, u)
		}
	}
	if agents != 5 {
		t.Fatalf("Populate started %d agents, want 5", agents)
	}
	for _, id := range ids {
		if n := len(w.net.users[id]); n != 1 {
			t.Errorf("agent %s has %d links", id, n)
		}
	}
	if len(ids) != 5 {
		t.Errorf("%d distinct agent ids signed in (%v), want 5", len(ids), ids)
	}
}
