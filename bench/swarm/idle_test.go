package swarm

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// idleUser is an actor that signs in on one link and then only answers
// pings. Its fields are read under its loop's lock.
type idleUser struct {
	id      string
	link    behavior.Link
	ready   bool
	pongs   int
	dropped error
}

// Receive implements behavior.Actor.
func (u *idleUser) Receive(_ int, m wire.Msg) {
	switch m := m.(type) {
	case *wire.Ready:
		u.ready = true
	case *wire.Ping:
		_ = u.link.Send(&wire.Pong{Nonce: m.Nonce})
	case *wire.Pong:
		u.pongs++
	}
}

// Timer implements behavior.Actor.
func (u *idleUser) Timer(uint64) {}

// Dropped implements behavior.Actor.
func (u *idleUser) Dropped(_ int, err error) { u.dropped = err }

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestIdleConnections holds 2,000 signed-in idle connections (fewer if
// RLIMIT_NOFILE says so), logs the heap bytes per connection, and closes
// them cleanly.
func TestIdleConnections(t *testing.T) {
	n := 2000
	lim, err := Limit()
	if err != nil {
		t.Fatal(err)
	}
	// The test server runs in this process: two descriptors a connection.
	if lim/2 < n {
		t.Logf("RLIMIT_NOFILE allows %d connections (in-process server: %d each side); holding %d instead of %d", lim, lim/2, lim/2, n)
		n = lim / 2
	}
	srv := refservertest.NewServer()
	defer srv.Close()
	rt, err := New(Options{Addr: srv.Addr, Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()

	users := make([]*idleUser, n)
	before := heapBytes()
	for i := range users {
		u := &idleUser{id: fmt.Sprintf("idle-%d", i)}
		users[i] = u
		lp := rt.Loop(i)
		lp.Do(func() {
			l, err := lp.Dial(u, 0)
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
				return
			}
			u.link = l
			if err := l.Send(&wire.Hello{Role: wire.RoleCustomer, Tenant: scenario.DemoTenant, User: u.id, Device: "d0"}); err != nil {
				t.Errorf("hello %d: %v", i, err)
			}
		})
	}
	start := time.Now()
	count := func() (ready, dropped int, last error) {
		for i, u := range users {
			rt.Loop(i).Do(func() {
				if u.ready {
					ready++
				}
				if u.dropped != nil {
					dropped++
					last = u.dropped
				}
			})
		}
		return
	}
	for {
		ready, dropped, last := count()
		if dropped > 0 {
			t.Fatalf("%d links dropped, last: %v", dropped, last)
		}
		if ready == n {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%d of %d links ready after 30s (stats %+v)", ready, n, rt.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	up := time.Since(start)
	after := heapBytes()
	per := (int64(after) - int64(before)) / int64(n)
	t.Logf("%d idle links signed in in %v over %d loops, stats %+v", n, up.Round(time.Millisecond), len(rt.Loops()), rt.Stats())
	t.Logf("heap per idle connection: %d bytes (client and in-process server together; the client's link is %d bytes, and holds no buffer while idle)", per, unsafe.Sizeof(link{}))

	time.Sleep(500 * time.Millisecond) // held idle
	if _, dropped, last := count(); dropped > 0 {
		t.Fatalf("%d idle links dropped, last: %v", dropped, last)
	}
	for i, u := range users {
		rt.Loop(i).Do(func() {
			if err := u.link.Close(); err != nil {
				t.Errorf("close %d: %v", i, err)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for rt.Stats().Open > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := rt.Stats(); s.Open != 0 {
		t.Errorf("%d links still open after close", s.Open)
	}
	if _, dropped, last := count(); dropped > 0 {
		t.Errorf("Dropped reported to %d actors that closed their own links, last: %v", dropped, last)
	}
}

// TestHeartbeats holds idle links for more than three of the server's
// heartbeats: the loops ping on their behalf, so the server keeps them
// (without pings it closes them with error 105).
func TestHeartbeats(t *testing.T) {
	t.Parallel()
	srv := refservertest.NewServer(refservertest.WithServerConfig(func(c *server.Config) { c.Heartbeat = time.Second }))
	defer srv.Close()
	rt, err := New(Options{Addr: srv.Addr, Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	users := make([]*idleUser, 20)
	for i := range users {
		u := &idleUser{id: fmt.Sprintf("hb-%d", i)}
		users[i] = u
		lp := rt.Loop(i)
		lp.Do(func() {
			l, err := lp.Dial(u, 0)
			if err != nil {
				t.Fatalf("dial %d: %v", i, err)
			}
			u.link = l
			if err := l.Send(&wire.Hello{Role: wire.RoleCustomer, Tenant: scenario.DemoTenant, User: u.id, Device: "d0"}); err != nil {
				t.Errorf("hello %d: %v", i, err)
			}
		})
	}
	time.Sleep(4500 * time.Millisecond) // over four heartbeats; the server closes after three silent ones
	for i, u := range users {
		rt.Loop(i).Do(func() {
			switch {
			case !u.ready:
				t.Errorf("user %d never ready", i)
			case u.dropped != nil:
				t.Errorf("user %d dropped: %v", i, u.dropped)
			case u.pongs < 2:
				t.Errorf("user %d got %d pongs in 4.5s of heartbeats every 1s, want at least 2", i, u.pongs)
			}
		})
	}
}
