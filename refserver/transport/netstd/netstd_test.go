package netstd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/goleak"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/transport/netstd"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, rt.LeakOptions()...)
}

// env is a netstd server over a server core with the demo tenant.
type env struct {
	t    *testing.T
	ns   *netstd.Server
	core *server.Server
	set  *metrics.Set
	addr string
}

// start serves the demo tenant on a free loopback port; adjust changes the
// default settings. The server is shut down when the test ends.
func start(t *testing.T, adjust func(*server.Config)) *env {
	t.Helper()
	cfg := server.DefaultConfig()
	if adjust != nil {
		adjust(&cfg)
	}
	set := metrics.NewSet()
	core := server.New(cfg, store.NewMem(0), set)
	demo, err := tenant.Build(tenant.Demo())
	if err != nil {
		t.Fatal(err)
	}
	if err := core.LoadTenant(demo); err != nil {
		t.Fatal(err)
	}
	ns := netstd.New(core, "127.0.0.1:0", netstd.WithLogger(slog.New(slog.DiscardHandler)))
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ns.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		core.Close()
	})
	return &env{t: t, ns: ns, core: core, set: set, addr: ns.Addr()}
}

// metric returns the value of one series (0 when absent).
func (e *env) metric(series string) float64 {
	e.t.Helper()
	var b bytes.Buffer
	e.set.WritePrometheus(&b)
	for line := range strings.SplitSeq(b.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				e.t.Fatalf("metric %s: %v", series, err)
			}
			return v
		}
	}
	return 0
}

// waitFor polls cond for up to a second.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Only a server that never gets there takes this long; a busy machine
	// may take a while.
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *env) connect(role wire.Role, user, device string) *rt.Client {
	e.t.Helper()
	c, _, err := rt.Connect(e.addr, role, "demo", user, device)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) dial() *rt.Client {
	e.t.Helper()
	c, err := rt.Dial(e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// must returns v, panicking (failing the test) on an error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// check fails the test on an error.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// barrier sends a ping and reads until its pong: every frame sent before
// it has been handled.
func barrier(t *testing.T, c *rt.Client) []wire.Msg {
	t.Helper()
	nonce := c.NextID()
	if err := c.Send(&wire.Ping{Nonce: nonce}); err != nil {
		t.Fatal(err)
	}
	for {
		p, before, err := rt.Until[*wire.Pong](c)
		if err != nil {
			t.Fatal(err)
		}
		if p.Nonce == nonce {
			return before
		}
	}
}

// until reads c until a message of type T arrives.
func until[T wire.Msg](c *rt.Client) (T, []wire.Msg) {
	v, before, err := rt.Until[T](c)
	if err != nil {
		panic(err)
	}
	return v, before
}

// lastFrame reads until the server closes the connection and returns the
// last message it sent.
func lastFrame(t *testing.T, c *rt.Client) wire.Msg {
	t.Helper()
	var last wire.Msg
	for {
		m, err := c.Next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection still open (last frame %+v)", last)
			}
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("read: %v", err)
			}
			return last
		}
		last = m
	}
}

// wantError checks m is error code and returns its text.
func wantError(t *testing.T, m wire.Msg, code wire.Code) string {
	t.Helper()
	e, ok := m.(*wire.Error)
	if !ok {
		t.Fatalf("last frame is %T, want error %d", m, code)
	}
	if e.Code != code {
		t.Fatalf("last frame %+v, want error %d", e, code)
	}
	return e.Text
}

// TestRoundTrip: a customer opens a chat (ack, menu, the bot's greeting),
// asks for a person, is assigned the online agent, and a message goes
// across, acknowledged to the customer and delivered to the agent.
func TestRoundTrip(t *testing.T) {
	e := start(t, nil)
	if e.ns.Addr() == "127.0.0.1:0" || !strings.HasPrefix(e.ns.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr() = %q, want the bound port", e.ns.Addr())
	}
	agent := e.connect(wire.RoleAgent, "a1", "console")
	check(t, agent.Send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 2, Groups: []string{"general"}}))
	barrier(t, agent)

	cust := e.connect(wire.RoleCustomer, "c1", "phone")
	conv := must(cust.Open(""))
	if menu := must(rt.Expect[*wire.Menu](cust)); menu.Conv != conv || len(menu.Items) == 0 {
		t.Fatalf("menu %+v for conversation %d", menu, conv)
	}
	if greet := must(rt.Expect[*wire.Delivery](cust)); greet.SenderRole != wire.RoleBot || greet.Seq != 1 {
		t.Fatalf("greeting %+v, want the bot's delivery with seq 1", greet)
	}

	must(cust.Say(conv, "转人工"))
	must(rt.Expect[*wire.Ack](cust))
	if as, _ := until[*wire.Assignment](cust); as.Agent != "a1" {
		t.Fatalf("customer got assignment %+v, want a1", as)
	}
	if as := must(rt.Expect[*wire.Assignment](agent)); as.Conv != conv || as.Customer != "c1" {
		t.Fatalf("agent got assignment %+v, want conversation %d of c1", as, conv)
	}

	const text = "你好，我想退货"
	id := must(cust.Say(conv, text))
	ack := must(rt.Expect[*wire.Ack](cust))
	if ack.ClientID != id || ack.Conv != conv {
		t.Fatalf("ack %+v, want client id %d of conversation %d", ack, id, conv)
	}
	d := must(rt.Expect[*wire.Delivery](agent))
	if d.Seq != ack.Seq || string(d.Body) != text || d.ClientID != id || d.SenderRole != wire.RoleCustomer {
		t.Fatalf("agent got %+v, want seq %d %q from the customer", d, ack.Seq, text)
	}
	if got := e.metric(`swarmdesk_connections{role="customer"}`); got != 1 {
		t.Fatalf("customer connections = %g, want 1", got)
	}
	if got := e.metric("swarmdesk_frames_in_total"); got < 7 {
		t.Fatalf("frames in = %g, want at least 7", got)
	}
}

// TestHelloTimeout: a connection that never says hello gets error 102.
func TestHelloTimeout(t *testing.T) {
	e := start(t, func(c *server.Config) { c.HelloTimeout = 100 * time.Millisecond })
	start := time.Now()
	c := e.dial()
	text := wantError(t, lastFrame(t, c), wire.CodeNotHello)
	if text != "no hello in time" {
		t.Fatalf("text %q", text)
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("closed after %s, before the hello timeout", took)
	}
	waitFor(t, "the connection is released", func() bool { return e.metric(`swarmdesk_connections{role="none"}`) == 0 })
	if got := e.metric("swarmdesk_protocol_errors_total"); got != 1 {
		t.Fatalf("protocol errors = %g, want 1", got)
	}
}

// TestIdleTimeout: a connection silent for three heartbeats gets error
// 105 and is unregistered; one that pings stays.
func TestIdleTimeout(t *testing.T) {
	const heartbeat = 200 * time.Millisecond
	e := start(t, func(c *server.Config) { c.Heartbeat = heartbeat })
	start := time.Now() // before the silent one's last frame, its hello
	silent := e.connect(wire.RoleCustomer, "silent", "phone")
	alive := e.connect(wire.RoleCustomer, "alive", "phone")
	// The other pings four times a heartbeat, until a heartbeat after the
	// silent one is gone: only a stall of most of three heartbeats would
	// make it silent too.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if err := alive.Send(&wire.Ping{Nonce: 1}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(heartbeat / 4):
			}
		}
	}()
	wantError(t, lastFrame(t, silent), wire.CodeIdle)
	if took := time.Since(start); took < 3*heartbeat {
		t.Fatalf("closed after %s, before three heartbeats", took)
	}
	waitFor(t, "the silent session is unregistered", func() bool { return e.core.Hub().Devices("demo", "silent") == 0 })
	time.Sleep(heartbeat)
	close(stop)
	<-done
	barrier(t, alive)
	if e.core.Hub().Devices("demo", "alive") != 1 {
		t.Fatal("the pinging client was unregistered")
	}
	if got := e.metric(`swarmdesk_disconnects_total{code="105",reason="idle"}`); got != 1 {
		t.Fatalf("idle disconnects = %g, want 1", got)
	}
	if got := e.metric("swarmdesk_protocol_errors_total"); got != 0 {
		t.Fatalf("an idle close counted as %g protocol errors", got)
	}
}

// TestFrameTimeout: a frame trickled a byte at a time, each byte well
// within the idle timeout, is cut off by the frame timeout with error 111.
func TestFrameTimeout(t *testing.T) {
	const frameTimeout = 300 * time.Millisecond
	e := start(t, func(c *server.Config) {
		c.Heartbeat = time.Second // idle after 3s of silence: bytes come every 40ms
		c.FrameTimeout = frameTimeout
	})
	c := e.connect(wire.RoleCustomer, "loris", "phone")
	// 16s to arrive whole, and cut off well before.
	frame := (&wire.Message{ClientID: 1, Conv: 1, Kind: wire.KindText, Body: []byte(strings.Repeat("x", 400))}).AppendFrame(nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for _, b := range frame {
			if _, err := c.Conn().Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
		}
	}()
	text := wantError(t, lastFrame(t, c), wire.CodeFrameTimeout)
	close(stop)
	<-done
	if want := "frame not completed within 300ms of its first byte"; text != want {
		t.Fatalf("text %q, want %q", text, want)
	}
	if took := time.Since(start); took < frameTimeout {
		t.Fatalf("closed after %s, before the frame timeout", took)
	}
}

// TestOversizeHeader: a header declaring more than the frame limit gets
// error 101 at once, though the body follows.
func TestOversizeHeader(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxFrame = 1024 })
	c := e.connect(wire.RoleCustomer, "big", "phone")
	raw := make([]byte, wire.HeaderSize+32<<10)
	binary.BigEndian.PutUint32(raw, 1025)
	raw[wire.HeaderSize] = byte(wire.TMessage)
	go func() { _, _ = c.Conn().Write(raw) }()
	wantError(t, lastFrame(t, c), wire.CodeTooLarge)
	if got := e.metric(`swarmdesk_disconnects_total{code="101",reason="too-large"}`); got != 1 {
		t.Fatalf("too-large disconnects = %g, want 1", got)
	}
	waitFor(t, "the session is unregistered", func() bool { return e.core.Hub().Devices("demo", "big") == 0 })
}

// TestSlowReader: a customer that never reads while broadcasts pile up
// (the kernel's buffers full, then the server's queue) is cut off once its
// queue passes the bound; when it reads at last, it finds whole frames,
// then error 104. The broadcasts are paced so that the writer keeps up
// until the socket is full: the cut lands in the middle of a write.
func TestSlowReader(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxOutbound = 96 << 10 })
	slow := e.connect(wire.RoleCustomer, "slow", "phone")
	body := make([]byte, 32<<10)
	deadline := time.Now().Add(5 * time.Second)
	sent := 0
	for e.metric("swarmdesk_slow_reader_disconnects_total") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the slow reader was not cut off after %d broadcasts", sent)
		}
		must(e.core.Broadcast("demo", wire.KindText, body))
		sent++
		time.Sleep(500 * time.Microsecond)
	}
	var last wire.Msg
	for n := 0; ; n++ {
		m, err := slow.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("after %d frames of %d broadcasts: %v", n, sent, err)
			}
			break
		}
		if b, ok := last.(*wire.Broadcast); last != nil && (!ok || len(b.Body) != len(body)) {
			t.Fatalf("frame %d is %T, want a whole broadcast", n, last)
		}
		last = m
	}
	if text := wantError(t, last, wire.CodeSlowReader); !strings.Contains(text, "reading too slowly") {
		t.Fatalf("text %q", text)
	}
	waitFor(t, "the slow reader is unregistered", func() bool { return e.core.Hub().Devices("demo", "slow") == 0 })
	if got := e.metric(`swarmdesk_disconnects_total{code="104",reason="slow-reader"}`); got != 1 {
		t.Fatalf("slow-reader disconnects = %g, want 1", got)
	}
	if got := e.metric("swarmdesk_protocol_errors_total"); got != 0 {
		t.Fatalf("a slow reader counted as %g protocol errors", got)
	}
}

// TestMaxConns: beyond the bound a connection gets error 110 at once; the
// connections held go on, and once one leaves a new one is accepted.
func TestMaxConns(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxConns = 2 })
	if e.ns.MaxConns() != 2 {
		t.Fatalf("MaxConns() = %d, want 2", e.ns.MaxConns())
	}
	a := e.connect(wire.RoleCustomer, "a", "phone")
	b := e.connect(wire.RoleCustomer, "b", "phone")
	over := e.dial()
	if text := wantError(t, lastFrame(t, over), wire.CodeOverloaded); text != "server at capacity: 2 connections" {
		t.Fatalf("text %q", text)
	}
	barrier(t, a)
	barrier(t, b)
	if got := e.metric(`swarmdesk_connections_refused_total{reason="overloaded"}`); got != 1 {
		t.Fatalf("refused = %g, want 1", got)
	}
	if got := e.metric("swarmdesk_connections_held"); got != 2 {
		t.Fatalf("held = %g, want 2", got)
	}
	if got := e.metric("swarmdesk_connections_max"); got != 2 {
		t.Fatalf("max = %g, want 2", got)
	}
	a.Close()
	waitFor(t, "a's connection is released", func() bool { return e.metric("swarmdesk_connections_held") == 1 })
	c := e.connect(wire.RoleCustomer, "c", "phone")
	barrier(t, c)
	barrier(t, b)
}

// TestHalfClose: a peer that shuts down its sending side gets what it
// asked for, then the server closes at once, without an error frame.
func TestHalfClose(t *testing.T) {
	e := start(t, nil)
	c := e.connect(wire.RoleCustomer, "halfway", "phone")
	check(t, c.Send(&wire.Open{ClientID: c.NextID(), Channel: "app"}))
	check(t, c.Send(&wire.Ping{Nonce: 77}))
	check(t, c.CloseWrite())
	if p, before := until[*wire.Pong](c); p.Nonce != 77 || len(before) != 3 {
		t.Fatalf("pong %+v after %+v, want the ack, menu and greeting first", p, before)
	}
	// The close comes with no error frame (a timeout's would have one),
	// and before the client's read deadline.
	if m, err := c.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the pong: %+v, %v; want the server's close", m, err)
	}
	waitFor(t, "the session is unregistered", func() bool { return e.core.Hub().Devices("demo", "halfway") == 0 })
	waitFor(t, "the connection is released", func() bool { return e.metric("swarmdesk_connections_held") == 0 })
}

// TestShutdown: Shutdown writes what is queued, then error 106, closes
// every connection and leaves no goroutine behind.
func TestShutdown(t *testing.T) {
	e := start(t, nil)
	c := e.connect(wire.RoleCustomer, "leaving", "phone")
	barrier(t, c)
	must(e.core.Broadcast("demo", wire.KindText, []byte("closing soon")))
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc <- e.ns.Shutdown(ctx)
	}()
	if b := must(rt.Expect[*wire.Broadcast](c)); string(b.Body) != "closing soon" {
		t.Fatalf("broadcast %+v", b)
	}
	wantError(t, lastFrame(t, c), wire.CodeShutdown)
	c.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Dial(e.addr); err == nil {
		t.Fatal("the server still accepts after Shutdown")
	}
	goleak.VerifyNone(t, rt.LeakOptions()...)
	if got := e.metric(`swarmdesk_disconnects_total{code="106",reason="shutdown"}`); got != 1 {
		t.Fatalf("shutdown disconnects = %g, want 1", got)
	}
}

// TestStartFails: a bad address is reported by Start.
func TestStartFails(t *testing.T) {
	core := server.New(server.DefaultConfig(), store.NewMem(0), metrics.NewSet())
	defer core.Close()
	ns := netstd.New(core, "127.0.0.1:99999")
	if err := ns.Start(); err == nil {
		t.Fatal("Start on a bad address succeeded")
	}
	if err := ns.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after a failed Start: %v", err)
	}
}
