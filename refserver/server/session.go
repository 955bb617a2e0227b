package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/fanout"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Session is the protocol state of one connection. A transport embeds or
// holds one per connection, calls Handle for each frame body in order from
// one goroutine at a time, and Closed once when the connection ends.
type Session struct {
	srv    *Server
	conn   fanout.Conn
	tenant *Tenant
	who    desk.Session
	rl     rateLimiter

	// scratch decode targets, reused across frames
	msg  wire.Message
	ping wire.Ping
}

// Fault is a connection-fatal protocol error: the transport sends it as an
// error frame and closes the connection.
type Fault struct {
	Code wire.Code
	Text string
}

func (f *Fault) Error() string { return fmt.Sprintf("%d: %s", f.Code, f.Text) }

// Frame returns the error frame that reports f to the peer.
func (f *Fault) Frame() []byte {
	return (&wire.Error{Code: f.Code, Text: f.Text}).AppendFrame(nil)
}

// AsFault returns err as a Fault, classifying codec errors.
func AsFault(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	switch {
	case errors.Is(err, wire.ErrBadText):
		return &Fault{Code: wire.CodeBadText, Text: err.Error()}
	case errors.Is(err, wire.ErrTooLarge):
		return &Fault{Code: wire.CodeTooLarge, Text: err.Error()}
	case errors.Is(err, wire.ErrUnknownType):
		return &Fault{Code: wire.CodeUnknownType, Text: err.Error()}
	}
	return &Fault{Code: wire.CodeBadFrame, Text: err.Error()}
}

// Init binds a session to its server and connection.
func (ss *Session) Init(srv *Server, c fanout.Conn) {
	ss.srv = srv
	ss.conn = c
	srv.metrics.connsPending.Inc()
}

// Ready reports whether the session has said hello.
func (ss *Session) Ready() bool { return ss.tenant != nil }

// Who returns the session's user (zero before hello).
func (ss *Session) Who() desk.Session { return ss.who }

// Handle processes one frame body (type byte and payload). The body may be
// reused by the caller once Handle returns. A non-nil error is a *Fault:
// the transport reports it and closes the connection.
//
// Every frame counts against the connection's rate limit
// (Config.RateLimit, RateBurst), and the strings of client messages and
// the bodies of text kinds must be valid UTF-8 (CodeBadText).
func (ss *Session) Handle(body []byte) error {
	cfg := &ss.srv.cfg
	if cfg.RateLimit > 0 && !ss.rl.allow(limiterNow(ss.srv.now()), cfg.RateLimit, cfg.RateBurst) {
		return &Fault{Code: wire.CodeRateLimited, Text: fmt.Sprintf(
			"rate limit: more than %d frames at once, or over %g a second sustained", max(cfg.RateBurst, 1), cfg.RateLimit)}
	}
	t, payload, err := wire.Parse(body)
	if err != nil {
		return AsFault(err)
	}
	if ss.tenant == nil {
		if t != wire.THello {
			return &Fault{Code: wire.CodeNotHello, Text: fmt.Sprintf("%s before hello", t)}
		}
		return ss.hello(payload)
	}
	switch t {
	case wire.TPing:
		if err := ss.ping.Decode(payload); err != nil {
			return AsFault(err)
		}
		pong := wire.Pong{Nonce: ss.ping.Nonce}
		if h := ss.srv.hold; h != nil {
			// After what the connection's earlier frames caused, held
			// for the disk: answers keep the order of requests.
			var buf [32]byte
			h.reply(ss.conn, pong.AppendFrame(buf[:0]))
			return nil
		}
		ss.send(&pong)
		return nil
	case wire.TPong:
		return nil
	case wire.THello:
		return &Fault{Code: wire.CodeDupHello, Text: "hello on a connection that already said it"}
	case wire.TMessage:
		if err := ss.msg.Decode(payload); err != nil {
			return decodeFault(t, err)
		}
		tn := ss.tenant
		tn.mu.Lock()
		tn.desk.Message(ss.srv.now(), ss.who, &ss.msg, &tn.fx)
		ss.srv.apply(tn, ss.conn)
		tn.mu.Unlock()
		return nil
	case wire.TOpen, wire.TTransfer, wire.TClose, wire.TAgentStatus, wire.TWatch, wire.TResume:
		m := wire.New(t)
		if err := m.Decode(payload); err != nil {
			return decodeFault(t, err)
		}
		ss.dispatch(m)
		return nil
	}
	return &Fault{Code: wire.CodeBadFrame, Text: fmt.Sprintf("%s is not sent by clients", t)}
}

// decodeFault reports a payload of type t that did not decode, naming the
// message and the field.
func decodeFault(t wire.Type, err error) *Fault {
	f := AsFault(err)
	f.Text = t.String() + ": " + f.Text
	return f
}

func (ss *Session) dispatch(m wire.Msg) {
	tn := ss.tenant
	now := ss.srv.now()
	tn.mu.Lock()
	defer tn.mu.Unlock()
	d, fx := tn.desk, &tn.fx
	switch m := m.(type) {
	case *wire.Open:
		d.Open(now, ss.who, m, fx)
	case *wire.Transfer:
		d.Transfer(now, ss.who, m, fx)
	case *wire.Close:
		d.Close(now, ss.who, m, fx)
	case *wire.AgentStatus:
		d.AgentStatus(now, ss.who, m, fx)
	case *wire.Watch:
		d.Watch(now, ss.who, m, fx)
	case *wire.Resume:
		d.Resume(now, ss.who, m.Points, fx)
	}
	ss.srv.apply(tn, ss.conn)
}

func (ss *Session) send(m wire.Msg) {
	var buf [64]byte
	if ss.conn.Send(m.AppendFrame(buf[:0])) {
		ss.srv.metrics.framesOut.Inc()
	}
}

func (ss *Session) hello(payload []byte) error {
	var h wire.Hello
	if err := h.Decode(payload); err != nil {
		return decodeFault(wire.THello, err)
	}
	tn := ss.srv.tenant(h.Tenant)
	if tn == nil {
		return &Fault{Code: wire.CodeAuth, Text: fmt.Sprintf("unknown tenant %q", h.Tenant)}
	}
	// The token is checked outside the tenant's lock: the HMAC costs a few
	// microseconds that other connections of the tenant need not wait for,
	// and a Runtime is immutable (a reload swaps in another).
	tn.mu.Lock()
	rt := tn.desk.Runtime()
	tn.mu.Unlock()
	if err := rt.VerifyToken(h.Role, h.User, h.Token, ss.srv.now()); err != nil {
		return &Fault{Code: wire.CodeAuth, Text: "bad token: " + tokenProblem(err)}
	}
	who := desk.Session{User: h.User, Role: h.Role}
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if err := tn.desk.Hello(ss.srv.now(), who, h.Resume, &tn.fx); err != nil {
		tn.fx.Reset()
		return &Fault{Code: wire.CodeAuth, Text: err.Error()}
	}
	for i := range tn.fx.Out {
		if r, ok := tn.fx.Out[i].Msg.(*wire.Ready); ok {
			r.HeartbeatMS = uint64(ss.srv.cfg.Heartbeat / time.Millisecond)
			r.MaxFrame = uint64(ss.srv.cfg.MaxFrame)
		}
	}
	// Register before applying, under the tenant lock: no delivery of this
	// tenant can slip between the replay and the connection's first new
	// frame, so a resumed client sees its conversation in order.
	ss.tenant = tn
	ss.who = who
	ss.srv.hub.Add(tn.id, who.User, who.Role, ss.conn)
	ss.srv.metrics.connsPending.Dec()
	ss.srv.metrics.conns(who.Role).Inc()
	ss.srv.apply(tn, ss.conn)
	return nil
}

// tokenProblem says briefly what was wrong with a refused token.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, tenant.ErrTokenMissing):
		return "missing"
	case errors.Is(err, tenant.ErrTokenExpired):
		return "expired"
	case errors.Is(err, tenant.ErrTokenForged):
		return "signature does not match"
	}
	return "malformed"
}

// Closed unregisters the session; when it was the user's last device, the
// desk is told (an agent goes offline for routing, keeping its chats).
func (ss *Session) Closed() {
	if ss.srv == nil {
		return
	}
	tn := ss.tenant
	if tn == nil {
		ss.srv.metrics.connsPending.Dec()
		ss.srv = nil
		return
	}
	ss.srv.metrics.conns(ss.who.Role).Dec()
	tn.mu.Lock()
	if ss.srv.hub.Remove(tn.id, ss.who.User, ss.conn) == 0 {
		tn.desk.Gone(ss.srv.now(), ss.who, &tn.fx)
		ss.srv.apply(tn, nil)
	}
	tn.mu.Unlock()
	ss.tenant = nil
	ss.srv = nil
}
