package faultproxy_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swarmdesk/swarmdesk/bench/faultproxy"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// closing counts the servers shutting down in the background: a server
// takes about half a second to stop, which the tests need not wait for one
// by one. TestMain waits for them all before it looks for leaked
// goroutines.
var closing sync.WaitGroup

func TestMain(m *testing.M) {
	code := m.Run()
	closing.Wait()
	if code == 0 {
		if err := goleak.Find(rt.LeakOptions()...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// newServer starts a refserver that is closed in the background when the
// test ends (after the proxy, which the test closes first).
func newServer(t *testing.T, opts ...rt.Option) *rt.Server {
	t.Helper()
	srv := rt.NewServer(opts...)
	t.Cleanup(func() {
		closing.Add(1)
		go func() {
			defer closing.Done()
			srv.Close()
		}()
	})
	return srv
}

const tenant = "demo"

// must returns v, or panics with err: it keeps a story readable, and the
// panic fails the test with the line that failed.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setup starts a server and a proxy in front of it (cfg.Target is filled
// in); both close when the test ends, the proxy first.
func setup(t *testing.T, cfg faultproxy.Config) *faultproxy.Proxy {
	t.Helper()
	srv := newServer(t)
	cfg.Target = srv.Addr
	p, err := faultproxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func connect(t *testing.T, addr string, role wire.Role, user, device string) *rt.Client {
	t.Helper()
	c, _, err := rt.Connect(addr, role, tenant, user, device)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func online(t *testing.T, c *rt.Client, max uint64) {
	t.Helper()
	check(t, c.Send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: max, Groups: []string{"general"}}))
	barrier(t, c)
}

// barrier sends a ping and reads until its pong, returning what came before.
func barrier(t *testing.T, c *rt.Client) []wire.Msg {
	t.Helper()
	nonce := c.NextID()
	check(t, c.Send(&wire.Ping{Nonce: nonce}))
	pong, before, err := rt.Until[*wire.Pong](c)
	if err != nil {
		t.Fatal(err)
	}
	if pong.Nonce != nonce {
		t.Fatalf("pong nonce %d, want %d", pong.Nonce, nonce)
	}
	return before
}

// roundTrip times a ping answered by its pong (nothing else is expected).
func roundTrip(t *testing.T, c *rt.Client) time.Duration {
	t.Helper()
	start := time.Now()
	if extra := barrier(t, c); len(extra) != 0 {
		t.Fatalf("unexpected frames before the pong: %+v", extra)
	}
	return time.Since(start)
}

// openChat opens a conversation and reads the menu and the greeting.
func openChat(t *testing.T, c *rt.Client) uint64 {
	t.Helper()
	conv := must(c.Open(""))
	if menu := must(rt.Expect[*wire.Menu](c)); menu.Conv != conv {
		t.Fatalf("menu %+v for conversation %d", menu, conv)
	}
	if greet := must(rt.Expect[*wire.Delivery](c)); greet.SenderRole != wire.RoleBot || greet.Seq != 1 {
		t.Fatalf("greeting %+v, want the bot's delivery with seq 1", greet)
	}
	return conv
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPassThrough: with a zero Config, a customer and an agent chat through
// the proxy exactly as without it.
func TestPassThrough(t *testing.T) {
	t.Parallel()
	p := setup(t, faultproxy.Config{})

	agent := connect(t, p.Addr(), wire.RoleAgent, "a1", "console")
	online(t, agent, 2)
	cust := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	conv := openChat(t, cust)

	// A question the bot answers.
	qid := must(cust.Say(conv, "我的快递到哪里了"))
	if ack := must(rt.Expect[*wire.Ack](cust)); ack.ClientID != qid || ack.Seq != 2 {
		t.Fatalf("ack %+v, want client id %d seq 2", ack, qid)
	}
	if answer := must(rt.Expect[*wire.Delivery](cust)); answer.SenderRole != wire.RoleBot || answer.Seq != 3 {
		t.Fatalf("bot answer %+v", answer)
	}

	// A person, please.
	must(cust.Say(conv, "转人工"))
	must(rt.Expect[*wire.Ack](cust))
	as, _ := must2(rt.Until[*wire.Assignment](cust))
	if as.Agent != "a1" || as.Conv != conv {
		t.Fatalf("customer got %+v, want assignment to a1", as)
	}
	view := must(rt.Expect[*wire.Assignment](agent))
	if view.Conv != conv || view.Customer != "c1" || len(view.Transcript) == 0 {
		t.Fatalf("agent got %+v", view)
	}
	last := view.Transcript[len(view.Transcript)-1].Seq

	exchange := func(from, to *rt.Client, text string) {
		t.Helper()
		id := must(from.Say(conv, text))
		ack := must(rt.Expect[*wire.Ack](from))
		if ack.ClientID != id || ack.Seq != last+1 {
			t.Fatalf("ack %+v, want client id %d seq %d", ack, id, last+1)
		}
		last = ack.Seq
		d := must(rt.Expect[*wire.Delivery](to))
		if d.Seq != ack.Seq || string(d.Body) != text || d.ClientID != id {
			t.Fatalf("delivery %+v, want seq %d %q", d, ack.Seq, text)
		}
	}
	exchange(cust, agent, "你好，我想退货")
	exchange(agent, cust, "好的，请提供订单号")
	exchange(cust, agent, "订单号 12345")

	check(t, agent.Send(&wire.Close{ClientID: agent.NextID(), Conv: conv, Reason: "resolved"}))
	must(rt.Expect[*wire.Ack](agent))
	if cl := must(rt.Expect[*wire.Close](agent)); cl.Conv != conv {
		t.Fatalf("agent got close %+v", cl)
	}
	if cl := must(rt.Expect[*wire.Close](cust)); cl.Conv != conv || cl.Reason != "resolved" {
		t.Fatalf("customer got close %+v", cl)
	}

	st := p.Stats()
	want := faultproxy.Stats{Accepted: 2, Open: 2, Customers: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	cust.Close()
	agent.Close()
	waitFor(t, "connections to be counted closed", func() bool {
		st := p.Stats()
		return st.Open == 0 && st.Customers == 0
	})
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// TestFaultsPassThrough: the server's answers to bad input, and the close
// that follows, reach the client through the proxy; a connection whose
// first frame is not a hello is not counted as a customer.
func TestFaultsPassThrough(t *testing.T) {
	t.Parallel()
	p := setup(t, faultproxy.Config{StallEvery: time.Hour, StallFor: time.Minute, DropEvery: 1, SlowAbove: 1, SlowDelay: time.Millisecond})
	oversize := make([]byte, 4)
	binary.BigEndian.PutUint32(oversize, wire.DefaultMaxFrame+1)
	tests := []struct {
		name  string
		hello bool
		raw   []byte
		code  wire.Code
	}{
		{"message before hello", false, (&wire.Ping{Nonce: 1}).AppendFrame(nil), wire.CodeNotHello},
		{"oversize before hello", false, oversize, wire.CodeTooLarge},
		{"oversize after hello", true, oversize, wire.CodeTooLarge},
		{"garbage bytes", true, []byte{0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0x01}, wire.CodeUnknownType},
		{"unknown tenant", false, (&wire.Hello{Role: wire.RoleCustomer, Tenant: "nobody", User: "x"}).AppendFrame(nil), wire.CodeAuth},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := must(rt.Dial(p.Addr()))
			defer c.Close()
			if tt.hello {
				must(c.Hello(&wire.Hello{Role: wire.RoleAgent, Tenant: tenant, User: fmt.Sprintf("hostile-%d", i)}))
			}
			must(c.Conn().Write(tt.raw))
			expectFault(t, c, tt.code)
		})
	}
	waitFor(t, "connections to be counted closed", func() bool { return p.Stats().Open == 0 })
	if st := p.Stats(); st.Customers != 0 || st.Delayed != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v: no customer and no delivery went through", st)
	}
}

// expectFault reads until the connection closes and checks the last frame
// was an error with code.
func expectFault(t *testing.T, c *rt.Client, code wire.Code) {
	t.Helper()
	var last wire.Msg
	for {
		m, err := c.Next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection not closed after error (last frame %+v)", last)
			}
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("waiting for close: %v", err)
			}
			break
		}
		last = m
	}
	if e, ok := last.(*wire.Error); !ok || e.Code != code {
		t.Fatalf("last frame before close = %+v, want error %d", last, code)
	}
}

// deviceStory runs a chat where customer c1 is connected from devices d0
// and d1 and agent a1 writes n messages, all through a proxy with cfg. It
// returns the sequences of the conversation's deliveries each device
// received, in order, and the conversation's last sequence. Every delivery
// of the conversation goes to d1 (d0 sends the request for a person, which
// d1 receives as a delivery); d0 receives all but its own message (seq 2),
// which it gets as an ack.
func deviceStory(t *testing.T, cfg faultproxy.Config, n int) (p *faultproxy.Proxy, d0Seqs, d1Seqs []uint64, last uint64) {
	t.Helper()
	p = setup(t, cfg)
	agent := connect(t, p.Addr(), wire.RoleAgent, "a1", "console")
	online(t, agent, 2)
	d0 := connect(t, p.Addr(), wire.RoleCustomer, "c1", "d0")
	d1 := connect(t, p.Addr(), wire.RoleCustomer, "c1", "d1")

	conv := must(d0.Open(""))
	must(d0.Say(conv, "转人工"))
	if as := must(rt.Expect[*wire.Assignment](agent)); as.Conv != conv {
		t.Fatalf("agent got %+v", as)
	}
	for i := range n {
		id := must(agent.Say(conv, fmt.Sprintf("message %d", i)))
		ack := must(rt.Expect[*wire.Ack](agent))
		if ack.ClientID != id {
			t.Fatalf("ack %+v for client id %d", ack, id)
		}
		last = ack.Seq
	}

	seqs := func(ms []wire.Msg) []uint64 {
		var s []uint64
		for _, m := range ms {
			if d, ok := m.(*wire.Delivery); ok && d.Conv == conv {
				s = append(s, d.Seq)
			}
		}
		return s
	}
	// Everything the server sent before the pong has reached the proxy
	// before the pong; only a delivery held for a swap may come later.
	d0Seqs = seqs(barrier(t, d0))
	d1Seqs = seqs(barrier(t, d1))
	if cfg.SwapEvery > 0 {
		for !hasAll(d1Seqs, last) {
			d1Seqs = append(d1Seqs, seqs([]wire.Msg{must(d1.Next())})...)
		}
	}
	// The faults were on d1 only: d0 has every sequence but its own, in
	// order, once.
	want := []uint64{1}
	for s := uint64(3); s <= last; s++ {
		want = append(want, s)
	}
	if !slices.Equal(d0Seqs, want) {
		t.Fatalf("d0 received %v, want %v", d0Seqs, want)
	}
	return p, d0Seqs, d1Seqs, last
}

func hasAll(seqs []uint64, last uint64) bool {
	for s := uint64(1); s <= last; s++ {
		if !slices.Contains(seqs, s) {
			return false
		}
	}
	return true
}

func TestDrop(t *testing.T) {
	t.Parallel()
	p, _, d1, last := deviceStory(t, faultproxy.Config{Device: "d1", DropEvery: 3}, 10)
	// d1's deliveries are exactly the conversation's sequences 1..last, so
	// every third one is missing.
	var want []uint64
	var dropped int64
	for s := uint64(1); s <= last; s++ {
		if s%3 != 0 {
			want = append(want, s)
		} else {
			dropped++
		}
	}
	if !slices.Equal(d1, want) {
		t.Fatalf("d1 received %v, want %v", d1, want)
	}
	if st := p.Stats(); st.Dropped != dropped || st.Duplicated != 0 || st.Swapped != 0 {
		t.Fatalf("stats %+v, want %d dropped", st, dropped)
	}
}

func TestDuplicate(t *testing.T) {
	t.Parallel()
	p, _, d1, last := deviceStory(t, faultproxy.Config{Device: "d1", DuplicateEvery: 4}, 10)
	var want []uint64
	var dups int64
	for s := uint64(1); s <= last; s++ {
		want = append(want, s)
		if s%4 == 0 {
			want = append(want, s)
			dups++
		}
	}
	if !slices.Equal(d1, want) {
		t.Fatalf("d1 received %v, want %v", d1, want)
	}
	if st := p.Stats(); st.Duplicated != dups || st.Dropped != 0 || st.Swapped != 0 {
		t.Fatalf("stats %+v, want %d duplicated", st, dups)
	}
}

func TestSwap(t *testing.T) {
	t.Parallel()
	p, _, d1, last := deviceStory(t, faultproxy.Config{Device: "d1", SwapEvery: 3}, 10)
	// Each third delivery comes right after the one that follows it.
	var want []uint64
	var swaps int64
	for s := uint64(1); s <= last; s++ {
		switch {
		case s%3 == 0 && s < last:
			want = append(want, s+1, s)
			swaps++
			s++
		default:
			want = append(want, s)
		}
	}
	if !slices.Equal(d1, want) {
		t.Fatalf("d1 received %v, want %v", d1, want)
	}
	inversions := 0
	for i := 1; i < len(d1); i++ {
		if d1[i] < d1[i-1] {
			inversions++
		}
	}
	if st := p.Stats(); st.Swapped != swaps || int64(inversions) != swaps || st.Dropped != 0 || st.Duplicated != 0 {
		t.Fatalf("stats %+v, %d inversions, want %d swapped", st, inversions, swaps)
	}
}

// TestEveryDevice: with no Device, faults apply to every connection that
// said hello.
func TestEveryDevice(t *testing.T) {
	t.Parallel()
	p := setup(t, faultproxy.Config{DuplicateEvery: 1})
	c := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	conv := openChat(t, c)
	if again := must(rt.Expect[*wire.Delivery](c)); again.Conv != conv || again.Seq != 1 {
		t.Fatalf("got %+v, want the greeting again", again)
	}
	must(c.Say(conv, "我的快递到哪里了"))
	must(rt.Expect[*wire.Ack](c))
	var seqs []uint64
	for _, m := range barrier(t, c) {
		if d, ok := m.(*wire.Delivery); ok {
			seqs = append(seqs, d.Seq)
		}
	}
	if !slices.Equal(seqs, []uint64{3, 3}) {
		t.Fatalf("deliveries %v, want the bot's answer (3) twice", seqs)
	}
	if st := p.Stats(); st.Duplicated != 2 {
		t.Fatalf("stats %+v, want 2 duplicated", st)
	}
}

// TestSwapWait: a held delivery with nothing to swap with is written after
// SwapWait, and no swap is counted; frames of other types pass meanwhile.
func TestSwapWait(t *testing.T) {
	t.Parallel()
	const wait = 150 * time.Millisecond
	p := setup(t, faultproxy.Config{SwapEvery: 1, SwapWait: wait})
	c := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	start := time.Now()
	conv := must(c.Open(""))
	must(rt.Expect[*wire.Menu](c))
	// The greeting is held; a pong passes it.
	if extra := barrier(t, c); len(extra) != 0 {
		t.Fatalf("frames before the pong: %+v", extra)
	}
	greet := must(rt.Expect[*wire.Delivery](c))
	if greet.Conv != conv || greet.Seq != 1 {
		t.Fatalf("greeting %+v", greet)
	}
	if el := time.Since(start); el < wait {
		t.Fatalf("held greeting came after %v, want at least %v", el, wait)
	}
	if st := p.Stats(); st.Swapped != 0 {
		t.Fatalf("stats %+v: a swap counted without a second delivery", st)
	}
}

// TestStall: a frame the server sends during a stall reaches the client no
// earlier than the stall's end.
func TestStall(t *testing.T) {
	t.Parallel()
	const every, stall = 300 * time.Millisecond, 200 * time.Millisecond
	// Pings back to back pass refserver's per-connection rate limit
	// (error 109), which is not what is tested here.
	srv := newServer(t, rt.WithServerConfig(func(c *server.Config) { c.RateLimit = 0 }))
	before := time.Now()
	p := must(faultproxy.Start(faultproxy.Config{Target: srv.Addr, StallEvery: every, StallFor: stall}))
	defer p.Close()
	after := time.Now()

	c := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	// Sent inside the first stall: the stall begins StallEvery after Start
	// returned at the latest. The pong is held until the stall ends, which
	// is StallEvery+StallFor after Start was called at the earliest.
	time.Sleep(time.Until(after.Add(every + 20*time.Millisecond)))
	roundTrip(t, c)
	if got, least := time.Since(before), every+stall; got < least {
		t.Fatalf("pong of a ping sent during a stall arrived %v after Start, want at least %v", got, least)
	}

	// Round trips back to back for a while: one sent at the beginning of a
	// stall waits for most of it, while those between stalls are quick.
	var slowest, fastest time.Duration = 0, time.Hour
	n := 0
	for end := time.Now().Add(2 * every); n < 2 || time.Now().Before(end); n++ {
		rtt := roundTrip(t, c)
		slowest, fastest = max(slowest, rtt), min(fastest, rtt)
	}
	// The round trip in flight when a stall begins ends with the stall;
	// the next starts as soon as the test goroutine gets to it, which a
	// busy machine may delay by tens of milliseconds.
	if slowest < stall/2 {
		t.Fatalf("slowest round trip %v over two stalls, want at least %v", slowest, stall/2)
	}
	if fastest >= slowest {
		t.Fatalf("fastest round trip %v, slowest %v", fastest, slowest)
	}
	if st := p.Stats(); st.Stalls < 2 {
		t.Fatalf("stats %+v, want at least 2 stalls", st)
	}
}

// TestSlow: above SlowAbove customers, every frame is SlowDelay late; at or
// below, none is. Agents do not count.
func TestSlow(t *testing.T) {
	t.Parallel()
	const delay = 100 * time.Millisecond
	p := setup(t, faultproxy.Config{SlowAbove: 1, SlowDelay: delay})
	agent := connect(t, p.Addr(), wire.RoleAgent, "a1", "console")
	c1 := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	roundTrip(t, c1)
	roundTrip(t, agent)
	if st := p.Stats(); st.Delayed != 0 || st.Customers != 1 {
		t.Fatalf("one customer (and an agent): stats %+v, want nothing delayed", st)
	}

	c2 := connect(t, p.Addr(), wire.RoleCustomer, "c2", "phone")
	for _, c := range []*rt.Client{c1, c2, agent} {
		if rtt := roundTrip(t, c); rtt < delay {
			t.Fatalf("round trip over capacity took %v, want at least %v", rtt, delay)
		}
	}
	st := p.Stats()
	if st.Customers != 2 || st.Delayed < 4 { // c2's ready and three pongs
		t.Fatalf("two customers: stats %+v, want frames delayed", st)
	}

	// Back at capacity: no more delay.
	c2.Close()
	waitFor(t, "the customer to be counted gone", func() bool { return p.Stats().Customers == 1 })
	delayed := p.Stats().Delayed
	roundTrip(t, c1)
	roundTrip(t, agent)
	if st := p.Stats(); st.Delayed != delayed {
		t.Fatalf("one customer again: delayed went from %d to %d", delayed, st.Delayed)
	}
}

// TestDelay: with Delay, every server→client frame is late by it, for
// agents and customers alike and from the first customer on.
func TestDelay(t *testing.T) {
	t.Parallel()
	const delay = 50 * time.Millisecond
	p := setup(t, faultproxy.Config{Delay: delay})
	agent := connect(t, p.Addr(), wire.RoleAgent, "a1", "console")
	c1 := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	for _, c := range []*rt.Client{c1, agent} {
		if rtt := roundTrip(t, c); rtt < delay {
			t.Fatalf("round trip took %v, want at least %v", rtt, delay)
		}
	}
	if st := p.Stats(); st.Delayed < 4 { // two readies and two pongs
		t.Fatalf("stats %+v, want every frame delayed", st)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	for _, cfg := range []faultproxy.Config{
		{},
		{Target: "10.0.0.1:7400"},
		{Target: "192.168.1.1:7400"},
		{Target: "example.com:7400"},
		{Target: "localhost:7400"},
		{Target: "0.0.0.0:7400"},
		{Target: "[::]:7400"},
		{Target: "127.0.0.1"},
		{Target: "127.0.0.1:7400", Listen: ":0"},
		{Target: "127.0.0.1:7400", Listen: "0.0.0.0:0"},
		{Target: "127.0.0.1:7400", DropEvery: -1},
		{Target: "127.0.0.1:7400", StallEvery: time.Second, StallFor: time.Second},
		{Target: "127.0.0.1:7400", CutEvery: time.Second, CutFor: time.Second},
	} {
		if p, err := faultproxy.Start(cfg); err == nil {
			p.Close()
			t.Errorf("Start(%+v) accepted", cfg)
		} else if !strings.HasPrefix(err.Error(), "faultproxy: ") {
			t.Errorf("Start(%+v): error %q lacks context", cfg, err)
		}
	}
	for _, target := range []string{"127.0.0.1:7400", "127.1.2.3:7400", "[::1]:7400"} {
		p, err := faultproxy.Start(faultproxy.Config{Target: target})
		if err != nil {
			t.Errorf("Start with target %s: %v", target, err)
			continue
		}
		check(t, p.Close())
	}
}

// TestClose: Close ends every connection, is idempotent, and (with
// TestMain's check) leaves no goroutine behind.
func TestClose(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := must(faultproxy.Start(faultproxy.Config{Target: srv.Addr, SlowAbove: 1, SlowDelay: time.Hour, SwapEvery: 1}))
	c1 := connect(t, p.Addr(), wire.RoleCustomer, "c1", "phone")
	// Over capacity, everything from now on is held for an hour.
	c2, err := rt.Dial(p.Addr())
	check(t, err)
	defer c2.Close()
	check(t, c2.Send(&wire.Hello{Role: wire.RoleCustomer, Tenant: tenant, User: "c2"}))
	waitFor(t, "the second customer", func() bool { return p.Stats().Customers == 2 })
	check(t, c1.Send(&wire.Ping{Nonce: 1}))
	waitFor(t, "frames to be delayed", func() bool { return p.Stats().Delayed >= 2 })

	check(t, p.Close())
	check(t, p.Close())
	for _, c := range []*rt.Client{c1, c2} {
		if m, err := c.Next(); err == nil {
			t.Fatalf("read %+v after Close", m)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("connection still open after Close")
		}
	}
	if st := p.Stats(); st.Open != 0 || st.Customers != 0 || st.Accepted != 2 {
		t.Fatalf("stats after Close %+v", st)
	}
	if _, err := rt.Dial(p.Addr()); err == nil {
		t.Fatal("dialled the proxy after Close")
	}
}

// TestCut: every CutEvery the proxy closes every connection at once, then
// refuses dials for CutFor, then listens again on the same address; the
// server behind keeps its state, so a customer who reconnects resumes its
// conversation.
func TestCut(t *testing.T) {
	t.Parallel()
	p := setup(t, faultproxy.Config{CutEvery: time.Second, CutFor: 200 * time.Millisecond})
	c := connect(t, p.Addr(), wire.RoleCustomer, "cut", "phone")
	conv := openChat(t, c)
	var err error
	for err == nil {
		_, err = c.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil // still before the cut
		}
	}
	waitFor(t, "the cut connection to close", func() bool { return p.Stats().Open == 0 })
	if st := p.Stats(); st.Cuts != 1 || st.CutConns != 1 {
		t.Fatalf("after the first cut: %+v", p.Stats())
	}
	// Refused while cut, then back on the same address.
	refused := false
	var again *rt.Client
	var ready *wire.Ready
	waitFor(t, "the proxy to listen again", func() bool {
		c2, r, err := rt.Connect(p.Addr(), wire.RoleCustomer, tenant, "cut", "phone", wire.ResumePoint{Conv: conv, Seq: 0})
		if err != nil {
			refused = true
			return false
		}
		again, ready = c2, r
		return true
	})
	defer again.Close()
	if !refused {
		t.Log("the redial came after the proxy listened again (no refusal seen)")
	}
	if len(ready.Convs) != 1 || ready.Convs[0].Conv != conv {
		t.Fatalf("ready after the cut %+v, want conversation %d", ready, conv)
	}
	if d := must(rt.Expect[*wire.Delivery](again)); d.Conv != conv || d.Seq != 1 {
		t.Fatalf("resume replayed %+v, want the greeting", d)
	}
	waitFor(t, "a second cut", func() bool { return p.Stats().Cuts >= 2 })
}
