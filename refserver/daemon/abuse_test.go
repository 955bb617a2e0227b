package daemon_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// The tests of this file attack a server one way each and check two
// things: the attacker gets its error code and a close, and a well-behaved
// customer on the same server (the bystander) goes on chatting, its
// messages acknowledged, while the attack runs and after it.

// bystander is a well-behaved customer with an open chat.
type bystander struct {
	t    *testing.T
	c    *rt.Client
	conv uint64
	n    int
}

func newBystander(t *testing.T, srv *rt.Server) *bystander {
	t.Helper()
	c := connect(t, srv.Addr, wire.RoleCustomer, "demo", "bystander", "phone")
	return &bystander{t: t, c: c, conv: openChat(t, c)}
}

// chat sends one message and checks it is acknowledged, then reads what the
// bot answered.
func (b *bystander) chat() {
	b.t.Helper()
	b.n++
	id, err := b.c.Say(b.conv, fmt.Sprintf("我的快递到哪里了 %d", b.n))
	if err != nil {
		b.t.Fatalf("bystander: %v", err)
	}
	ack, _, err := rt.Until[*wire.Ack](b.c)
	if err != nil {
		b.t.Fatalf("bystander's message %d not acknowledged: %v", b.n, err)
	}
	if ack.ClientID != id || ack.Conv != b.conv || ack.Seq == 0 {
		b.t.Fatalf("bystander's message %d acknowledged as %+v", b.n, ack)
	}
	barrier(b.t, b.c)
}

// ending is how a connection ended: the last frame it received, and the
// read error that ended it.
type ending struct {
	last wire.Msg
	err  error
	at   time.Time
}

// watchClose reads c until the connection ends, in the background.
func watchClose(c *rt.Client) <-chan ending {
	ch := make(chan ending, 1)
	go func() {
		var last wire.Msg
		for {
			m, err := c.Next()
			if err != nil {
				ch <- ending{last: last, err: err, at: time.Now()}
				return
			}
			last = m
		}
	}()
	return ch
}

// chatUntil keeps the bystander chatting until the watched connection ends,
// and returns how it ended.
func (b *bystander) chatUntil(ch <-chan ending) ending {
	b.t.Helper()
	for {
		b.chat()
		select {
		case e := <-ch:
			return e
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wantClosedWith checks the connection was closed by the server (not a
// read timeout) right after an error frame with code; it returns the
// error's text.
func wantClosedWith(t *testing.T, e ending, code wire.Code) string {
	t.Helper()
	if errors.Is(e.err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open (last frame %+v)", e.last)
	}
	if !errors.Is(e.err, io.EOF) && !strings.Contains(e.err.Error(), "reset") {
		t.Fatalf("connection ended with %v, want a close", e.err)
	}
	er, ok := e.last.(*wire.Error)
	if !ok || er.Code != code {
		t.Fatalf("last frame before close = %+v, want error %d", e.last, code)
	}
	return er.Text
}

// unregisterWait bounds the wait for the server to act on a close it has
// made or seen: it returns as soon as it has, and only a server that never
// does takes it.
const unregisterWait = 10 * time.Second

// waitUnregistered waits until user of tenant has no device connected.
func waitUnregistered(t *testing.T, srv *rt.Server, tenantID, user string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for srv.Core().Hub().Devices(tenantID, user) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s still registered %s after its connection should have closed", tenantID, user, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantMetric(t *testing.T, srv *rt.Server, series string, want float64) {
	t.Helper()
	v, ok, err := srv.Metric(series)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || v != want {
		t.Fatalf("metric %s = %v (present %v), want %v", series, v, ok, want)
	}
}

// TestSlowLoris: a frame begun and trickled a byte at a time is cut off
// with error 111 once FrameTimeout has passed since its first byte, before
// it is whole, although every byte resets the idle timer; a frame arriving
// in pieces within the timeout is fine, however long the connection lives.
func TestSlowLoris(t *testing.T) {
	// Mostly waiting for timeouts, so beside the other tests that do.
	t.Parallel()
	const frameTimeout = 300 * time.Millisecond
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.FrameTimeout = frameTimeout }))
	defer srv.Close()
	by := newBystander(t, srv)

	for _, hello := range []bool{false, true} {
		t.Run(fmt.Sprintf("hello=%v", hello), func(t *testing.T) {
			c := must(rt.Dial(srv.Addr))
			defer c.Close()
			if hello {
				must(c.Hello(&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "loris", Device: "phone"}))
			}
			// A frame of 5+1000 bytes, a byte every 50ms: 50s to arrive
			// whole, and cut off well before.
			frame := (&wire.Message{ClientID: 1, Conv: by.conv, Kind: wire.KindText, Body: []byte(strings.Repeat("x", 1000))}).AppendFrame(nil)
			stop := make(chan struct{})
			defer close(stop)
			var written atomic.Int64
			start := time.Now() // before the first byte: the timeout runs from later
			go func() {
				for _, b := range frame {
					if _, err := c.Conn().Write([]byte{b}); err != nil {
						return
					}
					written.Add(1)
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}()
			e := by.chatUntil(watchClose(c))
			wantClosedWith(t, e, wire.CodeFrameTimeout)
			if took := e.at.Sub(start); took < frameTimeout {
				t.Fatalf("closed %s after the first byte, before the frame timeout %s", took, frameTimeout)
			}
			if n := written.Load(); n >= int64(len(frame)) {
				t.Fatalf("closed after the whole frame of %d bytes was written, want it cut off", n)
			}
		})
	}
	by.chat()
	wantMetric(t, srv, `swarmdesk_disconnects_total{code="111",reason="frame-timeout"}`, 2)

	// Frames in two pieces 20ms apart, with pauses between them: each
	// arrives well within the timeout (a stall of nearly a second of this
	// test would be needed to fail it), the connection lives past it.
	const patient = time.Second
	srv2 := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.FrameTimeout = patient }))
	defer srv2.Close()
	c := connect(t, srv2.Addr, wire.RoleCustomer, "demo", "patient", "phone")
	opened := time.Now()
	for i := 0; i < 2 || time.Since(opened) <= patient; i++ {
		frame := (&wire.Ping{Nonce: uint64(100 + i)}).AppendFrame(nil)
		must(c.Conn().Write(frame[:3]))
		time.Sleep(20 * time.Millisecond)
		must(c.Conn().Write(frame[3:]))
		if p := must(rt.Expect[*wire.Pong](c)); p.Nonce != uint64(100+i) {
			t.Fatalf("pong %+v", p)
		}
		time.Sleep(patient / 3)
	}
	wantMetric(t, srv2, `swarmdesk_disconnects_total{code="111",reason="frame-timeout"}`, 0)
}

// TestSilentPeer: a peer that vanishes without closing (no FIN: the
// server sees only silence) is closed by the idle timeout with error 105
// and unregistered; the bystander, who keeps talking, stays.
func TestSilentPeer(t *testing.T) {
	// Mostly waiting for timeouts, so beside the other tests that do.
	t.Parallel()
	const heartbeat = 250 * time.Millisecond // idle after 750ms
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.Heartbeat = heartbeat }))
	defer srv.Close()
	by := newBystander(t, srv)
	silent := connect(t, srv.Addr, wire.RoleCustomer, "demo", "silent", "phone")
	start := time.Now() // before its last frame: the server's silence starts later
	openChat(t, silent)
	if srv.Core().Hub().Devices("demo", "silent") != 1 {
		t.Fatal("the silent customer is not registered")
	}
	e := by.chatUntil(watchClose(silent))
	wantClosedWith(t, e, wire.CodeIdle)
	if took := e.at.Sub(start); took < 3*heartbeat {
		t.Fatalf("closed after %s, before three heartbeats", took)
	}
	waitUnregistered(t, srv, "demo", "silent", unregisterWait)
	by.chat()
	wantMetric(t, srv, `swarmdesk_connections{role="customer"}`, 1)
}

// TestHalfClose: a peer that shuts down its sending side gets what it
// asked before, then the server closes at once and unregisters it, without
// waiting for any timeout.
func TestHalfClose(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	by := newBystander(t, srv)
	c := connect(t, srv.Addr, wire.RoleCustomer, "demo", "halfway", "phone")
	openChat(t, c)
	check(t, c.Send(&wire.Ping{Nonce: 77}))
	check(t, c.CloseWrite())
	if p := must(rt.Expect[*wire.Pong](c)); p.Nonce != 77 {
		t.Fatalf("pong %+v", p)
	}
	// A close by a timeout would send an error frame first (idle, 105),
	// or not come before the client's read deadline: neither is this.
	e := by.chatUntil(watchClose(c))
	if !errors.Is(e.err, io.EOF) {
		t.Fatalf("after a half-close the connection ended with %v (last frame %+v), want the server's close", e.err, e.last)
	}
	if e.last != nil {
		t.Fatalf("after a half-close the server sent %+v", e.last)
	}
	waitUnregistered(t, srv, "demo", "halfway", unregisterWait)
	by.chat()
}

// TestFlood: a connection sending frames faster than its rate limit lets
// is closed with error 109; one within its burst is served.
func TestFlood(t *testing.T) {
	const rate, burst = 50, 20
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.RateLimit, c.RateBurst = rate, burst }))
	defer srv.Close()
	by := newBystander(t, srv)

	// Within the burst: hello and 15 pings at once, all answered.
	ok := connect(t, srv.Addr, wire.RoleCustomer, "demo", "brisk", "phone")
	var pings []byte
	for i := range 15 {
		pings = (&wire.Ping{Nonce: uint64(i)}).AppendFrame(pings)
	}
	must(ok.Conn().Write(pings))
	for i := range 15 {
		if p := must(rt.Expect[*wire.Pong](ok)); p.Nonce != uint64(i) {
			t.Fatalf("pong %+v, want nonce %d", p, i)
		}
	}

	// A flood: 2000 frames at once.
	flood := connect(t, srv.Addr, wire.RoleCustomer, "demo", "flood", "phone")
	var frames []byte
	for i := range 2000 {
		frames = (&wire.Ping{Nonce: uint64(i)}).AppendFrame(frames)
	}
	ch := watchClose(flood)
	go func() { _, _ = flood.Conn().Write(frames) }()
	text := wantClosedWith(t, by.chatUntil(ch), wire.CodeRateLimited)
	if !strings.Contains(text, "rate limit") {
		t.Fatalf("rate-limit error text %q does not say so", text)
	}
	waitUnregistered(t, srv, "demo", "flood", unregisterWait)
	by.chat()
	check(t, ok.Send(&wire.Ping{Nonce: 99}))
	must(rt.Expect[*wire.Pong](ok))
	wantMetric(t, srv, `swarmdesk_disconnects_total{code="109",reason="rate-limited"}`, 1)
}

// TestBadText: invalid UTF-8 in any string of a client message, or in the
// body of a text kind, gets error 112 naming the field, and a close; binary
// kinds carry any bytes.
func TestBadText(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	by := newBystander(t, srv)
	bad := "ok\xff\xfe"
	msg := func(k wire.Kind) []byte {
		return (&wire.Message{ClientID: 1, Conv: by.conv, Kind: k, Body: []byte(bad)}).AppendFrame(nil)
	}
	tests := []struct {
		name  string
		role  wire.Role // hello first as this role; 0: no hello
		raw   []byte
		field string
	}{
		{"hello tenant", 0, (&wire.Hello{Role: wire.RoleCustomer, Tenant: bad, User: "u"}).AppendFrame(nil), "tenant"},
		{"hello user", 0, (&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: bad}).AppendFrame(nil), "user"},
		{"hello device", 0, (&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "u", Device: bad}).AppendFrame(nil), "device"},
		{"hello token", 0, (&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "u", Token: bad}).AppendFrame(nil), "token"},
		{"open channel", wire.RoleCustomer, (&wire.Open{ClientID: 1, Channel: bad}).AppendFrame(nil), "channel"},
		{"open group", wire.RoleCustomer, (&wire.Open{ClientID: 1, Channel: "app", Group: bad}).AppendFrame(nil), "group"},
		{"text body", wire.RoleCustomer, msg(wire.KindText), "body"},
		{"menu choice body", wire.RoleCustomer, msg(wire.KindMenuChoice), "body"},
		{"location body", wire.RoleCustomer, msg(wire.KindLocation), "body"},
		{"transfer to agent", wire.RoleAgent, (&wire.Transfer{ClientID: 1, Conv: by.conv, ToAgent: bad}).AppendFrame(nil), "to agent"},
		{"transfer to group", wire.RoleAgent, (&wire.Transfer{ClientID: 1, Conv: by.conv, ToGroup: bad}).AppendFrame(nil), "to group"},
		{"close reason", wire.RoleCustomer, (&wire.Close{ClientID: 1, Conv: by.conv, Reason: bad}).AppendFrame(nil), "reason"},
		{"watch group", wire.RoleSupervisor, (&wire.Watch{Groups: []string{"general", bad}}).AppendFrame(nil), "groups"},
		{"agent-status group", wire.RoleAgent, (&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 1, Groups: []string{bad}}).AppendFrame(nil), "groups"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := must(rt.Dial(srv.Addr))
			defer c.Close()
			if tt.role != 0 {
				must(c.Hello(&wire.Hello{Role: tt.role, Tenant: "demo", User: fmt.Sprintf("text-%d", i)}))
			}
			must(c.Conn().Write(tt.raw))
			text := wantClosedWith(t, by.chatUntil(watchClose(c)), wire.CodeBadText)
			if !strings.Contains(text, tt.field) || !strings.Contains(text, "UTF-8") {
				t.Fatalf("error text %q does not name the field %q", text, tt.field)
			}
		})
	}

	// Binary kinds are not text: any bytes are stored and delivered.
	for _, k := range []wire.Kind{wire.KindImage, wire.KindOrderCard} {
		body := []byte{0xff, 0xd8, 0xff, 0xe0, 0x00}
		check(t, by.c.Send(&wire.Message{ClientID: by.c.NextID(), Conv: by.conv, Kind: k, Body: body}))
		if _, _, err := rt.Until[*wire.Ack](by.c); err != nil {
			t.Fatalf("a %s with non-UTF-8 bytes was not acknowledged: %v", k, err)
		}
		barrier(t, by.c)
	}
	by.chat()
	wantMetric(t, srv, `swarmdesk_disconnects_total{code="112",reason="bad-text"}`, float64(len(tests)))
}

// TestTokens: a tenant with a secret admits a hello only with a genuine,
// unexpired token for that user and role; any other gets error 103 "bad
// token". The demo tenant, which has no secret, stays open (the bystander
// connects without a token).
func TestTokens(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	loadTenant(t, srv, "testdata/vault.yaml")
	by := newBystander(t, srv)
	const secret = "vault-test-secret-0123456789"
	later := time.Now().Add(time.Hour)

	// A genuine token: served.
	good := tenant.SignToken(secret, "vault", wire.RoleCustomer, "alice", later)
	alice, _, err := rt.ConnectHello(srv.Addr, &wire.Hello{Role: wire.RoleCustomer, Tenant: "vault", User: "alice", Device: "phone", Token: good})
	if err != nil {
		t.Fatalf("a genuine token was refused: %v", err)
	}
	defer alice.Close()
	conv := openChat(t, alice)

	tests := []struct {
		name, user string
		role       wire.Role
		token      string
		why        string
	}{
		{"missing", "bob", wire.RoleCustomer, "", "missing"},
		{"forged with another secret", "bob", wire.RoleCustomer, tenant.SignToken("not-the-vault-secret-000", "vault", wire.RoleCustomer, "bob", later), "signature"},
		{"another user's", "bob", wire.RoleCustomer, good, "signature"},
		{"a customer's token for an agent", "alice", wire.RoleAgent, good, "signature"},
		{"another tenant's", "bob", wire.RoleCustomer, tenant.SignToken(secret, "demo", wire.RoleCustomer, "bob", later), "signature"},
		{"expired", "bob", wire.RoleCustomer, tenant.SignToken(secret, "vault", wire.RoleCustomer, "bob", time.Now().Add(-time.Minute)), "expired"},
		{"garbage", "bob", wire.RoleCustomer, "let-me-in", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := must(rt.Dial(srv.Addr))
			defer c.Close()
			check(t, c.Send(&wire.Hello{Role: tt.role, Tenant: "vault", User: tt.user, Device: "phone", Token: tt.token}))
			text := wantClosedWith(t, by.chatUntil(watchClose(c)), wire.CodeAuth)
			if !strings.HasPrefix(text, "bad token") || !strings.Contains(text, tt.why) {
				t.Fatalf("error text %q, want bad token (%s)", text, tt.why)
			}
		})
	}
	// The holder of the genuine token chats on.
	must(alice.Say(conv, "opening hours"))
	if _, _, err := rt.Until[*wire.Ack](alice); err != nil {
		t.Fatalf("the genuine token's holder: %v", err)
	}
	by.chat()
}

// TestOverload: beyond MaxConns a new connection gets error 110 and is
// closed at once; the connections held are unaffected, and once one
// leaves a new one is accepted again.
func TestOverload(t *testing.T) {
	const maxConns = 6
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.MaxConns = maxConns }))
	defer srv.Close()
	by := newBystander(t, srv)
	var held []*rt.Client
	for i := range maxConns - 1 {
		held = append(held, connect(t, srv.Addr, wire.RoleCustomer, "demo", fmt.Sprintf("held-%d", i), "phone"))
	}
	wantMetric(t, srv, `swarmdesk_connections_held`, maxConns)
	wantMetric(t, srv, `swarmdesk_connections_max`, maxConns)

	// Refused: the error comes first, without the client saying anything.
	for range 3 {
		c := must(rt.Dial(srv.Addr))
		text := wantClosedWith(t, by.chatUntil(watchClose(c)), wire.CodeOverloaded)
		c.Close()
		if want := fmt.Sprintf("server at capacity: %d connections", maxConns); text != want {
			t.Fatalf("refusal text %q, want %q", text, want)
		}
	}
	wantMetric(t, srv, `swarmdesk_connections_refused_total{reason="overloaded"}`, 3)
	for _, c := range held {
		check(t, c.Send(&wire.Ping{Nonce: 5}))
		must(rt.Expect[*wire.Pong](c))
	}

	// One leaves: a newcomer is accepted (once the server has seen the
	// close) and served.
	held[0].Close()
	waitUnregistered(t, srv, "demo", "held-0", unregisterWait)
	deadline := time.Now().Add(unregisterWait)
	var c *rt.Client
	for c == nil {
		var err error
		c, _, err = rt.ConnectHello(srv.Addr, &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "newcomer", Device: "phone"})
		if err != nil && time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one left: %v", err)
		}
	}
	defer c.Close()
	openChat(t, c)
	by.chat()
}

// TestOverloadDefaultBound: with MaxConns 0 the bound comes from the
// open-file limit, below it, and is exported.
func TestOverloadDefaultBound(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	v, ok, err := srv.Metric(`swarmdesk_connections_max`)
	if err != nil || !ok {
		t.Fatalf("no swarmdesk_connections_max: %v", err)
	}
	limit := fdLimit(t)
	if want := limit - max(256, limit/20); v != float64(want) {
		t.Fatalf("derived connection bound %v for an open-file limit of %d, want %d", v, limit, want)
	}
}

// fdLimit returns this process's open-file limit.
func fdLimit(t *testing.T) int {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	return int(lim.Cur)
}

// TestBusy: beyond MaxOpenChats an open is refused with 208 busy, naming
// the bound, and the connection stays; the bystander's chat goes on; when
// a chat closes, an open succeeds again.
func TestBusy(t *testing.T) {
	const maxOpen = 3
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.MaxOpenChats = maxOpen }))
	defer srv.Close()
	by := newBystander(t, srv)
	var open []uint64
	a := connect(t, srv.Addr, wire.RoleCustomer, "demo", "busy-a", "phone")
	for range maxOpen - 1 {
		open = append(open, openChat(t, a))
	}
	late := connect(t, srv.Addr, wire.RoleCustomer, "demo", "busy-late", "phone")
	for range 2 {
		id := late.NextID()
		check(t, late.Send(&wire.Open{ClientID: id, Channel: "app"}))
		e := must(rt.Expect[*wire.Error](late))
		if e.Code != wire.CodeBusy || e.ClientID != id || !strings.Contains(e.Text, fmt.Sprint(maxOpen)) {
			t.Fatalf("open beyond %d chats: %+v, want 208 busy naming the bound", maxOpen, e)
		}
		barrier(t, late) // refused, not closed
		by.chat()
	}
	check(t, a.Send(&wire.Close{ClientID: a.NextID(), Conv: open[0]}))
	if _, _, err := rt.Until[*wire.Close](a); err != nil {
		t.Fatal(err)
	}
	openChat(t, late)
	by.chat()
}
