package poll_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/goleak"

	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/transport/poll"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, refservertest.LeakOptions()...)
}

// lockedSecret signs the tokens of the "locked" tenant, a copy of demo
// that admits only a hello with a valid token.
const lockedSecret = "poll-test-secret-0123456789"

// env is a polling server on loopback with the demo tenant and "locked".
type env struct {
	p    *poll.Server
	core *server.Server
	set  *metrics.Set
	base string
}

func start(t *testing.T, adjust func(*server.Config)) *env {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Tick = 50 * time.Millisecond
	if adjust != nil {
		adjust(&cfg)
	}
	set := metrics.NewSet()
	core := server.New(cfg, store.NewMem(0), set)
	for _, tc := range []tenant.Config{tenant.Demo(), locked()} {
		rt, err := tenant.Build(tc)
		if err != nil {
			t.Fatal(err)
		}
		if err := core.LoadTenant(rt); err != nil {
			t.Fatal(err)
		}
	}
	p := poll.New(core, "127.0.0.1:0", poll.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		core.Close()
	})
	return &env{p: p, core: core, set: set, base: "http://" + p.Addr()}
}

func locked() tenant.Config {
	c := tenant.Demo()
	c.ID = "locked"
	c.Secret = lockedSecret
	return c
}

// metric returns the value of one series of the server's metrics.
func (e *env) metric(t *testing.T, series string) float64 {
	t.Helper()
	var b bytes.Buffer
	e.set.WritePrometheus(&b)
	for line := range strings.SplitSeq(b.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// waitFor polls cond until it holds, failing the test after 10s: only a
// server that never gets there takes that long.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// answer is an HTTP answer of the binding, its frames decoded.
type answer struct {
	status  int
	session string
	batch   uint64
	body    []byte
	msgs    []wire.Msg
}

// last returns the answer's last message (nil when none).
func (a answer) last() wire.Msg {
	if len(a.msgs) == 0 {
		return nil
	}
	return a.msgs[len(a.msgs)-1]
}

// client is a blocking client of the HTTP binding, as PROTOCOL.md
// describes it. It is safe for concurrent use as long as the callers share
// no session state they race on (ack).
type client struct {
	base   string
	hc     *http.Client
	id     string
	ack    uint64
	nextID uint64
}

func newClient(t *testing.T, e *env, keepAlive bool) *client {
	tr := &http.Transport{DisableKeepAlives: !keepAlive}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{base: e.base, hc: &http.Client{Transport: tr, Timeout: 20 * time.Second}, nextID: 1000}
}

func (c *client) do(method, path string, query string, body []byte) (answer, error) {
	req, err := http.NewRequest(method, c.base+path+query, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", wire.HTTPContentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("read answer: %w", err)
	}
	a := answer{status: resp.StatusCode, session: resp.Header.Get(wire.HTTPSessionHeader), body: b}
	if v := resp.Header.Get(wire.HTTPBatchHeader); v != "" {
		if a.batch, err = strconv.ParseUint(v, 10, 64); err != nil {
			return a, fmt.Errorf("batch header %q: %w", v, err)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct == wire.HTTPContentType {
		if a.msgs, err = decodeFrames(b); err != nil {
			return a, err
		}
	} else if len(b) > 0 && resp.StatusCode < 400 {
		return a, fmt.Errorf("a %d answer of content type %q", resp.StatusCode, ct)
	}
	return a, nil
}

func decodeFrames(b []byte) ([]wire.Msg, error) {
	var msgs []wire.Msg
	for len(b) > 0 {
		body, n, err := wire.Split(b, wire.HardMaxFrame)
		if err != nil {
			return msgs, fmt.Errorf("answer body: %w", err)
		}
		m, err := wire.Decode(slices.Clone(body))
		if err != nil {
			return msgs, fmt.Errorf("answer body: %w", err)
		}
		msgs = append(msgs, m)
		b = b[n:]
	}
	return msgs, nil
}

func encode(msgs ...wire.Msg) []byte {
	var b []byte
	for _, m := range msgs {
		b = m.AppendFrame(b)
	}
	return b
}

// must returns a function that fails t on an error and returns the answer:
// must(t)(c.poll(0)).
func must(t *testing.T) func(answer, error) answer {
	return func(a answer, err error) answer {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
}

// connect says hello (and msgs) and keeps the session id on 200.
func (c *client) connect(t *testing.T, h *wire.Hello, msgs ...wire.Msg) answer {
	t.Helper()
	a := must(t)(c.do(http.MethodPost, wire.HTTPConnectPath, "", encode(append([]wire.Msg{h}, msgs...)...)))
	if a.status == http.StatusOK {
		c.id, c.ack = a.session, a.batch
	}
	return a
}

func (c *client) connectAs(t *testing.T, role wire.Role, user string) answer {
	t.Helper()
	a := c.connect(t, &wire.Hello{Role: role, Tenant: "demo", User: user, Device: "web"})
	if a.status != http.StatusOK {
		t.Fatalf("connect %s: %d %v", user, a.status, a.msgs)
	}
	return a
}

func (c *client) send(msgs ...wire.Msg) (answer, error) {
	return c.sendRaw(encode(msgs...))
}

func (c *client) sendRaw(body []byte) (answer, error) {
	return c.do(http.MethodPost, wire.HTTPSendPath, "?"+wire.HTTPSessionParam+"="+c.id, body)
}

// pollAck polls with an explicit ack, not touching c.ack.
func (c *client) pollAck(ack uint64, wait time.Duration) (answer, error) {
	q := fmt.Sprintf("?%s=%s&%s=%d&%s=%d", wire.HTTPSessionParam, c.id, wire.HTTPAckParam, ack, wire.HTTPWaitParam, wait.Milliseconds())
	return c.do(http.MethodGet, wire.HTTPPollPath, q, nil)
}

// poll polls with the last batch held and moves on when a batch comes.
func (c *client) poll(wait time.Duration) (answer, error) {
	a, err := c.pollAck(c.ack, wait)
	if err == nil && a.status == http.StatusOK {
		c.ack = a.batch
	}
	return a, err
}

// drain polls at once until nothing is queued and returns what came.
func (c *client) drain(t *testing.T) []wire.Msg {
	t.Helper()
	var msgs []wire.Msg
	for {
		a := must(t)(c.poll(0))
		switch a.status {
		case http.StatusNoContent:
			return msgs
		case http.StatusOK:
			msgs = append(msgs, a.msgs...)
		default:
			t.Fatalf("poll: %d %v", a.status, a.msgs)
		}
	}
}

func (c *client) del() (answer, error) {
	return c.do(http.MethodDelete, wire.HTTPSessionPath, "?"+wire.HTTPSessionParam+"="+c.id, nil)
}

func (c *client) id64() uint64 { c.nextID++; return c.nextID }

func wantGone(t *testing.T, a answer, code wire.Code) *wire.Error {
	t.Helper()
	if a.status != http.StatusGone {
		t.Fatalf("answer %d %v, want 410", a.status, a.msgs)
	}
	e, ok := a.last().(*wire.Error)
	if !ok || e.Code != code {
		t.Fatalf("410 ending in %+v, want error %d", a.last(), code)
	}
	return e
}

func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("answer %d %q, want %d", a.status, a.body, status)
	}
}

func types(msgs []wire.Msg) []wire.Type {
	var ts []wire.Type
	for _, m := range msgs {
		ts = append(ts, m.Type())
	}
	return ts
}

// TestConnectReady: the connect answer is batch 1, with the session id,
// and begins with ready.
func TestConnectReady(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	a := c.connectAs(t, wire.RoleCustomer, "c1")
	if len(a.session) != 32 || strings.Trim(a.session, "0123456789abcdef") != "" {
		t.Fatalf("session id %q, want 128 bits in hex", a.session)
	}
	if a.batch != 1 {
		t.Fatalf("connect answered batch %d, want 1", a.batch)
	}
	r, ok := a.msgs[0].(*wire.Ready)
	if !ok {
		t.Fatalf("batch 1 %v, want ready first", types(a.msgs))
	}
	if r.HeartbeatMS != uint64(server.DefaultConfig().Heartbeat.Milliseconds()) || r.MaxFrame != wire.DefaultMaxFrame {
		t.Fatalf("ready %+v", r)
	}
	if n := e.core.Hub().Devices("demo", "c1"); n != 1 {
		t.Fatalf("%d devices registered, want 1", n)
	}
	if e.metric(t, "swarmdesk_http_requests_total") != 1 {
		t.Fatal("the connect was not counted")
	}
	// A short poll with nothing queued answers at once.
	t0 := time.Now()
	wantStatus(t, must(t)(c.poll(0)), http.StatusNoContent)
	if time.Since(t0) > 10*time.Second { // a held one would wait up to a minute
		t.Fatal("a short poll was held")
	}
	// The frames of a connect after the hello are handled too, and their
	// answers come in batch 1.
	c2 := newClient(t, e, true)
	a = c2.connect(t, &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c2"}, &wire.Ping{Nonce: 7})
	wantStatus(t, a, http.StatusOK)
	if p, ok := a.last().(*wire.Pong); !ok || p.Nonce != 7 {
		t.Fatalf("batch 1 %v, want the pong last", types(a.msgs))
	}
}

// TestBatches: what open causes is fetched by poll; an answer lost is
// fetched again, identical, with the same ack; the next ack moves on with
// nothing lost or duplicated; an ack out of line is refused.
func TestBatches(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	c.connectAs(t, wire.RoleCustomer, "c1")
	openID := c.id64()
	wantStatus(t, must(t)(c.send(&wire.Open{ClientID: openID, Channel: "app"})), http.StatusNoContent)

	first := must(t)(c.pollAck(1, 0))
	wantStatus(t, first, http.StatusOK)
	if first.batch != 2 {
		t.Fatalf("batch %d, want 2", first.batch)
	}
	if got := types(first.msgs); !slices.Equal(got, []wire.Type{wire.TAck, wire.TMenu, wire.TDelivery}) {
		t.Fatalf("batch 2 %v, want ack, menu, delivery", got)
	}
	ack := first.msgs[0].(*wire.Ack)
	if ack.ClientID != openID || ack.Conv == 0 {
		t.Fatalf("ack %+v", ack)
	}
	if d := first.msgs[2].(*wire.Delivery); d.SenderRole != wire.RoleBot {
		t.Fatalf("greeting %+v, want the bot's", d)
	}

	// The answer was lost: the same ack gets the very same batch.
	again := must(t)(c.pollAck(1, 0))
	if again.status != http.StatusOK || again.batch != 2 || !bytes.Equal(again.body, first.body) {
		t.Fatalf("re-poll: %d batch %d, want batch 2 again, identical", again.status, again.batch)
	}
	// Acknowledged, it is gone: nothing new.
	wantStatus(t, must(t)(c.pollAck(2, 0)), http.StatusNoContent)

	msgID := c.id64()
	wantStatus(t, must(t)(c.send(&wire.Message{ClientID: msgID, Conv: ack.Conv, Kind: wire.KindText, Body: []byte("hello")})), http.StatusNoContent)
	third := must(t)(c.pollAck(2, 0))
	if third.status != http.StatusOK || third.batch != 3 {
		t.Fatalf("poll: %d batch %d, want batch 3", third.status, third.batch)
	}
	if len(third.msgs) < 2 {
		t.Fatalf("batch 3 %v, want the ack and the bot's answer", types(third.msgs))
	}
	if a, ok := third.msgs[0].(*wire.Ack); !ok || a.ClientID != msgID || a.Seq == 0 {
		t.Fatalf("batch 3 begins %+v, want the message's ack", third.msgs[0])
	}
	for _, m := range third.msgs[1:] {
		if d, ok := m.(*wire.Delivery); ok && d.SenderRole == wire.RoleBot || m.Type() == wire.TMenu {
			continue
		}
		t.Fatalf("batch 3 %v: %+v, want only the bot's answer after the ack", types(third.msgs), m)
	}
	// An ack that is neither the last batch nor the one before: 400.
	for _, bad := range []uint64{1, 4, 9} {
		a := must(t)(c.pollAck(bad, 0))
		if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "batch") {
			t.Fatalf("ack=%d: %d %q, want 400", bad, a.status, a.body)
		}
	}
	wantStatus(t, must(t)(c.pollAck(3, 0)), http.StatusNoContent)
}

// TestBatchLimit: a batch carries whole frames up to HTTPMaxBatch bytes;
// the rest waits for the next poll.
func TestBatchLimit(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxOutbound = 4 << 20 })
	c := newClient(t, e, true)
	c.connectAs(t, wire.RoleCustomer, "c1")
	c.drain(t)
	body := bytes.Repeat([]byte("x"), 400<<10)
	for range 3 {
		if _, err := e.core.Broadcast("demo", wire.KindText, body); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	for {
		a := must(t)(c.poll(0))
		if a.status == http.StatusNoContent {
			break
		}
		wantStatus(t, a, http.StatusOK)
		if len(a.body) > wire.HTTPMaxBatch {
			t.Fatalf("a batch of %d bytes", len(a.body))
		}
		sizes = append(sizes, len(a.msgs))
	}
	if !slices.Equal(sizes, []int{2, 1}) {
		t.Fatalf("batches of %v broadcasts, want [2 1]", sizes)
	}
}

// TestLongPoll: a held poll is answered as soon as a delivery from
// another session reaches it, well before its wait; a new poll ends a held
// one with 204.
func TestLongPoll(t *testing.T) {
	e := start(t, nil)
	agent := newClient(t, e, true)
	agent.connectAs(t, wire.RoleAgent, "a1")
	wantStatus(t, must(t)(agent.send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 5, Groups: []string{"general"}})), http.StatusNoContent)
	agent.drain(t)

	type result struct {
		a   answer
		err error
		dur time.Duration
	}
	held := make(chan result, 1)
	go func() {
		t0 := time.Now()
		a, err := agent.poll(10 * time.Second)
		held <- result{a, err, time.Since(t0)}
	}()
	waitFor(t, "the agent's poll to be held", func() bool { return e.p.HeldPolls() == 1 })

	cust := newClient(t, e, true)
	cust.connectAs(t, wire.RoleCustomer, "c1")
	wantStatus(t, must(t)(cust.send(&wire.Open{ClientID: cust.id64(), Channel: "app"})), http.StatusNoContent)
	var conv uint64
	for _, m := range cust.drain(t) {
		if a, ok := m.(*wire.Ack); ok {
			conv = a.Conv
		}
	}
	wantStatus(t, must(t)(cust.send(&wire.Message{ClientID: cust.id64(), Conv: conv, Kind: wire.KindText, Body: []byte("人工")})), http.StatusNoContent)

	r := <-held
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantStatus(t, r.a, http.StatusOK)
	if r.dur > 5*time.Second {
		t.Fatalf("the held poll was answered after %s", r.dur)
	}
	as, ok := r.a.msgs[0].(*wire.Assignment)
	if !ok || as.Conv != conv || as.Customer != "c1" || len(as.Transcript) == 0 {
		t.Fatalf("held poll got %v, want the assignment with its transcript", types(r.a.msgs))
	}

	// A new poll ends a held one with 204.
	go func() {
		t0 := time.Now()
		a, err := agent.pollAck(agent.ack, 10*time.Second)
		held <- result{a, err, time.Since(t0)}
	}()
	waitFor(t, "the first poll to be held", func() bool { return e.p.HeldPolls() == 1 })
	wantStatus(t, must(t)(agent.pollAck(agent.ack, 0)), http.StatusNoContent)
	r = <-held
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.a.status != http.StatusNoContent || r.dur > 5*time.Second {
		t.Fatalf("the superseded poll: %d after %s, want 204 at once", r.a.status, r.dur)
	}
}

// TestRefusedHello: an unknown tenant or a bad token gets 410 with error
// 103 on connect, and no session.
func TestRefusedHello(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	wantGone(t, c.connect(t, &wire.Hello{Role: wire.RoleCustomer, Tenant: "nope", User: "c1"}), wire.CodeAuth)
	er := wantGone(t, c.connect(t, &wire.Hello{Role: wire.RoleCustomer, Tenant: "locked", User: "c1", Token: "garbage"}), wire.CodeAuth)
	if !strings.Contains(er.Text, "bad token") {
		t.Fatalf("error text %q", er.Text)
	}
	tok := tenant.SignToken(lockedSecret, "locked", wire.RoleCustomer, "c1", time.Now().Add(time.Hour))
	wantStatus(t, c.connect(t, &wire.Hello{Role: wire.RoleCustomer, Tenant: "locked", User: "c1", Token: tok}), http.StatusOK)
	// Anything but hello first: 102.
	a := must(t)(c.do(http.MethodPost, wire.HTTPConnectPath, "", encode(&wire.Ping{Nonce: 1})))
	wantGone(t, a, wire.CodeNotHello)
	a = must(t)(c.do(http.MethodPost, wire.HTTPConnectPath, "", nil))
	wantGone(t, a, wire.CodeNotHello)
	if v := e.metric(t, `swarmdesk_disconnects_total{code="103",reason="auth"}`); v != 2 {
		t.Fatalf("%v auth disconnects counted, want 2", v)
	}
	if v := e.metric(t, `swarmdesk_connections{role="none"}`); v != 0 {
		t.Fatalf("%v sessions pending hello, want 0", v)
	}
}

// TestBadRequests: unknown sessions get 404 with error 102; errors outside
// the protocol get the HTTP status that says so.
func TestBadRequests(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	c.id = "00112233445566778899aabbccddeeff"
	for _, a := range []answer{must(t)(c.poll(0)), must(t)(c.send(&wire.Ping{})), must(t)(c.del())} {
		wantStatus(t, a, http.StatusNotFound)
		if er, ok := a.last().(*wire.Error); !ok || er.Code != wire.CodeNotHello || !strings.Contains(er.Text, "no such session") {
			t.Fatalf("404 with %v, want error 102", a.msgs)
		}
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/v1/nope", http.StatusNotFound},
		{http.MethodGet, wire.HTTPConnectPath, http.StatusMethodNotAllowed},
		{http.MethodPost, wire.HTTPPollPath + "?session=x&ack=1", http.StatusMethodNotAllowed},
		{http.MethodGet, wire.HTTPPollPath + "?ack=1", http.StatusBadRequest},
		{http.MethodPost, wire.HTTPSendPath, http.StatusBadRequest},
	} {
		a := must(t)(c.do(tc.method, tc.path, "", nil))
		if a.status != tc.status || len(a.body) == 0 {
			t.Fatalf("%s %s: %d %q, want %d with a text", tc.method, tc.path, a.status, a.body, tc.status)
		}
	}
	c.connectAs(t, wire.RoleCustomer, "c1")
	for _, q := range []string{"&ack=x", "", "&ack=1&wait=-1"} {
		a := must(t)(c.do(http.MethodGet, wire.HTTPPollPath, "?session="+c.id+q, nil))
		wantStatus(t, a, http.StatusBadRequest)
	}
}

// TestBadFrames: a body that does not parse, or a second hello, ends the
// session as on a connection: 410 with the error, then 404.
func TestBadFrames(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	c.connectAs(t, wire.RoleCustomer, "c1")
	frame := encode(&wire.Ping{Nonce: 300})
	wantGone(t, must(t)(c.sendRaw(append(frame, frame[:len(frame)-1]...))), wire.CodeBadFrame)
	// The next poll gets the error again (the frames went to the send),
	// and then the session is forgotten.
	if a := must(t)(c.poll(0)); len(a.msgs) != 1 {
		t.Fatalf("poll after the fault: %v, want the error alone", types(a.msgs))
	} else {
		wantGone(t, a, wire.CodeBadFrame)
	}
	wantStatus(t, must(t)(c.poll(0)), http.StatusNotFound)

	c.connectAs(t, wire.RoleCustomer, "c1")
	a := must(t)(c.send(&wire.Ping{Nonce: 1}, &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c1"}))
	wantGone(t, a, wire.CodeDupHello)
	// The pong queued before the fault comes with the error.
	if len(a.msgs) != 2 || a.msgs[0].Type() != wire.TPong {
		t.Fatalf("410 with %v, want pong, error", types(a.msgs))
	}

	c.connectAs(t, wire.RoleCustomer, "c1")
	big := []byte{0x7f, 0, 0, 0, byte(wire.TPing)}
	wantGone(t, must(t)(c.sendRaw(big)), wire.CodeTooLarge)
	waitFor(t, "the sessions to be closed", func() bool { return e.core.Hub().Devices("demo", "c1") == 0 })
}

// TestIdle: a session with no request for three heartbeats is ended with
// 105; its next request gets the tombstone (410), and the one after 404. A
// held poll keeps its session alive.
func TestIdle(t *testing.T) {
	// The margins below are what a busy machine may take between two
	// steps of this test: most of three heartbeats.
	const heartbeat = 200 * time.Millisecond
	e := start(t, func(c *server.Config) { c.Heartbeat = heartbeat })
	idle := newClient(t, e, false)
	idle.connectAs(t, wire.RoleCustomer, "idle")
	alive := newClient(t, e, false)
	alive.connectAs(t, wire.RoleCustomer, "alive")
	wantStatus(t, must(t)(alive.poll(0)), http.StatusNoContent)

	done := make(chan error, 1)
	go func() {
		// Held polls, longer than three heartbeats, one after the other.
		for range 2 {
			a, err := alive.poll(3*heartbeat + heartbeat/2)
			if err == nil && a.status != http.StatusNoContent {
				err = fmt.Errorf("held poll: %d %v", a.status, a.msgs)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	waitFor(t, "the idle session to end", func() bool { return e.core.Hub().Devices("demo", "idle") == 0 })
	wantGone(t, must(t)(idle.poll(0)), wire.CodeIdle)
	wantStatus(t, must(t)(idle.poll(0)), http.StatusNotFound)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e.core.Hub().Devices("demo", "alive") != 1 {
		t.Fatal("the long-polling session was ended")
	}
	if v := e.metric(t, `swarmdesk_disconnects_total{code="105",reason="idle"}`); v != 1 {
		t.Fatalf("%v idle disconnects, want 1", v)
	}
	if v := e.metric(t, "swarmdesk_protocol_errors_total"); v != 0 {
		t.Fatalf("idle counted as %v protocol errors", v)
	}

	// A tombstone no poll fetches is forgotten after three heartbeats.
	idle.connectAs(t, wire.RoleCustomer, "idle")
	waitFor(t, "the idle session to end", func() bool { return e.core.Hub().Devices("demo", "idle") == 0 })
	// The long-polling session, quiet since, goes the same way.
	waitFor(t, "the tombstones to be forgotten", func() bool { return e.p.Sessions() == 0 })
	wantStatus(t, must(t)(idle.poll(0)), http.StatusNotFound)
}

// TestDelete: DELETE closes the session: 204, then 404.
func TestDelete(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	c.connectAs(t, wire.RoleCustomer, "c1")
	wantStatus(t, must(t)(c.del()), http.StatusNoContent)
	if e.core.Hub().Devices("demo", "c1") != 0 {
		t.Fatal("the deleted session is still registered")
	}
	wantStatus(t, must(t)(c.poll(0)), http.StatusNotFound)
	wantStatus(t, must(t)(c.del()), http.StatusNotFound)
}

// TestSessionBound: beyond MaxConns sessions, a connect gets 410 with 110;
// once one leaves, a connect is accepted again.
func TestSessionBound(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxConns = 2 })
	if e.p.MaxConns() != 2 {
		t.Fatalf("MaxConns %d", e.p.MaxConns())
	}
	a, b, c := newClient(t, e, true), newClient(t, e, true), newClient(t, e, true)
	a.connectAs(t, wire.RoleCustomer, "a")
	b.connectAs(t, wire.RoleCustomer, "b")
	er := wantGone(t, c.connect(t, &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c"}), wire.CodeOverloaded)
	if er.Text != "server at capacity: 2 connections" {
		t.Fatalf("error text %q", er.Text)
	}
	if v := e.metric(t, `swarmdesk_connections_refused_total{reason="overloaded"}`); v != 1 {
		t.Fatalf("%v refusals counted", v)
	}
	if v := e.metric(t, "swarmdesk_connections_held"); v != 2 {
		t.Fatalf("%v sessions held, want 2", v)
	}
	wantStatus(t, must(t)(a.del()), http.StatusNoContent)
	c.connectAs(t, wire.RoleCustomer, "c")
}

// TestSlowReader: a session that never polls while frames pile up for it
// is ended with 104 once they pass the outbound bound.
func TestSlowReader(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxOutbound = 16 << 10 })
	slow := newClient(t, e, true)
	slow.connectAs(t, wire.RoleCustomer, "slow")
	fast := newClient(t, e, true)
	fast.connectAs(t, wire.RoleCustomer, "fast")
	body := bytes.Repeat([]byte("y"), 2048)
	for range 12 {
		if _, err := e.core.Broadcast("demo", wire.KindText, body); err != nil {
			t.Fatal(err)
		}
		if got := fast.drain(t); len(got) != 1 {
			t.Fatalf("the polling customer got %v", types(got))
		}
	}
	waitFor(t, "the slow reader to be ended", func() bool { return e.core.Hub().Devices("demo", "slow") == 0 })
	a := must(t)(slow.poll(0))
	wantGone(t, a, wire.CodeSlowReader)
	if len(a.msgs) != 1 {
		t.Fatalf("410 with %v: the dropped queue came back", types(a.msgs))
	}
	if v := e.metric(t, "swarmdesk_slow_reader_disconnects_total"); v != 1 {
		t.Fatalf("%v slow readers counted, want 1", v)
	}
	if e.core.Hub().Devices("demo", "fast") != 1 {
		t.Fatal("the polling customer was ended")
	}
}

// TestBodyTooLarge: a request body bigger than HTTPBodyFrames frames of
// the largest size gets 413.
func TestBodyTooLarge(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxFrame = 1024 })
	conn, err := net.DialTimeout("tcp", e.p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	limit := (1024 + wire.HeaderSize) * wire.HTTPBodyFrames
	fmt.Fprintf(conn, "POST %s?%s=x HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		wire.HTTPSendPath, wire.HTTPSessionParam, wire.HTTPContentType, limit+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	// A body at the limit is read (and refused for its session).
	c := newClient(t, e, true)
	c.id = "x"
	wantStatus(t, must(t)(c.sendRaw(make([]byte, limit))), http.StatusNotFound)
}

// TestShutdown: Shutdown answers a held poll 410 with error 106 and
// leaves no goroutine behind (TestMain checks).
func TestShutdown(t *testing.T) {
	e := start(t, nil)
	c := newClient(t, e, true)
	c.connectAs(t, wire.RoleCustomer, "c1")
	c.drain(t)
	held := make(chan answer, 1)
	errc := make(chan error, 1)
	go func() {
		a, err := c.poll(10 * time.Second)
		if err != nil {
			errc <- err
			return
		}
		held <- a
	}()
	waitFor(t, "the poll to be held", func() bool { return e.p.HeldPolls() == 1 })
	// Shutdown ends within its context, well before the poll's wait, and
	// answers the poll itself (a timed-out poll would get 204).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-held:
		wantGone(t, a, wire.CodeShutdown)
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("the held poll was not answered")
	}
	if e.core.Hub().Devices("demo", "c1") != 0 {
		t.Fatal("a session outlived the shutdown")
	}
	if _, err := c.poll(0); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
}

// TestHoldUntilSync: with durability sync the ready may follow the connect
// answer (batch 1 may be empty); it is fetched by the next poll.
func TestHoldUntilSync(t *testing.T) {
	e := start(t, func(c *server.Config) { c.HoldUntilSync = true })
	c := newClient(t, e, true)
	msgs := c.connectAs(t, wire.RoleCustomer, "c1").msgs
	for len(msgs) == 0 {
		a := must(t)(c.poll(2 * time.Second))
		wantStatus(t, a, http.StatusOK)
		msgs = a.msgs
	}
	if _, ok := msgs[0].(*wire.Ready); !ok {
		t.Fatalf("first frames %v, want ready first", types(msgs))
	}
}
