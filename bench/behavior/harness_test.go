package behavior

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
	"github.com/swarmdesk/swarmdesk/reports"
)

// vclock is a virtual-time Scheduler on an event heap: the core of the
// simulator's loop. Late delays actor timers (not network events), to show
// a generator that falls behind.
type vclock struct {
	now  time.Time
	seq  uint64
	h    evHeap
	late time.Duration
	n    int // events run
}

type event struct {
	at    time.Time
	seq   uint64
	a     Actor
	token uint64
	fn    func()
}

type evHeap []event

func (h evHeap) Len() int { return len(h) }
func (h evHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h evHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *evHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (v *vclock) Now() time.Time { return v.now }

func (v *vclock) At(t time.Time, a Actor, tok uint64) {
	v.push(t.Add(v.late), event{a: a, token: tok})
}

func (v *vclock) call(t time.Time, fn func()) { v.push(t, event{fn: fn}) }

func (v *vclock) push(t time.Time, e event) {
	if t.Before(v.now) {
		t = v.now
	}
	v.seq++
	e.at, e.seq = t, v.seq
	heap.Push(&v.h, e)
}

// run plays events up to until.
func (v *vclock) run(until time.Time) {
	for len(v.h) > 0 && !v.h[0].at.After(until) {
		e := heap.Pop(&v.h).(event)
		v.now = e.at
		v.n++
		if e.fn != nil {
			e.fn()
		} else {
			e.a.Timer(e.token)
		}
	}
	if v.now.Before(until) {
		v.now = until
	}
}

// deskNet attaches actors to the real desk core: each link's messages are
// encoded, carried after a network latency, decoded and applied to the
// desk; the desk's effects are routed by audience back to the actors'
// links, encoded and decoded again. It is, in small, the simulator's link.
type deskNet struct {
	clk     *vclock
	d       *desk.Desk
	fx      desk.Effects
	latency time.Duration
	users   map[string][]*deskLink
	drop    func(m wire.Msg) bool       // if set, drops server messages it matches
	slow    func(a Actor) time.Duration // if set, extra latency of what the server sends a

	links     map[*deskLink]struct{} // every link not closed
	downUntil time.Time              // dials fail until then (after a cut)
	cuts      int
}

type deskLink struct {
	net    *deskNet
	a      Actor
	dev    int
	sess   desk.Session
	hello  bool
	closed bool // no more traffic either way
	gone   bool // closed by its actor: no Dropped
}

var errCut = errors.New("cut: the server crashed")

// cut ends every link at once from the server's side, as a server that
// crashes does: what is in flight either way is lost, each actor is told
// its link dropped, and for down after the cut dials fail (after the
// network latency, as a refused dial). The desk keeps its state, as a
// server restarted on durable state.
func (n *deskNet) cut(down time.Duration) {
	n.cuts++
	n.downUntil = n.clk.now.Add(down)
	for l := range n.links {
		delete(n.links, l)
		if l.closed {
			continue
		}
		l.closed = true
		n.detach(l)
		n.clk.call(n.clk.now, func() {
			if !l.gone {
				l.a.Dropped(l.dev, errCut)
			}
		})
	}
}

func newDeskNet(t testing.TB, clk *vclock, latency time.Duration) *deskNet {
	t.Helper()
	rt, err := tenant.Build(tenant.Demo())
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(rt, store.NewMem(0))
	if err != nil {
		t.Fatal(err)
	}
	n := &deskNet{clk: clk, d: d, latency: latency, users: map[string][]*deskLink{}, links: map[*deskLink]struct{}{}}
	n.tick()
	return n
}

// tick runs the desk's timed work every second.
func (n *deskNet) tick() {
	n.clk.call(n.clk.now.Add(time.Second), func() {
		n.fx.Reset()
		n.d.Tick(n.clk.now, &n.fx)
		n.route(nil)
		n.tick()
	})
}

func (n *deskNet) Dial(a Actor, device int) (Link, error) {
	l := &deskLink{net: n, a: a, dev: device}
	if n.clk.now.Before(n.downUntil) {
		// Refused: the link takes sends and fails after the latency.
		n.clk.call(n.clk.now.Add(n.latency), func() {
			if !l.gone && !l.closed {
				l.closed = true
				l.a.Dropped(l.dev, errCut)
			}
		})
		return l, nil
	}
	n.links[l] = struct{}{}
	return l, nil
}

var errLinkClosed = errors.New("link closed")

func (l *deskLink) Send(m wire.Msg) error {
	if l.gone {
		return errLinkClosed
	}
	if l.closed {
		return nil // a refused dial or a cut link: lost, Dropped comes
	}
	frame := m.AppendFrame(nil)
	l.net.clk.call(l.net.clk.now.Add(l.net.latency), func() { l.net.serve(l, frame) })
	return nil
}

func (l *deskLink) Close() error {
	l.gone = true
	if l.closed {
		return nil
	}
	l.closed = true
	delete(l.net.links, l)
	l.net.detach(l)
	return nil
}

func (n *deskNet) detach(l *deskLink) {
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
	n.users[l.sess.User] = links
	if len(links) == 0 {
		delete(n.users, l.sess.User)
		n.fx.Reset()
		n.d.Gone(n.clk.now, l.sess, &n.fx)
		n.route(nil)
	}
}

// serve applies one client frame to the desk.
func (n *deskNet) serve(l *deskLink, frame []byte) {
	if l.closed {
		return
	}
	m, err := wire.Decode(frame[4:])
	if err != nil {
		panic(fmt.Sprintf("client sent a bad frame: %v", err))
	}
	now := n.clk.now
	n.fx.Reset()
	switch m := m.(type) {
	case *wire.Hello:
		l.sess = desk.Session{User: m.User, Role: m.Role}
		if err := n.d.Hello(now, l.sess, m.Resume, &n.fx); err != nil {
			panic(fmt.Sprintf("hello: %v", err))
		}
		l.hello = true
		n.users[m.User] = append(n.users[m.User], l)
	case *wire.Open:
		n.d.Open(now, l.sess, m, &n.fx)
	case *wire.Message:
		n.d.Message(now, l.sess, m, &n.fx)
	case *wire.Transfer:
		n.d.Transfer(now, l.sess, m, &n.fx)
	case *wire.Close:
		n.d.Close(now, l.sess, m, &n.fx)
	case *wire.AgentStatus:
		n.d.AgentStatus(now, l.sess, m, &n.fx)
	case *wire.Resume:
		n.d.Resume(now, l.sess, m.Points, &n.fx)
	case *wire.Ping:
		n.deliver(l, (&wire.Pong{Nonce: m.Nonce}).AppendFrame(nil))
	case *wire.Pong:
	default:
		panic(fmt.Sprintf("unexpected client message %s", m.Type()))
	}
	n.route(l)
}

// route sends the effects in n.fx to their audiences.
func (n *deskNet) route(origin *deskLink) {
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
			for _, set := range [][]string{o.Members, o.Watchers} {
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

func (n *deskNet) deliver(l *deskLink, frame []byte) {
	at := n.clk.now.Add(n.latency)
	if n.slow != nil {
		at = at.Add(n.slow(l.a))
	}
	n.clk.call(at, func() {
		if l.closed {
			return
		}
		m, err := wire.Decode(frame[4:])
		if err != nil {
			panic(fmt.Sprintf("server sent a bad frame: %v", err))
		}
		if n.drop != nil && n.drop(m) {
			return
		}
		l.a.Receive(l.dev, m)
	})
}

// world is a small simulated run: a scenario, the desk, agents and
// customers arriving on the scenario's schedule.
type world struct {
	t         testing.TB
	sc        *scenario.Scenario
	clk       *vclock
	net       *deskNet
	rec       *record.Recorder
	env       *Env
	start     time.Time
	customers []*Customer
}

func newWorld(t testing.TB, sc *scenario.Scenario, latency time.Duration) *world {
	t.Helper()
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	clk := &vclock{now: start}
	cfg := record.DefaultConfig()
	rec, err := record.New(cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := sc.Corpus()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, sc: sc, clk: clk, net: newDeskNet(t, clk, latency), rec: rec, start: start}
	w.env = &Env{
		Sched: clk, Dial: w.net, Rec: rec.NewShard(), Ledger: rec.Ledger(),
		Rand: rand.New(rand.NewPCG(sc.Seed, 1)), Scenario: sc, Corpus: corpus,
		Tenant: scenario.DemoTenant, Timescale: 1,
	}
	StartAgents(sc, []Lane{{Arrivals: &Arrivals{Env: w.env}, Do: func(fn func()) { fn() }}})
	return w
}

// arrive starts a customer now.
func (w *world) arrive() *Customer {
	c := NewCustomer(w.env, fmt.Sprintf("cust-%d", len(w.customers)))
	w.customers = append(w.customers, c)
	c.Start()
	return c
}

// arrivals schedules the scenario's Poisson arrivals.
func (w *world) arrivals() {
	sched := w.sc.Schedule()
	r := rand.New(rand.NewPCG(w.sc.Seed, 2))
	var next func(off time.Duration)
	next = func(off time.Duration) {
		at, ok := sched.NextArrival(off, r)
		if !ok {
			return
		}
		w.clk.call(w.start.Add(at), func() {
			w.arrive()
			next(at)
		})
	}
	next(0)
}

// result closes the recorder and returns the run's result document.
func (w *world) result() *reports.Result {
	w.t.Helper()
	if err := w.rec.Close(w.clk.now); err != nil {
		w.t.Fatal(err)
	}
	res, err := w.rec.Result(reports.Run{})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}
