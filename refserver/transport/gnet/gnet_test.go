package gnet_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, rt.LeakOptions()...)
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

func wantError(t *testing.T, m wire.Msg, code wire.Code) {
	t.Helper()
	e, ok := m.(*wire.Error)
	if !ok || e.Code != code {
		t.Fatalf("last frame %+v, want error %d", m, code)
	}
}

// TestIdleTimeout: a connection silent for three heartbeats is closed
// with error 105, one that pings stays.
func TestIdleTimeout(t *testing.T) {
	const heartbeat = 200 * time.Millisecond
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.Heartbeat = heartbeat }))
	defer srv.Close()
	silent, _, err := rt.Connect(srv.Addr, wire.RoleCustomer, "demo", "silent", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	alive, _, err := rt.Connect(srv.Addr, wire.RoleCustomer, "demo", "alive", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Close()
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
	// The silent session is unregistered, not left behind in the hub.
	deadline := time.Now().Add(10 * time.Second) // only if it never is
	for srv.Core().Hub().Devices("demo", "silent") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle session is still registered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(heartbeat)
	close(stop)
	<-done
	// The pinging client is still served: its pongs arrived, and a new
	// request is answered.
	if _, err := alive.Open(""); err != nil && !errors.Is(err, rt.ErrUnexpected) {
		t.Fatalf("the pinging client was closed: %v", err)
	}
}

// TestHelloTimeout: a connection that never says hello is closed.
func TestHelloTimeout(t *testing.T) {
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.HelloTimeout = 100 * time.Millisecond }))
	defer srv.Close()
	c, err := rt.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantError(t, lastFrame(t, c), wire.CodeNotHello)
}

// TestSlowReader: a customer that stops reading while broadcasts pile up
// is disconnected with error 104 once its queue passes the bound; the
// server's memory does not follow the backlog, and a reading customer
// gets every broadcast.
func TestSlowReader(t *testing.T) {
	const bound = 64 << 10
	srv := rt.NewServer(rt.WithServerConfig(func(c *server.Config) { c.MaxOutbound = bound }))
	defer srv.Close()
	slow, _, err := rt.Connect(srv.Addr, wire.RoleCustomer, "demo", "slow", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	// A small receive window, so the kernel does not absorb the backlog.
	if tc, ok := slow.Conn().(interface{ SetReadBuffer(int) error }); ok {
		_ = tc.SetReadBuffer(4096)
	}
	fast, _, err := rt.Connect(srv.Addr, wire.RoleCustomer, "demo", "fast", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	var got atomic.Int64
	go func() {
		for {
			m, err := fast.Next()
			if err != nil {
				return
			}
			if _, ok := m.(*wire.Broadcast); ok {
				got.Add(1)
			}
		}
	}()
	// Paced to the reading customer: ten at a time, then wait for it.
	body := make([]byte, 4096)
	for sent := int64(0); sent < 2000; {
		for range 10 {
			if _, err := srv.Core().Broadcast("demo", wire.KindText, body); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		deadline := time.Now().Add(5 * time.Second)
		for got.Load() < sent {
			if time.Now().After(deadline) {
				t.Fatalf("the reading customer got %d broadcasts of %d", got.Load(), sent)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// 2000 × 4 KiB = 8 MiB went to the slow customer, over its socket
	// buffers and far over the bound: the server has cut it off and
	// counted it. (The error frame reaches such a reader only if its socket
	// has room, so the test asks the server, not the client.)
	deadline := time.Now().Add(5 * time.Second)
	for srv.Core().Hub().Devices("demo", "slow") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow reader is still connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if srv.Core().Hub().Devices("demo", "fast") != 1 {
		t.Fatal("the reading customer was disconnected")
	}
	resp, err := http.Get(srv.AdminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "swarmdesk_slow_reader_disconnects_total 1\n") {
		t.Fatalf("slow-reader disconnects not counted once:\n%s", metrics)
	}
}
