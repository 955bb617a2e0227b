// Package faultproxy is test infrastructure: a TCP proxy on loopback that
// sits between swarmdesk clients and a real server and injects faults into
// what the server sends, so that tests can prove the bench generator sees
// stalls, lost, duplicated and reordered deliveries, a capacity knee, and
// a server that crashes (every connection cut at once, new ones refused for
// a while).
//
// The proxy understands the wire protocol's framing (see
// refserver/wire/PROTOCOL.md). It forwards client→server bytes unchanged,
// decoding only the first frame to learn the client's Hello (role and
// device). It reads server→client traffic as whole frames and only ever
// drops, repeats, holds back or delays whole frames: a frame is never split
// or altered.
//
//	srv := refservertest.NewServer()
//	p, err := faultproxy.Start(faultproxy.Config{Target: srv.Addr, StallEvery: time.Second, StallFor: 200 * time.Millisecond})
//	...
//	defer p.Close()
//	// dial p.Addr() instead of srv.Addr
//
// It is meant for tests on loopback only: Start refuses a target or a
// listen address that is not a loopback IP address. Each connection holds
// what it has not yet written in an unbounded queue, so a stall or a delay
// never pushes back on the server's socket (and the server's slow-reader
// protection does not see a client behind the proxy that stops reading).
package faultproxy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// defaultListen is the address Start listens on when Config.Listen is empty.
const defaultListen = "127.0.0.1:0"

// defaultSwapWait is how long a held Delivery waits for the next Delivery
// of its conversation when Config.SwapWait is zero.
const defaultSwapWait = 2 * time.Second

// dialTimeout bounds the dial to the target for each accepted client.
const dialTimeout = 5 * time.Second

// Config says where to forward and which faults to inject. Zero values
// inject nothing.
type Config struct {
	// Target is the server, host:port. It is required and must be a
	// loopback IP address (127.0.0.0/8 or ::1); anything else is refused.
	Target string
	// Listen is the address to listen on, default "127.0.0.1:0". It must be
	// a loopback IP address too.
	Listen string
	// MaxFrame bounds the body of a frame read from the server; default
	// wire.DefaultMaxFrame. A larger frame ends the connection, so it
	// should be at least the server's own bound.
	MaxFrame int

	// StallEvery and StallFor, both > 0: every StallEvery, the proxy stops
	// forwarding server→client bytes on every connection for StallFor;
	// what arrives meanwhile is queued and written, in order, when the
	// stall ends. The first stall starts StallEvery after Start. StallFor
	// must be shorter than StallEvery.
	StallEvery, StallFor time.Duration

	// Device restricts Drop/Duplicate/Swap to connections whose client
	// Hello has this Device name ("" = every connection that said Hello).
	// A connection whose first frame is not a Hello is never affected.
	Device string
	// DropEvery n>0: on affected connections, the n-th, 2n-th, ...
	// server→client Delivery frame (counted per connection) is not
	// forwarded.
	DropEvery int
	// DuplicateEvery n>0: the n-th, 2n-th, ... Delivery frame is forwarded
	// twice, back to back.
	DuplicateEvery int
	// SwapEvery n>0: the n-th, 2n-th, ... Delivery frame is held back and
	// written right after the next Delivery of the same conversation on
	// that connection (so the client sees seq k+1 before seq k). Frames of
	// other types and other conversations pass meanwhile. If no such
	// Delivery comes within SwapWait (default 2s) the held frame is
	// written then, and no swap is counted. A Delivery that releases a
	// held one is not held itself. A frame both dropped and due for another
	// fault is dropped; one both duplicated and swapped is moved with its
	// copy.
	SwapEvery int
	SwapWait  time.Duration

	// SlowAbove n>0: while more than n customer connections (client Hello
	// with Role == wire.RoleCustomer) are open through the proxy, every
	// server→client frame is delivered SlowDelay later than it was read
	// from the server (a delay line: latency rises by SlowDelay, throughput
	// does not collapse). At or below n, no delay. It models a server whose
	// capacity is n customers.
	SlowAbove int
	SlowDelay time.Duration

	// Delay >0: every server→client frame is delivered Delay later than it
	// was read from the server, whatever the load (a constant delay line,
	// as netem's delay; added to SlowDelay when both apply). It models a
	// uniformly slower server, as a regression test needs.
	Delay time.Duration

	// CutEvery >0: every CutEvery (the first CutEvery after Start), the
	// proxy closes every connection at once, as a server that crashed:
	// what it holds for a client and what a client sent that it had not
	// yet forwarded are lost, and both sides see the connection end. For
	// CutFor after the cut it does not listen, so dials are refused, as
	// while a crashed server restarts; then it listens again on the same
	// address. The server behind keeps its state, as a server restarted
	// on durable state would. CutFor must be shorter than CutEvery.
	CutEvery, CutFor time.Duration
}

// Stats counts what the proxy did.
type Stats struct {
	Accepted  int64 // connections accepted
	Open      int64 // connections open now
	Customers int64 // customer connections open now (Hello with RoleCustomer)
	Stalls    int64 // stalls begun
	// Delivery frames dropped, duplicated, swapped (a swap is counted when
	// the frame was actually reordered).
	Dropped, Duplicated, Swapped int64
	Delayed                      int64 // frames delayed by Delay or SlowDelay
	Cuts                         int64 // cuts done (CutEvery)
	CutConns                     int64 // connections closed by the cuts
}

// Proxy is a running fault-injecting proxy. Its methods are safe for
// concurrent use.
type Proxy struct {
	cfg   Config
	addr  string // the address listened on, kept across cuts
	start time.Time

	ctx    context.Context // cancelled by Close: aborts dials
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	ln     net.Listener // nil while cut
	closed bool
	conns  map[*conn]struct{}

	closeOnce sync.Once
	closeErr  error
	closedAt  atomic.Int64 // unix nanoseconds once closed, else 0

	accepted, open, customers             atomic.Int64
	dropped, duplicated, swapped, delayed atomic.Int64
	cuts, cutConns                        atomic.Int64
}

// Start validates cfg, listens, and accepts connections in a goroutine. It
// returns at once.
func Start(cfg Config) (*Proxy, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen %s: %w", cfg.Listen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		cfg:    cfg,
		ln:     ln,
		addr:   ln.Addr().String(),
		start:  time.Now(),
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[*conn]struct{}),
	}
	p.wg.Add(1)
	go p.accept(ln)
	if cfg.CutEvery > 0 {
		p.wg.Add(1)
		go p.cutter()
	}
	return p, nil
}

// relistenFor bounds how long the proxy tries to listen again after a cut.
const relistenFor = 5 * time.Second

// cutter cuts every connection every CutEvery and listens again CutFor
// later, until Close.
func (p *Proxy) cutter() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.CutEvery)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.cut()
		if p.cfg.CutFor > 0 {
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(p.cfg.CutFor):
			}
		}
		if !p.relisten() {
			return
		}
	}
}

// cut stops listening and closes every connection at once.
func (p *Proxy) cut() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	ln := p.ln
	p.ln = nil
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.cuts.Add(1)
	p.cutConns.Add(int64(len(conns)))
	if ln != nil {
		_ = ln.Close()
	}
	for _, c := range conns {
		c.shutdown()
	}
}

// relisten listens again on the proxy's address, trying for a while if
// the address cannot be bound at once; it reports false once the proxy is
// closed or the address cannot be had.
func (p *Proxy) relisten() bool {
	deadline := time.Now().Add(relistenFor)
	for {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.closed {
				_ = ln.Close()
				return false
			}
			p.ln = ln
			p.wg.Add(1)
			go p.accept(ln)
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-p.ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// normalize checks cfg and fills in defaults.
func (cfg *Config) normalize() error {
	if cfg.Target == "" {
		return errors.New("faultproxy: no target")
	}
	if err := checkLoopback(cfg.Target); err != nil {
		return fmt.Errorf("faultproxy: target: %w", err)
	}
	if cfg.Listen == "" {
		cfg.Listen = defaultListen
	}
	if err := checkLoopback(cfg.Listen); err != nil {
		return fmt.Errorf("faultproxy: listen: %w", err)
	}
	if cfg.MaxFrame == 0 {
		cfg.MaxFrame = wire.DefaultMaxFrame
	}
	if cfg.MaxFrame < 0 || cfg.MaxFrame > wire.HardMaxFrame {
		return fmt.Errorf("faultproxy: max frame %d out of range (1..%d)", cfg.MaxFrame, wire.HardMaxFrame)
	}
	if cfg.SwapWait == 0 {
		cfg.SwapWait = defaultSwapWait
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"StallEvery", int64(cfg.StallEvery)}, {"StallFor", int64(cfg.StallFor)},
		{"DropEvery", int64(cfg.DropEvery)}, {"DuplicateEvery", int64(cfg.DuplicateEvery)},
		{"SwapEvery", int64(cfg.SwapEvery)}, {"SwapWait", int64(cfg.SwapWait)},
		{"SlowAbove", int64(cfg.SlowAbove)}, {"SlowDelay", int64(cfg.SlowDelay)},
		{"Delay", int64(cfg.Delay)},
		{"CutEvery", int64(cfg.CutEvery)}, {"CutFor", int64(cfg.CutFor)},
	} {
		if f.v < 0 {
			return fmt.Errorf("faultproxy: negative %s", f.name)
		}
	}
	if cfg.stalling() && cfg.StallFor >= cfg.StallEvery {
		return fmt.Errorf("faultproxy: StallFor %v is not shorter than StallEvery %v", cfg.StallFor, cfg.StallEvery)
	}
	if cfg.CutFor > 0 && cfg.CutFor >= cfg.CutEvery {
		return fmt.Errorf("faultproxy: CutFor %v is not shorter than CutEvery %v", cfg.CutFor, cfg.CutEvery)
	}
	return nil
}

func (cfg *Config) stalling() bool { return cfg.StallEvery > 0 && cfg.StallFor > 0 }

// checkLoopback accepts host:port where host is a loopback IP literal.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%q: %w", hostport, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%q is not a loopback IP address (127.0.0.0/8 or ::1): the proxy is for tests on loopback only", hostport)
	}
	return nil
}

// Addr returns the address the proxy listens on, host:port (the same
// after a cut).
func (p *Proxy) Addr() string { return p.addr }

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats {
	return Stats{
		Accepted:   p.accepted.Load(),
		Open:       p.open.Load(),
		Customers:  p.customers.Load(),
		Stalls:     p.stallsBegun(),
		Dropped:    p.dropped.Load(),
		Duplicated: p.duplicated.Load(),
		Swapped:    p.swapped.Load(),
		Delayed:    p.delayed.Load(),
		Cuts:       p.cuts.Load(),
		CutConns:   p.cutConns.Load(),
	}
}

// Close closes the listener and every connection, and waits for every
// goroutine of the proxy to end. It is idempotent: later calls wait for the
// first and return its result.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.closedAt.Store(time.Now().UnixNano())
		p.cancel()
		p.mu.Lock()
		p.closed = true
		if p.ln != nil {
			if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				p.closeErr = fmt.Errorf("faultproxy: close listener: %w", err)
			}
		}
		conns := make([]*conn, 0, len(p.conns))
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		for _, c := range conns {
			c.shutdown()
		}
		p.wg.Wait()
	})
	return p.closeErr
}

// stallsBegun counts the stall windows that have begun (up to Close).
func (p *Proxy) stallsBegun() int64 {
	if !p.cfg.stalling() {
		return 0
	}
	now := time.Now()
	if at := p.closedAt.Load(); at != 0 {
		now = time.Unix(0, at)
	}
	el := now.Sub(p.start)
	if el < p.cfg.StallEvery {
		return 0
	}
	return int64(el / p.cfg.StallEvery)
}

// stallEnd returns when the stall in progress at now ends, or the zero time
// when no stall is in progress. Stall k (k ≥ 1) covers
// [start + k·StallEvery, start + k·StallEvery + StallFor).
func (p *Proxy) stallEnd(now time.Time) time.Time {
	if !p.cfg.stalling() {
		return time.Time{}
	}
	el := now.Sub(p.start)
	k := el / p.cfg.StallEvery
	if k < 1 {
		return time.Time{}
	}
	into := el - k*p.cfg.StallEvery
	if into >= p.cfg.StallFor {
		return time.Time{}
	}
	return now.Add(p.cfg.StallFor - into)
}

// accept accepts connections on ln until it is closed (by Close or a cut).
func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			// A transient error (out of descriptors, ...): back off a
			// little rather than spin.
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		p.accepted.Add(1)
		p.open.Add(1)
		c := &conn{p: p, client: client, notify: make(chan struct{}, 1), done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.shutdown()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go c.serve()
	}
}

// conn is one client connection and its connection to the target.
type conn struct {
	p      *Proxy
	client net.Conn

	info atomic.Pointer[helloInfo] // set once the client's first frame is read

	mu       sync.Mutex
	server   net.Conn
	closed   bool
	customer bool // counted in p.customers
	queue    []item

	notify chan struct{} // cap 1: the queue grew
	done   chan struct{} // closed by shutdown

	closeOnce sync.Once
}

// helloInfo is what the proxy learned from the client's first frame.
type helloInfo struct {
	hello  bool // the first frame was a Hello
	role   wire.Role
	device string
}

// item is one server→client frame on its way to the client, or the end of
// the server's stream.
type item struct {
	frame    []byte // whole frame, header included
	due      time.Time
	delivery bool
	conv     uint64
	copies   int  // 2 when duplicated
	hold     bool // to be swapped with the next Delivery of conv
	end      bool // the server's stream ended: flush and close
}

// held is a Delivery held back for a swap.
type held struct {
	it       item
	deadline time.Time
}

// serve dials the target and runs the connection until either side ends.
func (c *conn) serve() {
	defer c.p.wg.Done()
	defer c.shutdown()
	d := net.Dialer{Timeout: dialTimeout}
	server, err := d.DialContext(c.p.ctx, "tcp", c.p.cfg.Target)
	if err != nil {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		server.Close()
		return
	}
	c.server = server
	c.mu.Unlock()

	c.p.wg.Add(2)
	go func() {
		defer c.p.wg.Done()
		c.readServer(server)
	}()
	go func() {
		defer c.p.wg.Done()
		c.writeClient()
	}()
	c.forwardClient(server)
}

// shutdown closes both sides and updates the counters, once.
func (c *conn) shutdown() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		server := c.server
		customer := c.customer
		c.queue = nil
		c.mu.Unlock()
		close(c.done)
		c.client.Close()
		if server != nil {
			server.Close()
		}
		if customer {
			c.p.customers.Add(-1)
		}
		c.p.open.Add(-1)
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}

// forwardClient copies client→server bytes. It decodes the first frame to
// learn the client's Hello, and forwards everything unchanged. The client
// going away ends the connection; a failed write to the server only stops
// this direction, so that what the server sent before it closed (an error
// frame, say) still reaches the client.
func (c *conn) forwardClient(server net.Conn) {
	buf := make([]byte, 32<<10)
	first, ok := c.readFirst(buf)
	if !ok {
		c.shutdown()
		return
	}
	if _, err := server.Write(first); err != nil {
		return
	}
	for {
		n, err := c.client.Read(buf)
		if n > 0 {
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			c.shutdown()
			return
		}
	}
}

// readFirst reads the client's first frame (or, when its header is not a
// sane frame header, just the header) and records what it says. It returns
// the bytes to forward.
func (c *conn) readFirst(buf []byte) ([]byte, bool) {
	hdr := buf[:wire.HeaderSize]
	if _, err := io.ReadFull(c.client, hdr); err != nil {
		return nil, false
	}
	info := &helloInfo{}
	l := binary.BigEndian.Uint32(hdr)
	if l == 0 || uint64(l) > uint64(c.p.cfg.MaxFrame) {
		c.setInfo(info)
		return hdr, true
	}
	frame := make([]byte, wire.HeaderSize+int(l))
	copy(frame, hdr)
	if _, err := io.ReadFull(c.client, frame[wire.HeaderSize:]); err != nil {
		return nil, false
	}
	if m, err := wire.Decode(frame[wire.HeaderSize:]); err == nil {
		if h, ok := m.(*wire.Hello); ok {
			info = &helloInfo{hello: true, role: h.Role, device: h.Device}
		}
	}
	c.setInfo(info)
	return frame, true
}

// setInfo publishes what the first frame said, before it is forwarded (so
// before the server can answer it), and counts a customer.
func (c *conn) setInfo(info *helloInfo) {
	c.info.Store(info)
	if !info.hello || info.role != wire.RoleCustomer {
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.customer = true
		c.p.customers.Add(1)
	}
	c.mu.Unlock()
}

// faulty reports whether device faults apply to this connection.
func (c *conn) faulty() bool {
	cfg := &c.p.cfg
	if cfg.DropEvery == 0 && cfg.DuplicateEvery == 0 && cfg.SwapEvery == 0 {
		return false
	}
	info := c.info.Load()
	if info == nil || !info.hello {
		return false
	}
	return cfg.Device == "" || cfg.Device == info.device
}

// readServer reads whole frames from the server, decides their faults and
// queues them for the writer. It never blocks on the client.
func (c *conn) readServer(server net.Conn) {
	cfg := &c.p.cfg
	var buf []byte
	var deliveries int
	for {
		_, nb, err := wire.ReadFrame(server, buf, cfg.MaxFrame)
		buf = nb
		now := time.Now()
		due := now.Add(cfg.Delay)
		if cfg.SlowAbove > 0 && cfg.SlowDelay > 0 && c.p.customers.Load() > int64(cfg.SlowAbove) {
			due = due.Add(cfg.SlowDelay)
		}
		if due.After(now) && err == nil {
			c.p.delayed.Add(1)
		}
		if err != nil {
			c.push(item{end: true, due: due})
			return
		}
		it := item{frame: append([]byte(nil), buf...), due: due, copies: 1}
		if it.frame[wire.HeaderSize] == byte(wire.TDelivery) {
			if conv, n := binary.Uvarint(it.frame[wire.HeaderSize+1:]); n > 0 {
				it.delivery, it.conv = true, conv
			}
		}
		if it.delivery && c.faulty() {
			deliveries++
			if every(deliveries, cfg.DropEvery) {
				c.p.dropped.Add(1)
				continue
			}
			if every(deliveries, cfg.DuplicateEvery) {
				c.p.duplicated.Add(1)
				it.copies = 2
			}
			it.hold = every(deliveries, cfg.SwapEvery)
		}
		c.push(it)
	}
}

func every(n, every int) bool { return every > 0 && n%every == 0 }

// push queues it for the writer and wakes it.
func (c *conn) push(it item) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, it)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// writeClient writes queued frames to the client in order, each when it is
// due and no stall is in progress, doing the swaps.
func (c *conn) writeClient() {
	var pending []item
	var holds []held // in deadline order: SwapWait is constant
	defer c.shutdown()
	for {
		c.mu.Lock()
		pending = append(pending, c.queue...)
		clear(c.queue)
		c.queue = c.queue[:0]
		c.mu.Unlock()

		now := time.Now()
		if end := c.p.stallEnd(now); !end.IsZero() {
			if !c.wait(end) {
				return
			}
			continue
		}
		if len(holds) > 0 && !now.Before(holds[0].deadline) {
			h := holds[0]
			holds[0] = held{}
			holds = holds[1:]
			if !c.write(h.it) {
				return
			}
			continue
		}
		if len(pending) > 0 && !now.Before(pending[0].due) {
			it := pending[0]
			pending[0] = item{}
			pending = pending[1:]
			switch {
			case it.end:
				for _, h := range holds {
					if !c.write(h.it) {
						return
					}
				}
				return
			case !it.delivery:
				if !c.write(it) {
					return
				}
			default:
				if i := heldFor(holds, it.conv); i >= 0 {
					h := holds[i]
					holds = append(holds[:i], holds[i+1:]...)
					if !c.write(it) || !c.write(h.it) {
						return
					}
					c.p.swapped.Add(1)
				} else if it.hold {
					holds = append(holds, held{it: it, deadline: now.Add(c.p.cfg.SwapWait)})
				} else if !c.write(it) {
					return
				}
			}
			continue
		}
		var wake time.Time
		if len(pending) > 0 {
			wake = pending[0].due
		}
		if len(holds) > 0 && (wake.IsZero() || holds[0].deadline.Before(wake)) {
			wake = holds[0].deadline
		}
		if !c.wait(wake) {
			return
		}
	}
}

func heldFor(holds []held, conv uint64) int {
	for i := range holds {
		if holds[i].it.conv == conv {
			return i
		}
	}
	return -1
}

// write writes it (twice when duplicated) to the client.
func (c *conn) write(it item) bool {
	for range it.copies {
		if _, err := c.client.Write(it.frame); err != nil {
			return false
		}
	}
	return true
}

// wait sleeps until the queue grows, until (unless zero) or shutdown; it
// returns false on shutdown.
func (c *conn) wait(until time.Time) bool {
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-c.notify:
	case <-timeout:
	case <-c.done:
		return false
	}
	return true
}
