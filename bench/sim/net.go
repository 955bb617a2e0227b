package sim

import (
	"errors"
	"fmt"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// ErrLinkClosed is returned by Send on a link that was closed.
var ErrLinkClosed = errors.New("sim: link closed")

// Net attaches actors to desk cores in virtual time: it is what the
// server's transport is to real connections. A link's messages reach the
// desk of the tenant named in its hello as events at the current time (in
// the order sent), the desk's effects go back by audience to the links of
// the users they are for, each as its own event, and a message is encoded
// once and decoded by each receiver, as over the wire, so that actors get
// exactly what a real server would send them. It implements
// behavior.Dialer.
type Net struct {
	clk   *Clock
	desks map[string]*desk.Desk
	users map[string][]*link // connected links by user id
	fx    desk.Effects
	links int64        // links open
	msgs  [32]wire.Msg // decode targets of deliveries, by type, reused
}

var _ behavior.Dialer = (*Net)(nil)

// NewNet returns a network over the given desks, keyed by tenant id.
func NewNet(clk *Clock, desks map[string]*desk.Desk) *Net {
	return &Net{clk: clk, desks: desks, users: map[string][]*link{}}
}

// Open returns how many links are open.
func (n *Net) Open() int64 { return n.links }

// link is one simulated connection.
type link struct {
	net    *Net
	a      behavior.Actor
	dev    int
	desk   *desk.Desk
	sess   desk.Session
	hello  bool
	closed bool
}

// Dial implements behavior.Dialer: the link is up at once.
func (n *Net) Dial(a behavior.Actor, device int) (behavior.Link, error) {
	n.links++
	return &link{net: n, a: a, dev: device}, nil
}

// Send implements behavior.Link: m reaches the desk as an event now, after
// what is already due.
func (l *link) Send(m wire.Msg) error {
	if l.closed {
		return fmt.Errorf("send %s: %w", m.Type(), ErrLinkClosed)
	}
	frame := m.AppendFrame(nil)
	l.net.clk.callNow(func() { l.net.serve(l, frame) })
	return nil
}

// Close implements behavior.Link.
func (l *link) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	l.net.links--
	l.net.detach(l)
	return nil
}

// detach removes a link; the user's last one tells the desk the user is
// gone.
func (n *Net) detach(l *link) {
	if !l.hello {
		return
	}
	links := n.users[l.sess.User]
	for i, x := range links {
		if x == l {
			links = append(links[:i:i], links[i+1:]...)
			break
		}
	}
	if len(links) > 0 {
		n.users[l.sess.User] = links
		return
	}
	delete(n.users, l.sess.User)
	n.fx.Reset()
	l.desk.Gone(n.clk.Now(), l.sess, &n.fx)
	n.route(nil)
}

// serve applies one client frame to the link's desk, as the server's
// session does.
func (n *Net) serve(l *link, frame []byte) {
	if l.closed {
		return
	}
	m, err := wire.Decode(frame[wire.HeaderSize:])
	if err != nil {
		n.fail(l, wire.CodeBadFrame, err.Error())
		return
	}
	now := n.clk.Now()
	n.fx.Reset()
	if h, ok := m.(*wire.Hello); ok {
		if l.hello {
			n.fail(l, wire.CodeDupHello, "hello sent twice")
			return
		}
		d := n.desks[h.Tenant]
		if d == nil {
			n.fail(l, wire.CodeAuth, fmt.Sprintf("unknown tenant %q", h.Tenant))
			return
		}
		l.desk, l.sess, l.hello = d, desk.Session{User: h.User, Role: h.Role}, true
		if err := d.Hello(now, l.sess, h.Resume, &n.fx); err != nil {
			l.hello = false
			n.fail(l, wire.CodeAuth, err.Error())
			return
		}
		n.users[h.User] = append(n.users[h.User], l)
		n.route(l)
		return
	}
	if !l.hello {
		n.fail(l, wire.CodeNotHello, "a message before hello")
		return
	}
	switch m := m.(type) {
	case *wire.Open:
		l.desk.Open(now, l.sess, m, &n.fx)
	case *wire.Message:
		l.desk.Message(now, l.sess, m, &n.fx)
	case *wire.Transfer:
		l.desk.Transfer(now, l.sess, m, &n.fx)
	case *wire.Close:
		l.desk.Close(now, l.sess, m, &n.fx)
	case *wire.AgentStatus:
		l.desk.AgentStatus(now, l.sess, m, &n.fx)
	case *wire.Resume:
		l.desk.Resume(now, l.sess, m.Points, &n.fx)
	case *wire.Ping:
		n.deliver(l, (&wire.Pong{Nonce: m.Nonce}).AppendFrame(nil))
		return
	case *wire.Pong:
		return
	default:
		n.deliver(l, (&wire.Error{Code: wire.CodeWrongRole, Text: fmt.Sprintf("%s is not a client message", m.Type())}).AppendFrame(nil))
		return
	}
	n.route(l)
}

// fail sends a fatal error to l and closes it, as the server does.
func (n *Net) fail(l *link, code wire.Code, text string) {
	n.deliver(l, (&wire.Error{Code: code, Text: text}).AppendFrame(nil))
	n.clk.callNow(func() {
		if l.closed {
			return
		}
		l.closed = true
		n.links--
		n.detach(l)
		l.a.Dropped(l.dev, fmt.Errorf("sim: server closed the link: error %d: %s", code, text))
	})
}

// Tick runs each desk's timed work (idle closes, queue positions) at the
// current time.
func (n *Net) Tick() {
	now := n.clk.Now()
	for _, id := range sortedKeys(n.desks) {
		n.fx.Reset()
		n.desks[id].Tick(now, &n.fx)
		n.route(nil)
	}
}

// route sends the effects in n.fx to their audiences.
func (n *Net) route(origin *link) {
	for i := range n.fx.Out {
		o := &n.fx.Out[i]
		frame := o.AppendFrame(nil)
		switch o.Audience {
		case desk.ToOrigin:
			if origin != nil {
				n.deliver(origin, frame)
			}
		case desk.ToUser:
			for _, l := range n.users[o.User] {
				n.deliver(l, frame)
			}
		case desk.ToMembers:
			for _, set := range [2][]string{o.Members, o.Watchers} {
				for _, u := range set {
					for _, l := range n.users[u] {
						if o.SkipOrigin && l == origin {
							continue
						}
						n.deliver(l, frame)
					}
				}
			}
		}
	}
}

// deliver hands frame to l's actor as an event now, decoded afresh.
func (n *Net) deliver(l *link, frame []byte) {
	n.clk.callNow(func() {
		if l.closed {
			return
		}
		m, err := n.decode(frame[wire.HeaderSize:])
		if err != nil {
			panic(fmt.Sprintf("sim: the desk produced an undecodable frame: %v", err))
		}
		l.a.Receive(l.dev, m)
	})
}

// decode decodes a server frame body into the reused message of its type:
// actors use a received message only during Receive, as on real
// connections.
func (n *Net) decode(body []byte) (wire.Msg, error) {
	t, payload, err := wire.Parse(body)
	if err != nil {
		return nil, err
	}
	if int(t) >= len(n.msgs) {
		return wire.Decode(body)
	}
	m := n.msgs[t]
	if m == nil {
		m = wire.New(t)
		n.msgs[t] = m
	}
	if err := m.Decode(payload); err != nil {
		return nil, fmt.Errorf("decode %s: %w", t, err)
	}
	return m, nil
}
