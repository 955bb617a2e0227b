package behavior

import (
	"fmt"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/internal/longtest"
	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
)

// crashScenario is customers on two devices who ask the bot, then chat
// with an agent, for the crash tests.
const crashScenario = `
duration: 10m
seed: 3
customers:
  rate: 0.5
  devices: 2
  script:
    - connect
    - open
    - expect_menu
    - choose: {items: ["1", "2", "4"]}
    - ask: {count: 2, think: const(5s)}
    - ask_person
    - chat: {messages: 4, think: const(10s)}
    - close
agents:
  greet: const(3s)
  typing: const(4s)
  wrap_up: const(2s)
  groups: [{group: general, count: 6, max_chats: 5}]
`

// TestCrashRecovery cuts every connection at once every half minute, as a
// server that crashes and restarts on its durable state, with dials
// refused for two seconds after each cut and every frame in flight lost.
// The clients dial again with backoff, resume their conversations and send
// again what was not acknowledged: every message ends acknowledged and
// delivered once to every device, in order, and every script ends. (It
// passed with 100 seeds and latencies from 5ms to 700ms, which take the
// retry through every path: an open stored before the cut, a message whose
// answer is replayed before its ack, an agent taking up a chat whose
// assignment was lost.)
func TestCrashRecovery(t *testing.T) {
	// 20ms each way: a cut finds frames in flight.
	crashRecovery(t, parseScenario(t, crashScenario), 20*time.Millisecond)
}

// TestCrashRecoverySearch is TestCrashRecovery over many seeds and
// latencies, the search its claim rests on.
func TestCrashRecoverySearch(t *testing.T) {
	longtest.Require(t, "a 20-minute simulated crash test for each of 25 seeds and 4 latencies")
	for _, latency := range []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 700 * time.Millisecond} {
		for seed := range uint64(25) {
			t.Run(fmt.Sprintf("latency=%v/seed=%d", latency, seed), func(t *testing.T) {
				sc := parseScenario(t, crashScenario)
				sc.Seed = seed
				crashRecovery(t, sc, latency)
			})
		}
	}
}

// crashRecovery plays sc with latency each way and a cut every half
// minute, and checks that every message and script survived.
func crashRecovery(t *testing.T, sc *scenario.Scenario, latency time.Duration) {
	t.Helper()
	w := newWorld(t, sc, latency)
	w.arrivals()
	for at := 30 * time.Second; at < 10*time.Minute; at += 30 * time.Second {
		w.clk.call(w.start.Add(at), func() { w.net.cut(2 * time.Second) })
	}
	w.clk.run(w.start.Add(20 * time.Minute))
	done := 0
	for _, c := range w.customers {
		if c.Done() {
			done++
		} else {
			t.Errorf("customer %s stuck at step %d waiting %d (flags %b)", c.id, c.pc, c.wait, c.flags)
		}
	}
	res := w.result()
	t.Logf("%d customers (%d done), %d cuts; messages %+v; reconnects %+v; sessions %+v; errors %v",
		len(w.customers), done, w.net.cuts, res.Messages, res.Reconnects, res.Sessions, res.Errors)
	m := res.Messages
	if m.Sent < 100 || m.Delivered < m.Sent {
		t.Errorf("too little traffic to judge: %+v", m)
	}
	if m.Lost != 0 || m.Duplicated != 0 || m.Reordered != 0 || m.Unacked != 0 {
		t.Errorf("messages %+v: want none lost, duplicated, reordered or unacked", m)
	}
	rc := res.Reconnects
	if rc == nil || rc.Dropped == 0 || rc.Resumed < rc.Dropped || rc.Failed == 0 {
		t.Errorf("reconnects %+v: want drops, each resumed, and dials refused while down", rc)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	if down, _ := w.rec.Links(); down != 0 {
		t.Errorf("%d links still down at the end", down)
	}
	if r := res.Latency["resume"]; r.Count == 0 {
		t.Error("no resume latency recorded")
	}
}

// TestCrashForgetting is the negative control: a server restarted without
// its state (durability none) after a cut forgets the conversations, and
// the accounting says so.
func TestCrashForgetting(t *testing.T) {
	sc := parseScenario(t, crashScenario)
	w := newWorld(t, sc, 20*time.Millisecond)
	w.arrivals()
	w.clk.call(w.start.Add(3*time.Minute), func() {
		w.net.cut(2 * time.Second)
		rt, err := tenant.Build(tenant.Demo())
		if err != nil {
			t.Fatal(err)
		}
		d, err := desk.New(rt, store.NewMem(0))
		if err != nil {
			t.Fatal(err)
		}
		w.net.d = d
	})
	w.clk.run(w.start.Add(20 * time.Minute))
	res := w.result()
	m := res.Messages
	t.Logf("messages %+v; reconnects %+v; errors %v", m, res.Reconnects, res.Errors)
	if m.Lost+m.Unacked == 0 {
		t.Errorf("a server that forgot everything lost nothing: %+v", m)
	}
}
