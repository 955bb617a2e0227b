package conform

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// fakePoll is a tiny server of the HTTP binding (PROTOCOL.md, "HTTP
// binding (polling)") with just enough of the protocol for the session
// cases: hello (tenant demo), ping, a second hello, frames that are not
// whole, and sessions forgotten.
type fakePoll struct {
	mu       sync.Mutex
	sessions map[string]*fakeSession
	next     int
	lostOnce bool // the first poll's answer is lost: the client asks again
}

type fakeSession struct {
	batch  uint64 // the last batch made
	last   []byte // its frames
	queue  []byte
	ended  bool
	notify chan struct{}
}

func newFakePoll() *fakePoll { return &fakePoll{sessions: map[string]*fakeSession{}} }

func frames(ms ...wire.Msg) []byte {
	var b []byte
	for _, m := range ms {
		b = m.AppendFrame(b)
	}
	return b
}

func fatal(code wire.Code, text string) []byte {
	return frames(&wire.Error{Code: code, Text: text})
}

func answer(w http.ResponseWriter, status int, body []byte) {
	if body != nil {
		w.Header().Set("Content-Type", wire.HTTPContentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (f *fakePoll) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	id := r.URL.Query().Get(wire.HTTPSessionParam)
	s := f.sessions[id]
	switch {
	case r.Method == http.MethodPost && r.URL.Path == wire.HTTPConnectPath:
		defer f.mu.Unlock()
		fb, _, err := wire.Split(body, wire.DefaultMaxFrame)
		if err != nil {
			answer(w, http.StatusGone, fatal(wire.CodeBadFrame, err.Error()))
			return
		}
		m, err := wire.Decode(fb)
		h, ok := m.(*wire.Hello)
		switch {
		case err != nil:
			answer(w, http.StatusGone, fatal(wire.CodeBadFrame, err.Error()))
		case !ok:
			answer(w, http.StatusGone, fatal(wire.CodeNotHello, m.Type().String()+" before hello"))
		case h.Tenant != "demo":
			answer(w, http.StatusGone, fatal(wire.CodeAuth, "unknown tenant"))
		default:
			f.next++
			id := strconv.Itoa(f.next)
			s := &fakeSession{batch: 1, notify: make(chan struct{}, 1)}
			s.last = frames(&wire.Ready{ServerTime: time.Now().UnixNano(), HeartbeatMS: 15000, MaxFrame: wire.DefaultMaxFrame})
			f.sessions[id] = s
			w.Header().Set(wire.HTTPSessionHeader, id)
			w.Header().Set(wire.HTTPBatchHeader, "1")
			answer(w, http.StatusOK, s.last)
		}
	case s == nil:
		f.mu.Unlock()
		answer(w, http.StatusNotFound, fatal(wire.CodeNotHello, "no such session"))
	case r.Method == http.MethodPost && r.URL.Path == wire.HTTPSendPath:
		defer f.mu.Unlock()
		for len(body) > 0 && !s.ended {
			fb, n, err := wire.Split(body, wire.DefaultMaxFrame)
			if err != nil {
				s.end(wire.CodeBadFrame, err.Error())
				break
			}
			body = body[n:]
			switch m, _ := wire.Decode(fb); m := m.(type) {
			case *wire.Ping:
				s.queue = (&wire.Pong{Nonce: m.Nonce}).AppendFrame(s.queue)
			case *wire.Hello:
				s.end(wire.CodeDupHello, "a second hello")
			}
		}
		if s.ended {
			delete(f.sessions, id)
			answer(w, http.StatusGone, s.queue)
			return
		}
		select {
		case s.notify <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Path == wire.HTTPPollPath:
		ack, _ := strconv.ParseUint(r.URL.Query().Get(wire.HTTPAckParam), 10, 64)
		wait, _ := strconv.Atoi(r.URL.Query().Get(wire.HTTPWaitParam))
		if ack+1 == s.batch { // the answer to ack was lost: again
			defer f.mu.Unlock()
			w.Header().Set(wire.HTTPBatchHeader, strconv.FormatUint(s.batch, 10))
			answer(w, http.StatusOK, s.last)
			return
		}
		if len(s.queue) == 0 {
			f.mu.Unlock()
			select {
			case <-s.notify:
			case <-time.After(time.Duration(wait) * time.Millisecond):
			case <-r.Context().Done():
			}
			f.mu.Lock()
		}
		defer f.mu.Unlock()
		if len(s.queue) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.batch++
		s.last, s.queue = s.queue, nil
		w.Header().Set(wire.HTTPBatchHeader, strconv.FormatUint(s.batch, 10))
		if f.lostOnce {
			// The answer is lost on the way: the client sees a 500, and
			// the batch waits for its retry.
			f.lostOnce = false
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		answer(w, http.StatusOK, s.last)
	case r.Method == http.MethodDelete && r.URL.Path == wire.HTTPSessionPath:
		defer f.mu.Unlock()
		delete(f.sessions, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		f.mu.Unlock()
		http.Error(w, "no such path", http.StatusNotFound)
	}
}

func (s *fakeSession) end(code wire.Code, text string) {
	s.ended = true
	s.queue = (&wire.Error{Code: code, Text: text}).AppendFrame(s.queue)
}

// TestHTTPSessionCases: the session cases pass over the HTTP binding.
func TestHTTPSessionCases(t *testing.T) {
	fake := httptest.NewServer(newFakePoll())
	defer fake.Close()
	rep := Run(context.Background(), Config{Target: fake.URL, Only: []string{"^session/"}, Timeout: 2 * time.Second})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Cases) != 6 {
		t.Fatalf("%d cases ran, want the 6 session cases", len(rep.Cases))
	}
	if err := Probe(context.Background(), Config{Target: fake.URL}); err != nil {
		t.Errorf("probe: %v", err)
	}
}

// TestHTTPConn: the driver's session: connect, send, long polls with
// numbered batches, a fault ending the session (410, then closed), a
// session the server forgot (404: closed with error 102), and delete.
func TestHTTPConn(t *testing.T) {
	f := newFakePoll()
	fake := httptest.NewServer(f)
	defer fake.Close()
	ctx := context.Background()
	tg, err := parseTarget(fake.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	dial := func() conn {
		c, err := tg.dial(ctx, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	next := func(c conn) wire.Msg {
		t.Helper()
		m, err := c.Next(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	hello := &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "u", Device: "d"}

	c := dial()
	if _, err := c.Next(10 * time.Millisecond); !errors.Is(err, errTimeout) {
		t.Fatalf("Next before the session began: %v, want a timeout", err)
	}
	if err := c.Send(hello); err != nil {
		t.Fatal(err)
	}
	if _, ok := next(c).(*wire.Ready); !ok {
		t.Fatal("no ready")
	}
	if _, err := c.Next(50 * time.Millisecond); !errors.Is(err, errTimeout) {
		t.Fatalf("an empty long poll: %v, want a timeout", err)
	}
	// A long poll held while the ping is sent; then an answer lost once.
	if err := c.Send(&wire.Ping{Nonce: 9}); err != nil {
		t.Fatal(err)
	}
	if p, ok := next(c).(*wire.Pong); !ok || p.Nonce != 9 {
		t.Fatalf("ping 9 answered by %v", p)
	}
	f.mu.Lock()
	f.lostOnce = true
	f.mu.Unlock()
	if err := c.Send(&wire.Ping{Nonce: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(time.Second); err == nil {
		t.Fatal("a lost answer (500) was not an error")
	}
	if p, ok := next(c).(*wire.Pong); !ok || p.Nonce != 10 {
		t.Fatalf("after a lost answer, ping 10 answered by %v", p)
	}
	// Bytes that are not a whole frame: the session ends with error 100.
	if err := c.SendRaw([]byte{0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if e, ok := next(c).(*wire.Error); !ok || e.Code != wire.CodeBadFrame {
		t.Fatalf("garbage answered by %v, want error 100", e)
	}
	if _, err := c.Next(time.Second); !errors.Is(err, errClosed) {
		t.Fatalf("after the fault: %v, want closed", err)
	}
	if err := c.Send(&wire.Ping{}); !errors.Is(err, errClosed) {
		t.Fatalf("send after the end: %v, want closed", err)
	}
	_ = c.Close()

	// A session the server forgot: 404 with error 102, closed.
	c = dial()
	if err := c.Send(hello); err != nil {
		t.Fatal(err)
	}
	next(c)
	f.mu.Lock()
	clear(f.sessions)
	f.mu.Unlock()
	if e, ok := next(c).(*wire.Error); !ok || e.Code != wire.CodeNotHello {
		t.Fatalf("a forgotten session: %v, want error 102", e)
	}
	if _, err := c.Next(time.Second); !errors.Is(err, errClosed) {
		t.Fatalf("after 404: %v, want closed", err)
	}

	// Delete ends the session on the server.
	c = dial()
	if err := c.Send(hello); err != nil {
		t.Fatal(err)
	}
	next(c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	n := len(f.sessions)
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sessions left after Close", n)
	}
}

// TestParseTarget: the forms of a target.
func TestParseTarget(t *testing.T) {
	for in, want := range map[string]target{
		"127.0.0.1:7400":          {addr: "127.0.0.1:7400"},
		"tcp://[::1]:7400":        {addr: "[::1]:7400"},
		"http://127.0.0.1:7500":   {http: true, addr: "127.0.0.1:7500", base: "http://127.0.0.1:7500"},
		"http://h:1/swarmdesk/":   {http: true, addr: "h:1", base: "http://h:1/swarmdesk"},
		"https://example.com:443": {http: true, addr: "example.com:443", base: "https://example.com:443"},
	} {
		got, err := parseTarget(in)
		if err != nil || got != want {
			t.Errorf("parseTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "localhost", "h:", "ftp://h:1", "tcp://h:1/x", "http://h:1?q=1"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) succeeded", bad)
		}
	}
}
