package swarm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// fakeServer implements the protocol's HTTP binding (PROTOCOL.md, "HTTP
// binding (polling)") minimally: connect answers ready in batch 1, send
// acknowledges open and message (and echoes each message back as a
// delivery), poll serves numbered batches, held until something is queued
// or its wait passed, and DELETE ends a session. Switches make it drop
// poll answers, fail polls with 503, delay connects, end or forget a
// session.
type fakeServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	sessions map[string]*fakeSession
	next     int

	// Switches.
	dropAnswers  int           // drop the next N poll answers that carry a batch
	fail5xx      int           // answer the next N polls 503
	connectDelay time.Duration // hold connects this long

	// Records.
	connects  int
	deletes   []fakeDelete
	sendReqs  int
	sendSizes []int // frames per send request
	polls     []fakePoll
	dropped   int    // poll answers dropped
	refetches int    // polls that asked again for a batch formed already
	orderErr  string // the first message out of client-id order
}

type fakeDelete struct {
	session string
	lastID  uint64 // the last message the session got
}

type fakePoll struct {
	session string
	ack     uint64
	wait    int64
}

type fakeSession struct {
	id      string
	user    string
	queue   []byte // frames not in a batch yet
	batch   uint64 // the last batch formed
	held    []byte // batch `batch`, until acknowledged; nil once it is
	ended   bool   // the next poll gets 410 with the queue
	gone    bool   // forgotten: 404
	fail    bool   // answer the poll held 503
	conv    uint64
	seq     uint64
	lastID  uint64
	polls   int           // polls begun: a new one ends a held one
	changed chan struct{} // closed and replaced on every change
}

func (s *fakeSession) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeSession) push(m wire.Msg) { s.queue = m.AppendFrame(s.queue) }

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{sessions: map[string]*fakeSession{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func frames(ms ...wire.Msg) []byte {
	var b []byte
	for _, m := range ms {
		b = m.AppendFrame(b)
	}
	return b
}

func answer(w http.ResponseWriter, status int, batch uint64, body []byte) {
	if batch > 0 {
		w.Header().Set(wire.HTTPBatchHeader, strconv.FormatUint(batch, 10))
	}
	if len(body) > 0 {
		w.Header().Set("Content-Type", wire.HTTPContentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ServeHTTP implements http.Handler.
func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case r.URL.Path == wire.HTTPConnectPath && r.Method == http.MethodPost:
		f.connect(w, body)
		return
	case r.URL.Path == wire.HTTPSendPath && r.Method == http.MethodPost,
		r.URL.Path == wire.HTTPPollPath && r.Method == http.MethodGet,
		r.URL.Path == wire.HTTPSessionPath && r.Method == http.MethodDelete:
	default:
		http.Error(w, "no such request", http.StatusNotFound)
		return
	}
	id := r.URL.Query().Get(wire.HTTPSessionParam)
	f.mu.Lock()
	s := f.sessions[id]
	if s == nil {
		f.mu.Unlock()
		answer(w, http.StatusNotFound, 0, frames(&wire.Error{Code: wire.CodeNotHello, Text: "no such session"}))
		return
	}
	switch r.URL.Path {
	case wire.HTTPSendPath:
		f.send(w, s, body) // unlocks
	case wire.HTTPPollPath:
		f.poll(w, r, s) // unlocks
	default:
		f.deletes = append(f.deletes, fakeDelete{session: id, lastID: s.lastID})
		s.ended = true
		s.notify()
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

func (f *fakeServer) connect(w http.ResponseWriter, body []byte) {
	f.mu.Lock()
	f.connects++
	delay := f.connectDelay
	f.mu.Unlock()
	time.Sleep(delay)
	fb, _, err := wire.Split(body, wire.DefaultMaxFrame)
	var h *wire.Hello
	if err == nil {
		m, _ := wire.Decode(fb)
		h, _ = m.(*wire.Hello)
	}
	switch {
	case h == nil:
		answer(w, http.StatusGone, 0, frames(&wire.Error{Code: wire.CodeNotHello, Text: "hello first"}))
		return
	case h.User == "refused":
		answer(w, http.StatusGone, 0, frames(&wire.Error{Code: wire.CodeAuth, Text: "bad token: missing"}))
		return
	}
	f.mu.Lock()
	f.next++
	s := &fakeSession{id: fmt.Sprintf("%032x", f.next), user: h.User, batch: 1, changed: make(chan struct{})}
	s.held = frames(&wire.Ready{ServerTime: 1, HeartbeatMS: 15000, MaxFrame: wire.DefaultMaxFrame})
	f.sessions[s.id] = s
	held := s.held
	f.mu.Unlock()
	w.Header().Set(wire.HTTPSessionHeader, s.id)
	answer(w, http.StatusOK, 1, held)
}

// send handles a send request's frames; it is called locked and unlocks.
func (f *fakeServer) send(w http.ResponseWriter, s *fakeSession, body []byte) {
	f.sendReqs++
	n := 0
	for off := 0; off < len(body); {
		fb, k, err := wire.Split(body[off:], wire.DefaultMaxFrame)
		if err != nil {
			f.mu.Unlock()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		off += k
		n++
		m, err := wire.Decode(fb)
		if err != nil {
			f.mu.Unlock()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch m := m.(type) {
		case *wire.Open:
			s.conv = 100 + uint64(f.next)
			s.push(&wire.Ack{ClientID: m.ClientID, Conv: s.conv, ServerTime: 2})
		case *wire.Message:
			if m.ClientID <= s.lastID && f.orderErr == "" {
				f.orderErr = fmt.Sprintf("session %s: message %d after %d", s.id, m.ClientID, s.lastID)
			}
			s.lastID = m.ClientID
			s.seq++
			s.push(&wire.Ack{ClientID: m.ClientID, Conv: m.Conv, Seq: s.seq, ServerTime: 3})
			s.push(&wire.Delivery{Conv: m.Conv, Seq: s.seq, Sender: []byte("echo"), SenderRole: wire.RoleCustomer, Kind: m.Kind, ClientID: m.ClientID, ServerTime: 3, Body: m.Body})
		case *wire.Ping:
			s.push(&wire.Pong{Nonce: m.Nonce})
		}
	}
	f.sendSizes = append(f.sendSizes, n)
	s.notify()
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// poll serves a poll; it is called locked and unlocks.
func (f *fakeServer) poll(w http.ResponseWriter, r *http.Request, s *fakeSession) {
	q := r.URL.Query()
	ack, _ := strconv.ParseUint(q.Get(wire.HTTPAckParam), 10, 64)
	wait, _ := strconv.ParseInt(q.Get(wire.HTTPWaitParam), 10, 64)
	f.polls = append(f.polls, fakePoll{session: s.id, ack: ack, wait: wait})
	if f.fail5xx > 0 {
		f.fail5xx--
		f.mu.Unlock()
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	s.polls++
	mine := s.polls
	s.notify() // ends a held poll
	switch {
	case ack == s.batch:
		s.held = nil // the client holds it
	case ack+1 == s.batch && s.held != nil:
		f.refetches++
	}
	deadline := time.Now().Add(time.Duration(min(wait, wire.HTTPMaxWaitMS)) * time.Millisecond)
	for {
		switch {
		case s.gone:
			f.mu.Unlock()
			answer(w, http.StatusNotFound, 0, frames(&wire.Error{Code: wire.CodeNotHello, Text: "no such session"}))
			return
		case mine != s.polls:
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		case s.fail:
			s.fail = false
			f.mu.Unlock()
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if s.held == nil && len(s.queue) > 0 && !s.ended {
			s.batch++
			s.held, s.queue = s.queue, nil
		}
		if s.held != nil {
			held, batch := s.held, s.batch
			if f.dropAnswers > 0 {
				f.dropAnswers--
				f.dropped++
				f.mu.Unlock()
				c, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = c.Close()
				}
				return
			}
			f.mu.Unlock()
			answer(w, http.StatusOK, batch, held)
			return
		}
		if s.ended {
			body := s.queue
			s.queue = nil
			delete(f.sessions, s.id)
			f.mu.Unlock()
			answer(w, http.StatusGone, 0, body)
			return
		}
		d := time.Until(deadline)
		if d <= 0 {
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ch := s.changed
		f.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-ch:
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		t.Stop()
		f.mu.Lock()
	}
}

// session returns the id of user's session.
func (f *fakeServer) session(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, s := range f.sessions {
		if s.user == user {
			return id
		}
	}
	return ""
}

// end ends a session as the server does on an error 1xx: ms, then the
// error frame, are queued and the next poll gets 410.
func (f *fakeServer) end(id string, code wire.Code, ms ...wire.Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[id]
	for _, m := range ms {
		s.push(m)
	}
	s.push(&wire.Error{Code: code, Text: "ended by the test"})
	s.ended = true
	s.notify()
}

// forget loses a session as a restart does: its polls get 404.
func (f *fakeServer) forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[id]
	delete(f.sessions, id)
	s.gone = true
	s.notify()
}

// failHeld answers the poll session id holds 503.
func (f *fakeServer) failHeld(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[id]
	s.fail = true
	s.notify()
}

func (f *fakeServer) with(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// pollUser is a test actor: it records what its link delivers. Its
// fields are read under its loop's lock.
type pollUser struct {
	id      string
	link    behavior.Link
	ready   int
	conv    uint64
	acks    []uint64 // client ids acknowledged, in order
	echoes  []uint64 // client ids of the deliveries, in order
	seqs    []uint64 // sequences of the deliveries, in order
	codes   []wire.Code
	dropped []error
}

// Receive implements behavior.Actor.
func (u *pollUser) Receive(_ int, m wire.Msg) {
	switch m := m.(type) {
	case *wire.Ready:
		u.ready++
	case *wire.Ack:
		u.acks = append(u.acks, m.ClientID)
		u.conv = m.Conv
	case *wire.Delivery:
		u.echoes = append(u.echoes, m.ClientID)
		u.seqs = append(u.seqs, m.Seq)
	case *wire.Error:
		u.codes = append(u.codes, m.Code)
	}
}

// Timer implements behavior.Actor.
func (u *pollUser) Timer(uint64) {}

// Dropped implements behavior.Actor.
func (u *pollUser) Dropped(_ int, err error) { u.dropped = append(u.dropped, err) }

// hello dials u on lp and says hello, then sends ms. It must be called
// under lp's lock.
func (u *pollUser) hello(t *testing.T, lp *Loop, ms ...wire.Msg) {
	t.Helper()
	l, err := lp.Dial(u, 0)
	if err != nil {
		t.Fatalf("dial %s: %v", u.id, err)
	}
	u.link = l
	for _, m := range append([]wire.Msg{&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: u.id, Device: "d0"}}, ms...) {
		if err := l.Send(m); err != nil {
			t.Fatalf("send %s: %v", m.Type(), err)
		}
	}
}

func (u *pollUser) message(id uint64) *wire.Message {
	return &wire.Message{ClientID: id, Conv: u.conv, Kind: wire.KindText, Body: []byte("m" + strconv.FormatUint(id, 10))}
}

// waitFor polls cond under lp's lock until it holds, failing after 10s.
func waitFor(t *testing.T, lp *Loop, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		lp.Do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inOrder checks that got is from, from+1, ..., from+n-1.
func inOrder(t *testing.T, what string, got []uint64, from uint64, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%s: %d, want %d", what, len(got), n)
	}
	for i, v := range got {
		if v != from+uint64(i) {
			t.Errorf("%s: #%d is %d, want %d (lost, duplicated or reordered)", what, i, v, from+uint64(i))
			return
		}
	}
}

func newPollRuntime(t *testing.T, f *fakeServer, po PollOptions) *Runtime {
	t.Helper()
	rt, err := New(Options{Addr: f.addr(), Loops: 1, Poll: &po})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

// roundTrip says hello and opens (both sent before the session exists),
// then sends n messages, half in one go and half one at a time, and
// checks that every one is acknowledged and echoed once, in order.
func roundTrip(t *testing.T, rt *Runtime, u *pollUser, n int) {
	t.Helper()
	lp := rt.Loop(0)
	lp.Do(func() { u.hello(t, lp, &wire.Open{ClientID: 1, Channel: "app"}) })
	waitFor(t, lp, "ready and the open's ack", func() bool { return u.ready == 1 && len(u.acks) == 1 })
	id := uint64(2)
	lp.Do(func() {
		for range n / 2 {
			if err := u.link.Send(u.message(id)); err != nil {
				t.Fatalf("send: %v", err)
			}
			id++
		}
	})
	for range n - n/2 {
		lp.Do(func() {
			if err := u.link.Send(u.message(id)); err != nil {
				t.Fatalf("send: %v", err)
			}
		})
		id++
		runtime.Gosched()
	}
	waitFor(t, lp, fmt.Sprintf("%d acks and echoes", n), func() bool { return len(u.acks) >= n+1 && len(u.echoes) >= n })
	time.Sleep(50 * time.Millisecond) // a duplicate would come now
	lp.Do(func() {
		inOrder(t, "acks", u.acks, 1, n+1)
		inOrder(t, "echoes", u.echoes, 2, n)
		inOrder(t, "delivery sequences", u.seqs, 1, n)
		if len(u.dropped) > 0 || len(u.codes) > 0 {
			t.Errorf("dropped %v, errors %v", u.dropped, u.codes)
		}
	})
}

// TestPollLongRoundTrip plays hello, open and 200 messages over long
// polling: order is kept, frames sent while a send is in flight go in a
// later request, and the stats count the session and its requests.
func TestPollLongRoundTrip(t *testing.T) {
	f := newFakeServer(t)
	rt := newPollRuntime(t, f, PollOptions{Wait: 2 * time.Second})
	u := &pollUser{id: "long"}
	roundTrip(t, rt, u, 200)
	f.with(func() {
		if f.orderErr != "" {
			t.Error(f.orderErr)
		}
		if len(f.sendSizes) < 2 {
			t.Errorf("%d send requests for 201 frames sent in two ways, want several", len(f.sendSizes))
		}
		prev := uint64(1)
		for _, p := range f.polls {
			if p.wait != 2000 {
				t.Errorf("long poll with wait=%d, want 2000", p.wait)
			}
			if p.ack != prev && p.ack != prev+1 {
				t.Errorf("poll ack %d after %d", p.ack, prev)
			}
			prev = p.ack
		}
		t.Logf("%d send requests (frames each: %v), %d polls", len(f.sendSizes), f.sendSizes, len(f.polls))
	})
	s := rt.Stats()
	t.Logf("stats %+v", s)
	if s.Dialed != 1 || s.Open != 1 || s.DialErrors != 0 {
		t.Errorf("stats %+v: want 1 dialed, 1 open, no dial error", s)
	}
	if s.Requests < 3 || s.BytesIn == 0 || s.BytesOut == 0 {
		t.Errorf("stats %+v: requests and bytes not counted", s)
	}
}

// TestPollShortRoundTrip plays the same over short polling: polls with
// wait=0, one per interval.
func TestPollShortRoundTrip(t *testing.T) {
	f := newFakeServer(t)
	const interval = 20 * time.Millisecond
	rt := newPollRuntime(t, f, PollOptions{Interval: interval})
	u := &pollUser{id: "short"}
	start := time.Now()
	roundTrip(t, rt, u, 40)
	elapsed := time.Since(start)
	f.with(func() {
		if f.orderErr != "" {
			t.Error(f.orderErr)
		}
		for _, p := range f.polls {
			if p.wait != 0 {
				t.Errorf("short poll with wait=%d, want 0", p.wait)
			}
		}
		if most := int(elapsed/interval) + 2; len(f.polls) > most {
			t.Errorf("%d polls in %v, at most %d expected at one per %v", len(f.polls), elapsed, most, interval)
		}
		if len(f.polls) < 3 {
			t.Errorf("only %d polls", len(f.polls))
		}
		t.Logf("%d polls in %v", len(f.polls), elapsed.Round(time.Millisecond))
	})
}

// TestPollLostAnswer drops poll answers after their batch was formed, and
// fails polls with 503: the link fetches the batch again with the same
// ack, so nothing is lost or duplicated.
func TestPollLostAnswer(t *testing.T) {
	f := newFakeServer(t)
	rt := newPollRuntime(t, f, PollOptions{Wait: 2 * time.Second})
	lp := rt.Loop(0)
	u := &pollUser{id: "lossy"}
	lp.Do(func() { u.hello(t, lp, &wire.Open{ClientID: 1, Channel: "app"}) })
	waitFor(t, lp, "ready", func() bool { return len(u.acks) == 1 })
	f.with(func() { f.dropAnswers = 3 })
	id := uint64(2)
	for range 30 {
		lp.Do(func() { _ = u.link.Send(u.message(id)) })
		id++
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, lp, "30 acks", func() bool { return len(u.acks) >= 31 && len(u.echoes) >= 30 })
	// The poll held and the next two fail: three retries.
	f.with(func() { f.fail5xx = 2 })
	f.failHeld(f.session(u.id))
	for range 10 {
		lp.Do(func() { _ = u.link.Send(u.message(id)) })
		id++
	}
	waitFor(t, lp, "40 acks", func() bool {
		left := 0
		f.with(func() { left = f.fail5xx })
		return left == 0 && len(u.acks) >= 41 && len(u.echoes) >= 40
	})
	time.Sleep(50 * time.Millisecond)
	lp.Do(func() {
		inOrder(t, "acks", u.acks, 1, 41)
		inOrder(t, "echoes", u.echoes, 2, 40)
		if len(u.dropped) > 0 {
			t.Errorf("dropped: %v", u.dropped)
		}
	})
	f.with(func() {
		if f.dropped != 3 || f.refetches < 3 || f.fail5xx != 0 {
			t.Errorf("%d answers dropped (want 3), %d batches fetched again (want 3 or more), %d 503s left", f.dropped, f.refetches, f.fail5xx)
		}
		t.Logf("%d answers dropped, %d batches fetched again, %d polls", f.dropped, f.refetches, len(f.polls))
	})
}

// TestPollRetriesExhausted fails every poll: the link gives up after
// pollRetries retries and reports Dropped once.
func TestPollRetriesExhausted(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t)
	rt := newPollRuntime(t, f, PollOptions{Wait: time.Second})
	lp := rt.Loop(0)
	u := &pollUser{id: "failing"}
	f.with(func() { f.fail5xx = 1000 })
	lp.Do(func() { u.hello(t, lp) })
	waitFor(t, lp, "Dropped", func() bool { return len(u.dropped) > 0 })
	time.Sleep(100 * time.Millisecond)
	lp.Do(func() {
		var he *HTTPError
		if len(u.dropped) != 1 || !errors.As(u.dropped[0], &he) || he.Status != http.StatusServiceUnavailable {
			t.Errorf("dropped %v: want once, with HTTP 503", u.dropped)
		}
		t.Logf("dropped: %v", u.dropped)
	})
	f.with(func() {
		if n := 1000 - f.fail5xx; n != pollRetries+1 {
			t.Errorf("%d polls made, want %d", n, pollRetries+1)
		}
	})
	if s := rt.Stats(); s.Open != 0 || s.Dialed != 1 {
		t.Errorf("stats %+v: want 1 dialed, 0 open", s)
	}
}

// TestPollGone ends a session on the server side: the held poll is
// answered 410 with the frames queued, the last the error frame; the link
// delivers them and then reports Dropped once.
func TestPollGone(t *testing.T) {
	f := newFakeServer(t)
	rt := newPollRuntime(t, f, PollOptions{Wait: 5 * time.Second})
	lp := rt.Loop(0)
	u := &pollUser{id: "gone"}
	lp.Do(func() { u.hello(t, lp, &wire.Open{ClientID: 1, Channel: "app"}) })
	waitFor(t, lp, "ready", func() bool { return len(u.acks) == 1 })
	time.Sleep(20 * time.Millisecond) // the next poll is held
	f.end(f.session(u.id), wire.CodeIdle, &wire.Delivery{Conv: 7, Seq: 99, Sender: []byte("x"), ClientID: 42, Body: []byte("last")})
	waitFor(t, lp, "Dropped", func() bool { return len(u.dropped) > 0 })
	time.Sleep(50 * time.Millisecond)
	lp.Do(func() {
		if len(u.echoes) != 1 || u.echoes[0] != 42 || len(u.codes) != 1 || u.codes[0] != wire.CodeIdle {
			t.Errorf("delivered %v, errors %v: want the delivery 42, then error 105", u.echoes, u.codes)
		}
		var he *HTTPError
		if len(u.dropped) != 1 || !errors.As(u.dropped[0], &he) || he.Status != http.StatusGone || he.Code != wire.CodeIdle {
			t.Errorf("dropped %v: want once, with HTTP 410 and error 105", u.dropped)
		} else if !strings.Contains(u.dropped[0].Error(), "410") {
			t.Errorf("error %q does not name the code", u.dropped[0])
		}
		t.Logf("dropped: %v", u.dropped)
		if err := u.link.Send(u.message(2)); !errors.Is(err, ErrLinkClosed) {
			t.Errorf("send after the end: %v, want ErrLinkClosed", err)
		}
	})
	if s := rt.Stats(); s.Open != 0 {
		t.Errorf("stats %+v: want 0 open", s)
	}
}

// TestPollNotFound forgets a session on the server side (a restart): the
// poll is answered 404 and the link reports Dropped once.
func TestPollNotFound(t *testing.T) {
	f := newFakeServer(t)
	rt := newPollRuntime(t, f, PollOptions{Wait: 5 * time.Second})
	lp := rt.Loop(0)
	u := &pollUser{id: "lost"}
	lp.Do(func() { u.hello(t, lp) })
	waitFor(t, lp, "ready", func() bool { return u.ready == 1 })
	time.Sleep(20 * time.Millisecond)
	f.forget(f.session(u.id))
	waitFor(t, lp, "Dropped", func() bool { return len(u.dropped) > 0 })
	time.Sleep(50 * time.Millisecond)
	lp.Do(func() {
		var he *HTTPError
		if len(u.dropped) != 1 || !errors.As(u.dropped[0], &he) || he.Status != http.StatusNotFound {
			t.Errorf("dropped %v: want once, with HTTP 404", u.dropped)
		}
		if len(u.codes) != 0 {
			t.Errorf("errors %v delivered from a 404", u.codes)
		}
	})
	if s := rt.Stats(); s.Open != 0 {
		t.Errorf("stats %+v: want 0 open", s)
	}
}

// TestPollClose closes links from their actors: an open one (after a
// last message, which still reaches the server), and one whose connect is
// on its way. Each session is deleted and no Dropped is reported.
func TestPollClose(t *testing.T) {
	f := newFakeServer(t)
	rt := newPollRuntime(t, f, PollOptions{Wait: 5 * time.Second})
	lp := rt.Loop(0)
	u := &pollUser{id: "closer"}
	lp.Do(func() { u.hello(t, lp, &wire.Open{ClientID: 1, Channel: "app"}) })
	waitFor(t, lp, "ready", func() bool { return len(u.acks) == 1 })
	id := f.session(u.id)
	time.Sleep(20 * time.Millisecond) // the next poll is held
	lp.Do(func() {
		_ = u.link.Send(u.message(2))
		if err := u.link.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := u.link.Send(u.message(3)); !errors.Is(err, ErrLinkClosed) {
			t.Errorf("send after close: %v, want ErrLinkClosed", err)
		}
	})
	waitFor(t, lp, "the DELETE", func() bool {
		n := 0
		f.with(func() { n = len(f.deletes) })
		return n == 1
	})
	f.with(func() {
		if d := f.deletes[0]; d.session != id || d.lastID != 2 {
			t.Errorf("deleted %+v, want %s after message 2", d, id)
		}
	})

	// Closed while its connect is on its way.
	f.with(func() { f.connectDelay = 200 * time.Millisecond })
	v := &pollUser{id: "early"}
	lp.Do(func() { v.hello(t, lp) })
	time.Sleep(50 * time.Millisecond)
	lp.Do(func() { _ = v.link.Close() })
	waitFor(t, lp, "the second DELETE", func() bool {
		n := 0
		f.with(func() { n = len(f.deletes) })
		return n == 2
	})
	time.Sleep(100 * time.Millisecond)
	lp.Do(func() {
		if len(u.dropped)+len(v.dropped) > 0 {
			t.Errorf("Dropped reported to actors that closed their links: %v %v", u.dropped, v.dropped)
		}
		if v.ready != 0 {
			t.Errorf("ready delivered on a link closed before its connect came back")
		}
	})
	if s := rt.Stats(); s.Open != 0 || s.Dialed != 2 {
		t.Errorf("stats %+v: want 2 dialed, 0 open", s)
	}
}

// TestPollConnectFails connects to nothing, then with a hello the server
// refuses: both report Dropped and count as dial errors; the refusal's
// error frame is delivered first.
func TestPollConnectFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := ln.Addr().String()
	_ = ln.Close()
	rt, err := New(Options{Addr: nowhere, Loops: 1, Poll: &PollOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	lp := rt.Loop(0)
	u := &pollUser{id: "nowhere"}
	lp.Do(func() { u.hello(t, lp) })
	waitFor(t, lp, "Dropped", func() bool { return len(u.dropped) > 0 })
	t.Logf("dropped: %v", u.dropped)
	if s := rt.Stats(); s.DialErrors != 1 || s.Dialed != 0 || s.Open != 0 {
		t.Errorf("stats %+v: want 1 dial error", s)
	}

	f := newFakeServer(t)
	rt2 := newPollRuntime(t, f, PollOptions{})
	lp = rt2.Loop(0)
	v := &pollUser{id: "refused"}
	lp.Do(func() { v.hello(t, lp) })
	waitFor(t, lp, "Dropped", func() bool { return len(v.dropped) > 0 })
	time.Sleep(50 * time.Millisecond)
	lp.Do(func() {
		var he *HTTPError
		if len(v.codes) != 1 || v.codes[0] != wire.CodeAuth {
			t.Errorf("errors %v, want 103", v.codes)
		}
		if len(v.dropped) != 1 || !errors.As(v.dropped[0], &he) || he.Status != http.StatusGone || he.Code != wire.CodeAuth {
			t.Errorf("dropped %v: want once, with HTTP 410 and error 103", v.dropped)
		}
	})
	if s := rt2.Stats(); s.DialErrors != 1 || s.Dialed != 0 || s.Open != 0 {
		t.Errorf("stats %+v: want 1 dial error", s)
	}
}

// TestPollRuntimeClose closes a runtime whose links hold long polls, one
// sends and one waits to retry: Close returns at once, reports no
// Dropped, and leaves no goroutine.
func TestPollRuntimeClose(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := &fakeServer{sessions: map[string]*fakeSession{}}
	f.srv = httptest.NewServer(f)
	rt, err := New(Options{Addr: f.addr(), Loops: 2, Poll: &PollOptions{Wait: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]*pollUser, 20)
	for i := range users {
		users[i] = &pollUser{id: fmt.Sprintf("held-%d", i)}
		lp := rt.Loop(i)
		lp.Do(func() { users[i].hello(t, lp) })
	}
	for i, u := range users {
		waitFor(t, rt.Loop(i), "ready", func() bool { return u.ready == 1 })
	}
	time.Sleep(50 * time.Millisecond) // polls held
	f.with(func() { f.fail5xx = 1000 })
	f.failHeld(f.session(users[0].id)) // its polls fail from now: a retry waits
	time.Sleep(20 * time.Millisecond)
	lp := rt.Loop(1)
	lp.Do(func() {
		for id := range uint64(50) {
			_ = users[1].link.Send(users[1].message(id + 1))
		}
	})
	// Waiting for the held polls would take their 30s: "at once" is well
	// under that, however busy the machine.
	start := time.Now()
	rt.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Close took %v", d)
	}
	for i, u := range users {
		rt.Loop(i).Do(func() {
			if len(u.dropped) > 0 {
				t.Errorf("user %d dropped after Close: %v", i, u.dropped)
			}
		})
	}
	if s := rt.Stats(); s.Dialed != int64(len(users)) {
		t.Errorf("stats %+v", s)
	}
	// A runtime that closes says goodbye: every session is deleted, as
	// closing long connections ends them, so the server does not keep its
	// users online until their idle timeout.
	f.with(func() {
		if len(f.deletes) != len(users) {
			t.Errorf("%d sessions deleted by Close, want %d", len(f.deletes), len(users))
		}
	})
	f.srv.Close()
	goleak.VerifyNone(t, append(refservertest.LeakOptions(), ignore)...)
}

// TestPollManyLinks holds 300 long-polling links, logs the heap and stack
// bytes per link (client and in-process fake server together), and closes
// them: every session is deleted.
func TestPollManyLinks(t *testing.T) {
	const n = 300
	f := newFakeServer(t)
	rt, err := New(Options{Addr: f.addr(), Loops: 2, Poll: &PollOptions{Wait: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	stack := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.StackInuse
	}
	heap0, stack0, g0 := heapBytes(), stack(), runtime.NumGoroutine()
	users := make([]*pollUser, n)
	for i := range users {
		users[i] = &pollUser{id: fmt.Sprintf("many-%d", i)}
		lp := rt.Loop(i)
		lp.Do(func() { users[i].hello(t, lp) })
	}
	for i, u := range users {
		waitFor(t, rt.Loop(i), "ready", func() bool { return u.ready == 1 && u.dropped == nil })
	}
	time.Sleep(100 * time.Millisecond) // polls held
	heap1, stack1, g1 := heapBytes(), stack(), runtime.NumGoroutine()
	t.Logf("%d held long polls: heap %d B, stacks %d B, %d goroutines per link (client and fake server together); stats %+v",
		n, (int64(heap1)-int64(heap0))/n, (int64(stack1)-int64(stack0))/n, (g1-g0)/n, rt.Stats())
	for i, u := range users {
		rt.Loop(i).Do(func() { _ = u.link.Close() })
	}
	waitFor(t, rt.Loop(0), "every DELETE", func() bool {
		k := 0
		f.with(func() { k = len(f.deletes) })
		return k == n
	})
	if s := rt.Stats(); s.Open != 0 || s.Dialed != n {
		t.Errorf("stats %+v: want %d dialed, 0 open", s, n)
	}
}

// TestTCPByteCounts checks Stats.BytesOut and BytesIn over TCP: the
// frames' bytes.
func TestTCPByteCounts(t *testing.T) {
	srv := refservertest.NewServer()
	defer srv.Close()
	rt, err := New(Options{Addr: srv.Addr, Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	lp := rt.Loop(0)
	u := &pollUser{id: "tcp-bytes"}
	lp.Do(func() { u.hello(t, lp) })
	waitFor(t, lp, "ready", func() bool { return u.ready == 1 })
	hello := frames(&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: u.id, Device: "d0"})
	if s := rt.Stats(); s.BytesOut != int64(len(hello)) || s.BytesIn < 10 || s.Requests != 0 {
		t.Errorf("stats %+v: want %d bytes out (the hello), the ready's in, no request", s, len(hello))
	}
}
