// Package gnet serves the swarmdesk protocol on gnet's event loops: a few
// loops hold every connection, frames are decoded in place from gnet's
// buffers, and writes from other goroutines (fanout) are batched: a
// connection copies each frame into its own bounded queue, and one task per
// loop writes every queued connection of that loop.
//
// gnet's own outbound buffer grows without bound (upstream issues #213,
// #337, #423), so the bound is ours: a connection whose queue plus gnet's
// outbound buffer passes Config.MaxOutbound is closed as a slow reader.
//
// Hostile peers are bounded here too: a periodic sweep on each loop closes
// connections that said no hello in time, sent nothing for three
// heartbeats (a peer gone without a FIN), or began a frame and did not
// finish it within Config.FrameTimeout (slow-loris: a trickle of bytes
// keeps resetting the idle timer, not this one). A peer that shuts down
// its write side is closed at once (gnet closes on end of stream). Beyond
// Config.MaxConns connections, a new one is refused with CodeOverloaded.
package gnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gn "github.com/panjf2000/gnet/v2"
	gnerrors "github.com/panjf2000/gnet/v2/pkg/errors"
	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Server is a gnet engine serving one server.Server.
type Server struct {
	gn.BuiltinEventEngine

	srv   *server.Server
	cfg   server.Config
	addr  string
	loops int
	log   *slog.Logger

	eng      gn.Engine
	booted   chan struct{}
	done     chan struct{}
	runErr   error
	bound    atomic.Value // string: the address actually listened on
	closing  atomic.Bool
	lastTick time.Time
	lastScan time.Time

	// sweepEvery is how often the timeouts are checked: a quarter of the
	// shortest, at most a second.
	sweepEvery time.Duration
	// maxConns bounds held; a connection opened beyond it is refused.
	maxConns int64
	held     atomic.Int64

	mu      sync.Mutex
	loopMap map[gn.EventLoop]*loop
}

// Option configures a Server.
type Option func(*Server)

// WithLoops sets the number of event loops (default: one per core).
func WithLoops(n int) Option { return func(s *Server) { s.loops = n } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns a server for srv that will listen on addr (host:port).
func New(srv *server.Server, addr string, opts ...Option) *Server {
	s := &Server{
		srv: srv, cfg: srv.Config(), addr: addr, log: slog.Default(),
		booted: make(chan struct{}), done: make(chan struct{}),
		loopMap: make(map[gn.EventLoop]*loop),
	}
	for _, o := range opts {
		o(s)
	}
	s.sweepEvery = server.SweepInterval(s.cfg)
	return s
}

// Start runs the engine in the background and returns once it listens (or
// failed to).
func (s *Server) Start() error {
	bound, err := server.ConnBound(s.cfg.MaxConns)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.addr, err)
	}
	s.maxConns = int64(bound)
	s.srv.Metrics().TrackConns(s.held.Load, bound)
	go func() {
		defer close(s.done)
		opts := []gn.Option{
			gn.WithMulticore(true),
			gn.WithTicker(true),
			gn.WithReuseAddr(true),
			gn.WithTCPNoDelay(gn.TCPNoDelay),
			gn.WithLogger(quietLogger{s.log}),
		}
		if s.loops > 0 {
			opts = append(opts, gn.WithNumEventLoop(s.loops))
		}
		s.runErr = gn.Run(s, "tcp://"+s.addr, opts...)
	}()
	select {
	case <-s.booted:
		return nil
	case <-s.done:
		return fmt.Errorf("listen %s: %w", s.addr, s.runErr)
	}
}

// Addr returns the address the server listens on (with the real port when
// it was asked for port 0).
func (s *Server) Addr() string {
	a, _ := s.bound.Load().(string)
	return a
}

// Shutdown stops accepting, flushes every connection's queue, tells each
// client the server is stopping, closes them and waits for the engine.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		<-s.done
		return nil
	}
	var wg sync.WaitGroup
	for _, l := range s.loopList() {
		wg.Add(1)
		err := l.el.Execute(ctx, gn.RunnableFunc(func(context.Context) error {
			defer wg.Done()
			for c := range l.conns {
				c.flush()
				c.fault(&server.Fault{Code: wire.CodeShutdown, Text: "server shutting down"})
			}
			return nil
		}))
		if err != nil {
			wg.Done()
		}
	}
	wg.Wait()
	// gnet's Stop polls for the engine's end every 500ms, so it takes at
	// least that; Run returning (done) says the engine ended, and ends the
	// wait.
	stopCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- s.eng.Stop(stopCtx) }()
	<-s.done
	cancel()
	err := <-stopped
	if err != nil && ctx.Err() == nil && errors.Is(err, context.Canceled) {
		err = nil // ended by the cancel above
	}
	if err != nil {
		return fmt.Errorf("stop gnet engine: %w", err)
	}
	if s.runErr != nil && !errors.Is(s.runErr, gnerrors.ErrEngineShutdown) {
		return fmt.Errorf("gnet engine: %w", s.runErr)
	}
	return nil
}

func (s *Server) loopList() []*loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := make([]*loop, 0, len(s.loopMap))
	for _, l := range s.loopMap {
		ls = append(ls, l)
	}
	return ls
}

func (s *Server) loopOf(el gn.EventLoop) *loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.loopMap[el]
	if l == nil {
		l = &loop{el: el, conns: make(map[*conn]struct{})}
		s.loopMap[el] = l
	}
	return l
}

// OnBoot implements gn.EventHandler.
func (s *Server) OnBoot(eng gn.Engine) gn.Action {
	s.eng = eng
	s.bound.Store(s.addr)
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			if in4, ok := sa.(*unix.SockaddrInet4); ok {
				s.bound.Store((&net.TCPAddr{IP: in4.Addr[:], Port: in4.Port}).String())
			} else if in6, ok := sa.(*unix.SockaddrInet6); ok {
				s.bound.Store((&net.TCPAddr{IP: in6.Addr[:], Port: in6.Port}).String())
			}
		}
		_ = unix.Close(fd)
	}
	s.lastTick, s.lastScan = time.Now(), time.Now()
	close(s.booted)
	return gn.None
}

// MaxConns returns the bound on the connections held: Config.MaxConns, or
// the one derived from the open-file limit.
func (s *Server) MaxConns() int { return int(s.maxConns) }

// OnOpen implements gn.EventHandler. A connection beyond the bound is
// refused at once with CodeOverloaded; gnet writes the frame and closes it,
// and it never becomes a session.
func (s *Server) OnOpen(gc gn.Conn) ([]byte, gn.Action) {
	if s.closing.Load() {
		return (&server.Fault{Code: wire.CodeShutdown, Text: "server shutting down"}).Frame(), gn.Close
	}
	if s.held.Add(1) > s.maxConns {
		s.held.Add(-1)
		m := s.srv.Metrics()
		m.RefusedOverloaded()
		m.Disconnect(wire.CodeOverloaded)
		return (&server.Fault{Code: wire.CodeOverloaded, Text: fmt.Sprintf("server at capacity: %d connections", s.maxConns)}).Frame(), gn.Close
	}
	l := s.loopOf(gc.EventLoop())
	now := time.Now().UnixNano()
	c := &conn{gc: gc, l: l, s: s, opened: now, lastRead: now}
	c.Init(s.srv, c)
	l.conns[c] = struct{}{}
	gc.SetContext(c)
	return nil, gn.None
}

// OnClose implements gn.EventHandler.
func (s *Server) OnClose(gc gn.Conn, _ error) gn.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gn.None
	}
	delete(c.l.conns, c)
	s.held.Add(-1)
	c.dead = true
	c.mu.Lock()
	c.closing = true
	c.slow = false
	c.release()
	c.mu.Unlock()
	c.Closed()
	return gn.None
}

// OnTraffic implements gn.EventHandler: it decodes every whole frame in
// place and hands it to the session.
func (s *Server) OnTraffic(gc gn.Conn) gn.Action {
	c := gc.Context().(*conn)
	if c.isClosing() {
		return gn.None
	}
	now := time.Now().UnixNano()
	c.lastRead = now
	m := s.srv.Metrics()
	handled := false
	for {
		n := gc.InboundBuffered()
		if n < wire.HeaderSize {
			break
		}
		hdr, err := gc.Peek(wire.HeaderSize)
		if err != nil {
			break
		}
		total, err := wire.FrameLen(hdr, s.cfg.MaxFrame)
		if err != nil {
			c.fault(server.AsFault(err))
			return gn.None
		}
		if n < total {
			break
		}
		frame, err := gc.Peek(total)
		if err != nil {
			break
		}
		m.FrameIn()
		// The frame is valid until Discard; the session copies what it keeps.
		herr := c.Handle(frame[wire.HeaderSize:])
		_, _ = gc.Discard(total)
		handled = true
		if herr != nil {
			c.flush()
			c.fault(server.AsFault(herr))
			return gn.None
		}
	}
	// A partial frame left over starts the frame clock, unless it is the
	// rest of one already timed; none left stops it.
	switch {
	case gc.InboundBuffered() == 0:
		c.frameStart = 0
	case handled || c.frameStart == 0:
		c.frameStart = now
	}
	c.flush()
	return gn.None
}

// OnTick implements gn.EventHandler: the server's timed work every tick,
// and every sweepEvery a sweep of the timeouts run on each loop over its
// own connections.
func (s *Server) OnTick() (time.Duration, gn.Action) {
	now := time.Now()
	if now.Sub(s.lastTick) >= s.cfg.Tick {
		s.lastTick = now
		s.srv.Tick()
	}
	if now.Sub(s.lastScan) >= s.sweepEvery && !s.closing.Load() {
		s.lastScan = now
		lim := limits{
			now:   now.UnixNano(),
			idle:  (3 * s.cfg.Heartbeat).Nanoseconds(),
			hello: s.cfg.HelloTimeout.Nanoseconds(),
			frame: s.cfg.FrameTimeout.Nanoseconds(),
		}
		for _, l := range s.loopList() {
			_ = l.el.Execute(context.Background(), gn.RunnableFunc(func(context.Context) error {
				l.sweep(lim)
				return nil
			}))
		}
	}
	return min(s.cfg.Tick, s.sweepEvery), gn.None
}

// loop is swarmdesk's state of one gnet event loop.
type loop struct {
	el gn.EventLoop

	mu        sync.Mutex
	dirty     []*conn
	spare     []*conn
	scheduled bool

	conns map[*conn]struct{} // touched only on the loop's goroutine
}

func (l *loop) markDirty(c *conn) {
	l.mu.Lock()
	l.dirty = append(l.dirty, c)
	schedule := !l.scheduled
	l.scheduled = true
	l.mu.Unlock()
	if schedule {
		if err := l.el.Execute(context.Background(), l); err != nil {
			// The engine is shutting down: nothing will be written.
			l.mu.Lock()
			l.scheduled = false
			l.mu.Unlock()
		}
	}
}

// Run implements gn.Runnable: it writes the queue of every connection of
// this loop that has one. It runs on the loop's goroutine.
func (l *loop) Run(context.Context) error {
	l.mu.Lock()
	batch := l.dirty
	l.dirty = l.spare[:0]
	l.scheduled = false
	l.mu.Unlock()
	for i, c := range batch {
		c.flush()
		batch[i] = nil
	}
	l.mu.Lock()
	l.spare = batch[:0]
	l.mu.Unlock()
	return nil
}

// limits are the timeouts a sweep applies, in nanoseconds, and the time it
// applies them at. A zero frame timeout is none.
type limits struct {
	now, idle, hello, frame int64
}

func (l *loop) sweep(lim limits) {
	for c := range l.conns {
		switch {
		case !c.Ready() && lim.now-c.opened > lim.hello:
			c.fault(&server.Fault{Code: wire.CodeNotHello, Text: "no hello in time"})
		case lim.frame > 0 && c.frameStart != 0 && lim.now-c.frameStart > lim.frame:
			c.fault(&server.Fault{Code: wire.CodeFrameTimeout, Text: fmt.Sprintf(
				"frame not completed within %s of its first byte", time.Duration(lim.frame))})
		case lim.now-c.lastRead > lim.idle:
			c.fault(&server.Fault{Code: wire.CodeIdle, Text: "nothing received within three heartbeats"})
		}
	}
}

// conn is one client connection.
type conn struct {
	server.Session

	gc gn.Conn
	l  *loop
	s  *Server

	opened, lastRead int64 // loop goroutine only
	// frameStart is when the first byte of the frame not yet complete
	// arrived (0: none pending); loop goroutine only.
	frameStart int64
	// dead is set by OnClose, on the loop goroutine, and checked there
	// before every write: gnet's Conn.Write does not check that the
	// connection is still open, and the kernel reuses its descriptor at
	// once, so a late write could reach another client.
	dead bool

	mu      sync.Mutex
	pending *[]byte // from bufPool while frames wait; nil when idle
	queued  bool
	closing bool
	slow    bool
}

// bufPool holds the queues of connections with frames waiting, so an idle
// connection holds no buffer.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// Send implements fanout.Conn: it queues a copy of frame, bounded.
func (c *conn) Send(frame []byte) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	queuedBytes := 0
	if c.pending != nil {
		queuedBytes = len(*c.pending)
	}
	ok := queuedBytes+len(frame) <= c.s.cfg.MaxOutbound
	if ok {
		if c.pending == nil {
			c.pending = bufPool.Get().(*[]byte)
		}
		*c.pending = append(*c.pending, frame...)
	} else {
		// Over the bound: drop the queue; the loop closes the connection.
		c.closing, c.slow = true, true
		c.release()
	}
	schedule := !c.queued
	c.queued = true
	c.mu.Unlock()
	if schedule {
		c.l.markDirty(c)
	}
	return ok
}

// release returns the queue's buffer to the pool; c.mu is held.
func (c *conn) release() {
	if c.pending != nil {
		putBuf(c.pending)
	}
	c.pending = nil
}

// flush writes the queued frames into gnet; it runs on the loop.
func (c *conn) flush() {
	if c.dead {
		return
	}
	c.mu.Lock()
	buf := c.pending
	c.pending = nil
	c.queued = false
	slow := c.slow
	c.slow = false
	c.mu.Unlock()
	if slow {
		c.s.srv.Metrics().SlowReader()
		c.fault(&server.Fault{Code: wire.CodeSlowReader, Text: "outbound queue over its bound: reading too slowly"})
		return
	}
	if buf == nil {
		return
	}
	_, err := c.gc.Write(*buf)
	putBuf(buf)
	if err != nil {
		return
	}
	if c.gc.OutboundBuffered() > c.s.cfg.MaxOutbound {
		c.s.srv.Metrics().SlowReader()
		c.fault(&server.Fault{Code: wire.CodeSlowReader, Text: "outbound buffer over its bound: reading too slowly"})
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// fault reports f to the peer and closes the connection; it runs on the
// loop. gnet tries to write what is buffered before it closes.
func (c *conn) fault(f *server.Fault) {
	if c.dead {
		return
	}
	c.mu.Lock()
	c.closing = true
	c.release()
	c.mu.Unlock()
	m := c.s.srv.Metrics()
	m.Disconnect(f.Code)
	if f.Code != wire.CodeShutdown && f.Code != wire.CodeSlowReader && f.Code != wire.CodeIdle {
		m.ProtocolError()
	}
	_, _ = c.gc.Write(f.Frame())
	_ = c.gc.Close()
}

// quietLogger routes gnet's logs to slog at debug level, except errors.
type quietLogger struct{ l *slog.Logger }

func (q quietLogger) Debugf(f string, a ...any) { q.l.Debug(fmt.Sprintf(f, a...)) }
func (q quietLogger) Infof(f string, a ...any)  { q.l.Debug(fmt.Sprintf(f, a...)) }
func (q quietLogger) Warnf(f string, a ...any)  { q.l.Warn(fmt.Sprintf(f, a...)) }
func (q quietLogger) Errorf(f string, a ...any) { q.l.Error(fmt.Sprintf(f, a...)) }
func (q quietLogger) Fatalf(f string, a ...any) { q.l.Error(fmt.Sprintf(f, a...)) }
