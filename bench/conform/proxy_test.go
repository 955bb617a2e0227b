package conform_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/conform"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// breaker is a TCP proxy in front of a real refserver that makes it break
// one rule of the protocol on purpose, by rewriting frames: up rewrites
// what clients send, down what the server sends (nil: forward as is).
// Bytes that are not whole, decodable frames pass unchanged.
type breaker struct {
	ln     net.Listener
	target string
	up     func(wire.Msg) wire.Msg
	down   func(wire.Msg) wire.Msg

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startBreaker(t *testing.T, target string, up, down func(wire.Msg) wire.Msg) *breaker {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &breaker{ln: ln, target: target, up: up, down: down}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

func (b *breaker) addr() string { return b.ln.Addr().String() }

func (b *breaker) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *breaker) accept() {
	defer b.wg.Done()
	for {
		client, err := b.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", b.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		b.mu.Lock()
		b.conns = append(b.conns, client, server)
		b.mu.Unlock()
		b.wg.Add(2)
		go b.pipe(client, server, b.up)
		go b.pipe(server, client, b.down)
	}
}

// pipe copies from src to dst, rewriting whole frames with fn; when src
// ends, both sides are closed.
func (b *breaker) pipe(src, dst net.Conn, fn func(wire.Msg) wire.Msg) {
	defer b.wg.Done()
	defer dst.Close()
	defer src.Close()
	var (
		buf  []byte
		raw  bool // a frame could not be parsed: pass the rest unchanged
		read [4096]byte
	)
	for {
		n, err := src.Read(read[:])
		buf = append(buf, read[:n]...)
		var out []byte
		for !raw && len(buf) > 0 {
			// Frames over the server's limit pass unchanged, at once:
			// the server answers their header.
			body, size, serr := wire.Split(buf, wire.DefaultMaxFrame)
			if errors.Is(serr, wire.ErrShort) {
				break
			}
			if serr != nil {
				raw = true
				break
			}
			frame := buf[:size]
			if m, derr := wire.Decode(slices.Clone(body)); derr == nil && fn != nil {
				if r := fn(m); r != nil {
					frame = r.AppendFrame(nil)
				}
			}
			out = append(out, frame...)
			buf = buf[size:]
		}
		if raw {
			out = append(out, buf...)
			buf = buf[:0]
		}
		if len(out) > 0 {
			if _, werr := dst.Write(out); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && len(buf) > 0 {
				_, _ = dst.Write(buf)
			}
			return
		}
	}
}

// TestBrokenServer: a server that breaks one rule fails exactly the cases
// that check that rule, and no others.
func TestBrokenServer(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()

	// Rule 1: a retried message is acked with a new sequence.
	var mu sync.Mutex
	seen, retried := map[uint64]bool{}, map[uint64]bool{}
	ackUp := func(m wire.Msg) wire.Msg {
		if msg, ok := m.(*wire.Message); ok {
			mu.Lock()
			retried[msg.ClientID] = seen[msg.ClientID]
			seen[msg.ClientID] = true
			mu.Unlock()
		}
		return nil
	}
	ackDown := func(m wire.Msg) wire.Msg {
		if a, ok := m.(*wire.Ack); ok && a.Seq > 0 {
			mu.Lock()
			defer mu.Unlock()
			if retried[a.ClientID] {
				a.Seq += 100
				return a
			}
		}
		return nil
	}

	// Rule 2: resume lists are ignored (the server replays nothing).
	noResume := func(m wire.Msg) wire.Msg {
		switch m := m.(type) {
		case *wire.Hello:
			if len(m.Resume) > 0 {
				m.Resume = nil
				return m
			}
		case *wire.Resume:
			m.Points = nil
			return m
		}
		return nil
	}

	// Rule 3: a request naming a conversation that is not the user's is
	// refused with 201 unknown-conv instead of 200 forbidden.
	unknownConv := func(m wire.Msg) wire.Msg {
		if e, ok := m.(*wire.Error); ok && e.Code == wire.CodeForbidden {
			e.Code = wire.CodeUnknownConv
			return e
		}
		return nil
	}

	// Rule 4: queue positions count from 0.
	fromZero := func(m wire.Msg) wire.Msg {
		if q, ok := m.(*wire.QueuePosition); ok {
			q.Position--
			return q
		}
		return nil
	}

	for _, tc := range []struct {
		name     string
		up, down func(wire.Msg) wire.Msg
		want     []string
	}{
		{"retried message acked with a new seq", ackUp, ackDown, []string{"dedupe/message-retry"}},
		{"resume ignored", noResume, nil, []string{"resume/hello", "resume/message", "resume/not-yours"}},
		{"201 for a conversation not the user's", nil, unknownConv, []string{"resume/not-yours", "errors/forbidden", "errors/unknown-conv"}},
		{"queue positions from 0", nil, fromZero, []string{"routing/queue"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBreaker(t, srv.Addr, tc.up, tc.down)
			rep := conform.Run(context.Background(), conform.Config{Target: b.addr(), Timeout: time.Second})
			err := rep.Err()
			var f *conform.Failure
			if !errors.As(err, &f) {
				t.Fatalf("Err() = %v, want a *conform.Failure", err)
			}
			if !slices.Equal(f.Names(), tc.want) {
				t.Fatalf("failed cases %q, want %q:\n%v", f.Names(), tc.want, err)
			}
			t.Logf("as wanted:\n%v", err)
		})
	}
}
