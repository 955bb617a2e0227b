package conform

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// testCase is one case of the suite.
type testCase struct {
	name string
	run  func(t *caseRun)
}

// caseRun is the state of one running case, in the manner of testing.T: the
// problems found so far and the connections to close when it ends.
type caseRun struct {
	ctx      context.Context
	cfg      *Config
	target   target
	name     string
	problems []string
	skipped  string
	peers    []*peer
	cleanups []func()
}

// abort unwinds a case that cannot go on (Fatalf, Skipf).
type abort struct{}

func runCase(ctx context.Context, cfg *Config, tg target, tc testCase) Case {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := &caseRun{ctx: ctx, cfg: cfg, target: tg, name: tc.name}
	t.protect(func() { tc.run(t) })
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		// A cleanup is best effort: its problems are not the case's.
		n := len(t.problems)
		t.protect(t.cleanups[i])
		t.problems = t.problems[:n]
	}
	for _, p := range t.peers {
		_ = p.c.Close()
	}
	c := Case{Name: tc.name, Problems: t.problems, Took: time.Since(start)}
	switch {
	case len(t.problems) > 0:
		c.Status = Fail
	case t.skipped != "":
		c.Status, c.Skipped = Skip, t.skipped
	default:
		c.Status = Pass
	}
	return c
}

// protect runs fn, stopping at an abort; any other panic is a problem of
// the case (a bug of the suite, reported with its stack).
func (t *caseRun) protect(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(abort); !ok {
				t.problems = append(t.problems, fmt.Sprintf("panic: %v\n%s", r, debug.Stack()))
			}
		}
	}()
	fn()
}

// Errorf records a problem; the case goes on.
func (t *caseRun) Errorf(format string, args ...any) {
	t.problems = append(t.problems, fmt.Sprintf(format, args...))
}

// Fatalf records a problem and ends the case.
func (t *caseRun) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	panic(abort{})
}

// Skipf ends the case as skipped, saying why.
func (t *caseRun) Skipf(format string, args ...any) {
	t.skipped = fmt.Sprintf(format, args...)
	panic(abort{})
}

// Cleanup registers fn to run when the case ends, last registered first.
func (t *caseRun) Cleanup(fn func()) { t.cleanups = append(t.cleanups, fn) }

// user returns a user id unique to this run and case.
func (t *caseRun) user(who string) string {
	return t.cfg.Prefix + "-" + strings.ReplaceAll(t.name, "/", "-") + "-" + who
}

// token signs a token for user in role when the tenant has a secret.
func (t *caseRun) token(role wire.Role, user string) string {
	if t.cfg.Secret == "" {
		return ""
	}
	return tenant.SignToken(t.cfg.Secret, t.cfg.Tenant, role, user, time.Now().Add(time.Hour))
}

// dial opens a connection that has said nothing yet.
func (t *caseRun) dial(name string) *peer {
	c, err := t.target.dial(t.ctx, t.cfg.Timeout)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p := &peer{t: t, name: name, c: c, ids: rand.Uint64() >> 2}
	t.peers = append(t.peers, p)
	return p
}

// hello returns the hello of user in role on device, with a token when
// the tenant has a secret.
func (t *caseRun) hello(role wire.Role, user, device string, resume ...wire.ResumePoint) *wire.Hello {
	return &wire.Hello{Role: role, Tenant: t.cfg.Tenant, User: user, Device: device, Token: t.token(role, user), Resume: resume}
}

// connect dials and says hello as user in role on device; the case ends
// unless the server answers ready.
func (t *caseRun) connect(name string, role wire.Role, user, device string, resume ...wire.ResumePoint) (*peer, *wire.Ready) {
	p := t.dial(name)
	p.send(t.hello(role, user, device, resume...))
	r := expect[*wire.Ready](p, "ready (the answer to hello)")
	return p, r
}

// peer is one connection of a case, with the expectations cases use.
type peer struct {
	t    *caseRun
	name string // for problems: "customer", "device B", ...
	c    conn
	ids  uint64 // the last client id used
}

// id returns a new client id.
func (p *peer) id() uint64 { p.ids++; return p.ids }

func (p *peer) send(m wire.Msg) {
	if err := p.c.Send(m); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

func (p *peer) sendRaw(b []byte) {
	if err := p.c.SendRaw(b); err != nil {
		p.t.Fatalf("%s: send raw bytes: %v", p.name, err)
	}
}

// recv returns the next message that is not noise within the deadline: a
// ping from the server is answered, broadcasts are passed over.
func (p *peer) recv(deadline time.Time) (wire.Msg, error) {
	for {
		m, err := p.c.Next(time.Until(deadline))
		if err != nil {
			return nil, err
		}
		switch m := m.(type) {
		case *wire.Ping:
			if err := p.c.Send(&wire.Pong{Nonce: m.Nonce}); err != nil {
				return nil, err
			}
			continue
		case *wire.Broadcast:
			continue
		}
		return m, nil
	}
}

// next returns the next message; the case ends if none comes in time.
func (p *peer) next(want string) wire.Msg {
	m, err := p.recv(time.Now().Add(p.t.cfg.Timeout))
	if err != nil {
		p.t.Fatalf("%s: expected %s, got %s", p.name, want, p.t.describeErr(err))
	}
	return m
}

func (t *caseRun) describeErr(err error) string {
	if errors.Is(err, errTimeout) {
		return fmt.Sprintf("nothing within %v", t.cfg.Timeout)
	}
	return err.Error()
}

// expect returns the next message, which must be an M.
func expect[M wire.Msg](p *peer, want string) M {
	m := p.next(want)
	v, ok := m.(M)
	if !ok {
		p.t.Fatalf("%s: expected %s, got %s", p.name, want, describe(m))
	}
	return v
}

// await reads until an M for which ok holds (any M when ok is nil) and
// returns it with the messages read before it.
func await[M wire.Msg](p *peer, want string, ok func(M) bool) (M, []wire.Msg) {
	deadline := time.Now().Add(p.t.cfg.Timeout)
	var before []wire.Msg
	for {
		m, err := p.recv(deadline)
		if err != nil {
			got := p.t.describeErr(err)
			if len(before) > 0 {
				got = describeAll(before) + ", then " + got
			}
			p.t.Fatalf("%s: expected %s, got %s", p.name, want, got)
		}
		if v, is := m.(M); is && (ok == nil || ok(v)) {
			return v, before
		}
		before = append(before, m)
	}
}

// barrier sends a request the server must refuse (closing a
// conversation that does not exist) and reads up to the refusal,
// returning what came before it: every effect of what the peer sent
// earlier. A ping would not do: a server may answer it at once, ahead of
// effects it holds (refserver --durability sync holds acks and deliveries
// until they are on disk, and answers pings at once).
func (p *peer) barrier(after string) []wire.Msg {
	id := p.id()
	p.send(&wire.Close{ClientID: id, Conv: bogusConv(), Reason: "conform barrier"})
	_, before := await(p, fmt.Sprintf("an error refusing client id %d (a close of a conversation that does not exist, sent after %s)", id, after),
		func(e *wire.Error) bool { return e.ClientID == id })
	return before
}

// bogusConv returns a conversation id no server has given out.
func bogusConv() uint64 { return 1<<62 | rand.Uint64()>>2 }

// goesOn checks that the connection still works after a refused request:
// a ping is answered.
func (p *peer) goesOn(after string) {
	nonce := rand.Uint64() >> 1
	if err := p.c.Send(&wire.Ping{Nonce: nonce}); err != nil {
		p.t.Fatalf("%s: after %s the connection should go on (2xx errors are not fatal), but a ping could not be sent: %v", p.name, after, err)
	}
	deadline := time.Now().Add(p.t.cfg.Timeout)
	for {
		m, err := p.recv(deadline)
		if err != nil {
			p.t.Fatalf("%s: after %s the connection should go on (2xx errors are not fatal), but a ping got %s", p.name, after, p.t.describeErr(err))
		}
		if pong, ok := m.(*wire.Pong); ok && pong.Nonce == nonce {
			return
		}
	}
}

// closedWith expects the server to send error code and end the
// connection (the 1xx errors); it returns the error's text.
func (p *peer) closedWith(code wire.Code, after string) string {
	deadline := time.Now().Add(p.t.cfg.Timeout)
	var got *wire.Error
	var others []wire.Msg
	for {
		m, err := p.recv(deadline)
		if err == nil {
			if e, ok := m.(*wire.Error); ok {
				got = e
			} else {
				others = append(others, m)
			}
			continue
		}
		switch {
		case got == nil && errors.Is(err, errClosed):
			p.t.Fatalf("%s: after %s expected error %s and a close, got a close without an error frame (%v)%s", p.name, after, codeName(code), err, alsoGot(others))
		case got == nil:
			p.t.Fatalf("%s: after %s expected error %s and a close, got %s%s", p.name, after, codeName(code), p.t.describeErr(err), alsoGot(others))
		case got.Code != code:
			p.t.Fatalf("%s: after %s expected error %s, got %s", p.name, after, codeName(code), describe(got))
		case !errors.Is(err, errClosed):
			p.t.Fatalf("%s: after %s the server sent %s but did not close the connection (%s; 1xx errors are fatal)", p.name, after, describe(got), p.t.describeErr(err))
		}
		return got.Text
	}
}

func alsoGot(ms []wire.Msg) string {
	if len(ms) == 0 {
		return ""
	}
	return "; before it came " + describeAll(ms)
}

// refused expects error code refusing request clientID.
func (p *peer) refused(code wire.Code, clientID uint64, after string) *wire.Error {
	e, before := await[*wire.Error](p, fmt.Sprintf("error %s after %s", codeName(code), after), nil)
	for _, m := range before {
		p.t.Errorf("%s: after %s expected error %s, first came %s", p.name, after, codeName(code), describe(m))
	}
	if e.Code != code {
		p.t.Fatalf("%s: after %s expected error %s, got %s", p.name, after, codeName(code), describe(e))
	}
	if e.ClientID != clientID {
		p.t.Errorf("%s: after %s the error names client id %d, want %d (the refused request's)", p.name, after, e.ClientID, clientID)
	}
	return e
}

// open opens a conversation in group (the skill-group hint; "" for none)
// and reads its ack, menu and greeting; it returns the conversation and
// the menu.
func (p *peer) open(group string) (uint64, *wire.Menu) {
	id := p.id()
	p.send(&wire.Open{ClientID: id, Channel: "app", Group: group})
	ack, _ := await(p, fmt.Sprintf("ack of open (client id %d)", id), func(a *wire.Ack) bool { return a.ClientID == id })
	if ack.Conv == 0 {
		p.t.Fatalf("%s: the ack of open names conversation 0", p.name)
	}
	menu, _ := p.greeted(ack.Conv)
	return ack.Conv, menu
}

// greeted reads the menu and the bot's greeting (sequence 1) of a new
// conversation, in either order.
func (p *peer) greeted(conv uint64) (*wire.Menu, *wire.Delivery) {
	var menu *wire.Menu
	var greeting *wire.Delivery
	deadline := time.Now().Add(p.t.cfg.Timeout)
	for menu == nil || greeting == nil {
		m, err := p.recv(deadline)
		if err != nil {
			p.t.Fatalf("%s: expected the menu and the bot's greeting of conversation %d, got %s", p.name, conv, p.t.describeErr(err))
		}
		switch m := m.(type) {
		case *wire.Menu:
			if m.Conv == conv {
				menu = m
				continue
			}
		case *wire.Delivery:
			if m.Conv == conv && m.Seq == 1 {
				greeting = m
				continue
			}
		}
		p.t.Fatalf("%s: expected the menu and the bot's greeting of conversation %d, got %s", p.name, conv, describe(m))
	}
	return menu, greeting
}

// say sends a message into conv and returns its client id.
func (p *peer) say(conv uint64, kind wire.Kind, body string) uint64 {
	id := p.id()
	p.send(&wire.Message{ClientID: id, Conv: conv, Kind: kind, Body: []byte(body)})
	return id
}

// acked awaits the ack of request id and returns it.
func (p *peer) acked(id uint64, what string) *wire.Ack {
	a, before := await(p, fmt.Sprintf("ack of %s (client id %d)", what, id), func(a *wire.Ack) bool { return a.ClientID == id })
	for _, m := range before {
		if e, ok := m.(*wire.Error); ok {
			p.t.Errorf("%s: before the ack of %s came %s", p.name, what, describe(e))
		}
	}
	return a
}

// delivered awaits the delivery of seq in conv.
func (p *peer) delivered(conv, seq uint64, what string) (*wire.Delivery, []wire.Msg) {
	return await(p, fmt.Sprintf("delivery of seq %d in conversation %d (%s)", seq, conv, what), func(d *wire.Delivery) bool { return d.Conv == conv && d.Seq == seq })
}

// firstChoice returns the id of the menu item the cases choose: the first
// one, which in the demo tenant the bot answers itself.
func firstChoice(t *caseRun, menu *wire.Menu) string {
	if len(menu.Items) == 0 {
		t.Fatalf("the menu of conversation %d has no items", menu.Conv)
	}
	return menu.Items[0].ID
}

// describe says what a message is, briefly.
func describe(m wire.Msg) string {
	switch m := m.(type) {
	case *wire.Error:
		return fmt.Sprintf("error %s{client_id %d, %q}", codeName(m.Code), m.ClientID, m.Text)
	case *wire.Ack:
		return fmt.Sprintf("ack{client_id %d, conv %d, seq %d}", m.ClientID, m.Conv, m.Seq)
	case *wire.Delivery:
		return fmt.Sprintf("delivery{conv %d, seq %d, from %s %q, kind %s, client_id %d, %s}", m.Conv, m.Seq, m.SenderRole, m.Sender, m.Kind, m.ClientID, short(m.Body))
	case *wire.Menu:
		return fmt.Sprintf("menu{conv %d, %d items}", m.Conv, len(m.Items))
	case *wire.Assignment:
		seqs := make([]uint64, len(m.Transcript))
		for i, d := range m.Transcript {
			seqs[i] = d.Seq
		}
		return fmt.Sprintf("assignment{conv %d, agent %q, customer %q, group %q, transcript seqs %v}", m.Conv, m.Agent, m.Customer, m.Group, seqs)
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%s%+v", m.Type(), reflect.Indirect(reflect.ValueOf(m)).Interface())
}

func describeAll(ms []wire.Msg) string {
	const most = 6
	var parts []string
	for i, m := range ms {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(ms)-most))
			break
		}
		parts = append(parts, describe(m))
	}
	return strings.Join(parts, ", ")
}

func short(b []byte) string {
	const n = 40
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

var codeNames = map[wire.Code]string{
	100: "bad-frame", 101: "too-large", 102: "not-hello", 103: "auth", 104: "slow-reader",
	105: "idle", 106: "shutdown", 107: "dup-hello", 108: "unknown-type", 109: "rate-limited",
	110: "overloaded", 111: "frame-timeout", 112: "bad-text",
	200: "forbidden", 201: "unknown-conv", 202: "bad-request", 203: "closed", 204: "no-agent",
	205: "wrong-role", 206: "internal", 207: "unknown-group", 208: "busy",
}

// codeName returns "200 forbidden" for code 200.
func codeName(c wire.Code) string {
	if n, ok := codeNames[c]; ok {
		return fmt.Sprintf("%d %s", c, n)
	}
	return strconv.Itoa(int(c))
}

// seqsOf returns the sequences of the deliveries of conv among ms.
func seqsOf(conv uint64, ms []wire.Msg) []uint64 {
	var seqs []uint64
	for _, m := range ms {
		if d, ok := m.(*wire.Delivery); ok && d.Conv == conv {
			seqs = append(seqs, d.Seq)
		}
	}
	return seqs
}

// span returns the sequences from..to.
func span(from, to uint64) []uint64 {
	var s []uint64
	for q := from; q <= to; q++ {
		s = append(s, q)
	}
	return s
}

func equalSeqs(a, b []uint64) bool { return slices.Equal(a, b) }
