package swarm

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// recorder is an actor that keeps what it is told. Its fields are read in
// its loop's Do.
type recorder struct {
	got     []wire.Msg
	dropped []error
}

func (r *recorder) Receive(_ int, m wire.Msg) {
	// The loop reuses its decoded messages: keep a copy.
	body, _, err := wire.Split(m.AppendFrame(nil), 1<<30)
	if err != nil {
		panic(err)
	}
	c, err := wire.Decode(body)
	if err != nil {
		panic(err)
	}
	r.got = append(r.got, c)
}
func (r *recorder) Timer(uint64)             {}
func (r *recorder) Dropped(_ int, err error) { r.dropped = append(r.dropped, err) }

// rawServer is a loopback listener whose one accepted connection the test
// scripts by hand.
type rawServer struct {
	ln   net.Listener
	conn chan net.Conn
}

func newRawServer(t *testing.T) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, conn: make(chan net.Conn, 1)}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			s.conn <- c
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return s
}

func (s *rawServer) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conn:
		t.Cleanup(func() { _ = c.Close() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection within 10s")
		return nil
	}
}

// dialOne starts a runtime at addr and dials one link for r.
func dialOne(t *testing.T, addr string, r *recorder) (*Runtime, *Loop, behavior.Link) {
	t.Helper()
	rt, err := New(Options{Addr: addr, Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	lp := rt.Loop(0)
	var l behavior.Link
	lp.Do(func() {
		if l, err = lp.Dial(r, 0); err != nil {
			t.Fatal(err)
		}
	})
	return rt, lp, l
}

// eventually polls cond in lp's Do until it holds, for up to 10s.
func eventually(t *testing.T, lp *Loop, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var ok bool
		lp.Do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

// TestDialRefused dials a port nothing listens on: the actor is told,
// with ECONNREFUSED, and the dial counts as failed.
func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	r := &recorder{}
	rt, lp, _ := dialOne(t, addr, r)
	eventually(t, lp, "Dropped", func() bool { return len(r.dropped) == 1 })
	if !errors.Is(r.dropped[0], syscall.ECONNREFUSED) || !strings.Contains(r.dropped[0].Error(), "connection refused") {
		t.Errorf("Dropped(%v), want connection refused", r.dropped[0])
	}
	if s := rt.Stats(); s.DialErrors != 1 || s.Dialed != 0 || s.Open != 0 {
		t.Errorf("stats %+v, want 1 dial error, none dialed or open", s)
	}
}

// TestFramesAcrossReads has the server write frames of every size up to
// the bound in chunks that cut them anywhere, more than the loop's read
// buffer at once: the actor gets every frame, whole, in order.
func TestFramesAcrossReads(t *testing.T) {
	srv := newRawServer(t)
	r := &recorder{}
	_, lp, _ := dialOne(t, srv.ln.Addr().String(), r)
	c := srv.accept(t)
	var stream []byte
	var want []uint64
	for i := range 40 {
		body := bytes.Repeat([]byte{byte(i)}, (i*7919)%(60<<10))
		stream = (&wire.Delivery{Conv: 1, Seq: uint64(i + 1), Body: body}).AppendFrame(stream)
		stream = (&wire.Ping{Nonce: uint64(i)}).AppendFrame(stream)
		want = append(want, uint64(i+1))
	}
	for off, step := 0, 1; off < len(stream); step = step*3 + 1 {
		n := min(step%(150<<10)+1, len(stream)-off)
		if _, err := c.Write(stream[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	eventually(t, lp, "every frame", func() bool { return len(r.got) == 2*len(want) || len(r.dropped) > 0 })
	if len(r.dropped) > 0 {
		t.Fatalf("dropped: %v", r.dropped[0])
	}
	for i, seq := range want {
		d, ok := r.got[2*i].(*wire.Delivery)
		if !ok || d.Seq != seq || len(d.Body) != (i*7919)%(60<<10) || (len(d.Body) > 0 && d.Body[0] != byte(i)) {
			t.Fatalf("frame %d: %#v, want delivery %d", 2*i, r.got[2*i], seq)
		}
		if p, ok := r.got[2*i+1].(*wire.Ping); !ok || p.Nonce != uint64(i) {
			t.Fatalf("frame %d: %#v, want ping %d", 2*i+1, r.got[2*i+1], i)
		}
	}
}

// TestWriteBackpressure sends more than the kernel's buffers hold to a
// server that does not read yet: nothing is dropped or reordered, and the
// rest goes out once the server reads.
func TestWriteBackpressure(t *testing.T) {
	srv := newRawServer(t)
	r := &recorder{}
	_, lp, l := dialOne(t, srv.ln.Addr().String(), r)
	c := srv.accept(t)
	const n = 512 // 512 × 32 KiB = 16 MiB, more than loopback's socket buffers
	body := make([]byte, 32<<10)
	var want bytes.Buffer
	lp.Do(func() {
		for i := range n {
			m := &wire.Message{ClientID: uint64(i + 1), Conv: 1, Body: body}
			want.Write(m.AppendFrame(nil))
			if err := l.Send(m); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	})
	time.Sleep(100 * time.Millisecond) // the kernel's buffers fill; the loop waits for room
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the server read other bytes than were sent")
	}
	lp.Do(func() {
		if len(r.dropped) > 0 {
			t.Errorf("dropped: %v", r.dropped[0])
		}
	})
}

// TestServerEnds covers a server that closes, and one that sends a frame
// over the bound: each drops the link with its reason.
func TestServerEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(net.Conn)
		want string
	}{
		{"close", func(c net.Conn) { _ = c.Close() }, "EOF"},
		{"oversize", func(c net.Conn) { _, _ = c.Write([]byte{0xff, 0xff, 0xff, 0x7f, 1}) }, "bad frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t)
			r := &recorder{}
			rt, lp, _ := dialOne(t, srv.ln.Addr().String(), r)
			c := srv.accept(t)
			eventually(t, lp, "open", func() bool { return rt.Stats().Open == 1 })
			tc.do(c)
			eventually(t, lp, "Dropped", func() bool { return len(r.dropped) == 1 })
			if !strings.Contains(r.dropped[0].Error(), tc.want) {
				t.Errorf("Dropped(%v), want %q", r.dropped[0], tc.want)
			}
			if s := rt.Stats(); s.Open != 0 {
				t.Errorf("%d open after the drop", s.Open)
			}
		})
	}
}

// TestCloseWritesFirst sends a frame and closes the link in the same
// call: the server reads the frame, then the end; the actor is not told.
func TestCloseWritesFirst(t *testing.T) {
	srv := newRawServer(t)
	r := &recorder{}
	rt, lp, l := dialOne(t, srv.ln.Addr().String(), r)
	c := srv.accept(t)
	eventually(t, lp, "open", func() bool { return rt.Stats().Open == 1 })
	ping := &wire.Ping{Nonce: 42}
	lp.Do(func() {
		if err := l.Send(ping); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l.Send(ping); !errors.Is(err, ErrLinkClosed) {
			t.Errorf("send after close: %v, want ErrLinkClosed", err)
		}
	})
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := ping.AppendFrame(nil); !bytes.Equal(got, want) {
		t.Errorf("server read %x, want %x then the end", got, want)
	}
	lp.Do(func() {
		if len(r.dropped) > 0 {
			t.Errorf("Dropped reported after the actor's own Close: %v", r.dropped[0])
		}
	})
}

// TestCloseWhileDialing closes links before their connects finish, many
// at once: none is reported dropped, none stays open, and the loop's
// connect slots are all given back (a later dial still connects).
func TestCloseWhileDialing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // accept and forget
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	defer wg.Wait()
	defer ln.Close()
	rt, err := New(Options{Addr: ln.Addr().String(), Loops: 1, Dialers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	lp := rt.Loop(0)
	r := &recorder{}
	lp.Do(func() {
		for range 100 {
			l, err := lp.Dial(r, 0)
			if err != nil {
				t.Fatal(err)
			}
			_ = l.Close()
		}
	})
	var last behavior.Link
	lp.Do(func() { last, _ = lp.Dial(r, 0) })
	eventually(t, lp, "the last link open", func() bool { return rt.Stats().Open == 1 })
	lp.Do(func() {
		if len(r.dropped) > 0 {
			t.Errorf("Dropped reported for links closed while dialing: %v", r.dropped[0])
		}
		_ = last.Close()
	})
}
