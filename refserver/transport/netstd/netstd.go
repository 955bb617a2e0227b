// Package netstd serves the swarmdesk protocol the common Go way: a
// net.Listener, and per connection two goroutines, a reader and a writer,
// as in gorilla/websocket's chat example (readPump, writePump). It serves
// the same protocol, limits, error codes and metrics as the gnet
// transport, so either can back refserver.
//
// The reader reads through a 4 KiB bufio.Reader: a frame's header, checked
// against Config.MaxFrame before any of its body is read (CodeTooLarge),
// then its body, handed to the connection's server.Session. A frame that
// fits the read buffer is handed over in place (bufio.Reader.Peek); a
// larger one is read into a buffer of the connection's, grown as needed up
// to Config.MaxFrame and dropped when the reader waits for more.
//
// The writer drains the connection's outbound queue. Send (fanout.Conn),
// called from any goroutine, copies the frame into the queue, bounded by
// Config.MaxOutbound bytes counting those the writer holds and has not
// written yet, and wakes the writer through a channel of capacity one. The
// queue already gathers the frames waiting into one buffer, written with
// one call, so the writer has no bufio.Writer (it would only add a copy);
// and knowing how much of a write went out lets it end the frame it was
// in before writing an error frame. An idle connection holds no queue
// buffer: buffers come from a pool.
//
// Timeouts are read deadlines, set before each read to the earliest that
// applies: hello (Config.HelloTimeout after the accept: CodeNotHello),
// frame (Config.FrameTimeout after the first byte of a frame not yet whole,
// however the rest trickles in: CodeFrameTimeout; 0 is none) and idle
// (three Config.Heartbeat after the last byte received: CodeIdle); a zero
// timeout is none. When the deadline passes, the timeout it was set for is
// the one reported.
//
// A connection ends one way, whoever ends it: no more frames are queued
// for it; the writer writes what it owes (unless it ended as a slow
// reader), then the error frame, if any, and shuts down its sending side;
// the reader stops handling frames, the session is closed, and the reader
// drains what the peer still sends (until the peer closes or is quiet for
// 50ms, half a second at most) before it closes the socket, so that the
// error frame is not lost to a reset (as net/http's closeWriteAndWait
// does). A peer that shut down its sending side (end of stream) gets what
// it is owed and is closed at once. A slow reader (its queue over the
// bound) has its queue dropped and the write in progress cut short at the
// end of the frame in flight, then gets CodeSlowReader if its socket takes
// it within a second.
//
// Beyond Config.MaxConns connections (or the bound derived from the
// open-file limit), a new connection gets CodeOverloaded at once and is
// closed; the others go on. Temporary accept errors (EMFILE, ...) back off
// from 5ms to 1s, as net/http does. One more goroutine runs the server's
// timed work every Config.Tick. TCP_NODELAY is left on (Go's default).
package netstd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

const (
	// readBufSize is the size of each connection's read buffer.
	readBufSize = 4 << 10
	// closeGrace bounds the writes of a connection that is ending: what it
	// is owed and its error frame.
	closeGrace = time.Second
	// lingerTime and lingerBytes bound how long, and how much, the reader
	// of an ended connection drains before it closes the socket (closing
	// with unread bytes sends a reset, which may destroy the error frame
	// before the peer reads it); it stops sooner once the peer has been
	// quiet for lingerQuiet.
	lingerTime  = 500 * time.Millisecond
	lingerQuiet = 50 * time.Millisecond
	lingerBytes = 256 << 10
	// refuseTimeout bounds the write of the error frame to a connection
	// refused at accept (a few bytes into an empty socket buffer).
	refuseTimeout = 100 * time.Millisecond
	// maxPooledBuf is the largest queue buffer kept for reuse.
	maxPooledBuf = 64 << 10
)

// Server serves one server.Server over TCP, a reader and a writer
// goroutine per connection.
type Server struct {
	srv  *server.Server
	cfg  server.Config
	addr string
	log  *slog.Logger

	started  atomic.Bool
	ln       net.Listener
	bound    string
	maxConns int64
	held     atomic.Int64

	closing atomic.Bool
	stop    chan struct{} // closed by Shutdown: the accept loop and the ticker stop
	done    chan struct{} // closed when Shutdown has finished
	wg      sync.WaitGroup

	mu    sync.Mutex
	conns map[*conn]struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns a server for srv that will listen on addr (host:port).
func New(srv *server.Server, addr string, opts ...Option) *Server {
	s := &Server{
		srv: srv, cfg: srv.Config(), addr: addr, log: slog.Default(),
		stop: make(chan struct{}), done: make(chan struct{}),
		conns: make(map[*conn]struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start listens, then accepts connections and runs the server's timed work
// in the background. It returns once it listens, or failed to.
func (s *Server) Start() error {
	if !s.started.CompareAndSwap(false, true) {
		return fmt.Errorf("netstd: listen %s: already started", s.addr)
	}
	if s.closing.Load() {
		return fmt.Errorf("netstd: listen %s: already shut down", s.addr)
	}
	if s.cfg.Tick <= 0 {
		return fmt.Errorf("netstd: listen %s: tick %s is not positive", s.addr, s.cfg.Tick)
	}
	bound, err := server.ConnBound(s.cfg.MaxConns)
	if err != nil {
		return fmt.Errorf("netstd: listen %s: %w", s.addr, err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("netstd: %w", err)
	}
	s.ln, s.bound, s.maxConns = ln, ln.Addr().String(), int64(bound)
	s.srv.Metrics().TrackConns(s.held.Load, bound)
	s.wg.Add(2)
	go s.acceptLoop()
	go s.tickLoop()
	return nil
}

// Addr returns the address the server listens on (with the real port when
// it was asked for port 0); empty before Start.
func (s *Server) Addr() string { return s.bound }

// MaxConns returns the bound on the connections held: Config.MaxConns, or
// the one derived from the open-file limit. It is 0 before Start.
func (s *Server) MaxConns() int { return int(s.maxConns) }

// Shutdown stops accepting, flushes every connection's queue, tells each
// client the server is stopping (CodeShutdown), closes the connections and
// waits for every goroutine of the server. When ctx ends first, the
// connections left are closed at once, and Shutdown still waits for the
// goroutines (they end promptly) and reports ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		select {
		case <-s.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("netstd: wait for shutdown: %w", ctx.Err())
		}
	}
	defer close(s.done)
	close(s.stop)
	var errs []error
	if s.ln != nil {
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netstd: close listener: %w", err))
		}
	}
	bye := &server.Fault{Code: wire.CodeShutdown, Text: "server shutting down"}
	for _, c := range s.connList() {
		c.stop(bye, true)
	}
	all := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-ctx.Done():
		left := s.connList()
		for _, c := range left {
			_ = c.nc.Close()
		}
		<-all
		errs = append(errs, fmt.Errorf("netstd: shutdown: closed %d connections before they finished: %w", len(left), ctx.Err()))
	}
	return errors.Join(errs...)
}

func (s *Server) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	return cs
}

func (s *Server) tickLoop() {
	defer s.wg.Done()
	s.srv.TickEvery(s.cfg.Tick, s.stop)
}

// acceptLoop accepts connections until the listener is closed. Other
// accept errors (out of descriptors, aborted handshakes) are taken as
// temporary: it waits, 5ms doubling up to 1s while they last, and goes on.
func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("netstd: accept failed; retrying", "err", err, "delay", delay)
			t := time.NewTimer(delay)
			select {
			case <-s.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		delay = 0
		s.admit(nc)
	}
}

// admit starts serving nc, or refuses it: with CodeOverloaded beyond the
// bound, with CodeShutdown once Shutdown began.
func (s *Server) admit(nc net.Conn) {
	if s.held.Add(1) > s.maxConns {
		s.held.Add(-1)
		m := s.srv.Metrics()
		m.RefusedOverloaded()
		m.Disconnect(wire.CodeOverloaded)
		refuse(nc, &server.Fault{Code: wire.CodeOverloaded, Text: fmt.Sprintf("server at capacity: %d connections", s.maxConns)})
		return
	}
	now := time.Now()
	c := &conn{
		s: s, nc: nc,
		wake: make(chan struct{}, 1), wdone: make(chan struct{}),
		opened: now, lastRead: now,
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		s.held.Add(-1)
		refuse(nc, &server.Fault{Code: wire.CodeShutdown, Text: "server shutting down"})
		return
	}
	c.Init(s.srv, c)
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readPump()
	go c.writePump()
}

// refuse writes f's frame to a connection never served and closes it.
func refuse(nc net.Conn, f *server.Fault) {
	_ = nc.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_, _ = nc.Write(f.Frame())
	_ = nc.Close()
}

// forget drops an ended connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.held.Add(-1)
}

// conn is one client connection: its session, driven by the reader
// goroutine, and its outbound queue, drained by the writer goroutine.
type conn struct {
	server.Session

	s  *Server
	nc net.Conn

	// Reader goroutine only.
	opened, lastRead time.Time
	// frameStart is when the first byte of the frame not yet whole
	// arrived; zero while none of it has.
	frameStart time.Time
	// dlCode is the timeout the read deadline was last set for.
	dlCode wire.Code
	// big holds a frame larger than the read buffer.
	big []byte
	// peerGone: the peer ended its stream (or the socket failed), so
	// there is nothing to drain before closing.
	peerGone bool

	// ending is set, under mu, once the connection ends; it is read
	// without mu by the reader.
	ending atomic.Bool

	wake  chan struct{} // capacity 1: the queue has frames, or the connection ends
	wdone chan struct{} // closed when the writer has finished

	mu sync.Mutex
	q  *[]byte // frames waiting; from bufPool, nil when none
	// owed counts the bytes queued and those the writer holds and has not
	// written yet: what MaxOutbound bounds.
	owed  int
	fault *server.Fault // the error frame to end with, if any
	// interrupted: the connection ended as a slow reader and the write
	// deadline was moved to now, to cut short a write in progress.
	interrupted bool

	// Writer goroutine only; read by the reader once wdone is closed.
	werr  error  // the write that failed: nothing more can be written
	tail  []byte // the rest of a frame whose write was cut short
	clean bool   // everything owed and the error frame went out
}

// bufPool holds the outbound queues of connections with frames waiting,
// so an idle connection holds no buffer.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// Send implements fanout.Conn: it queues a copy of frame for the writer.
// It never blocks. Over the bound, the connection ends as a slow reader
// and Send returns false; it returns false too once the connection ends.
func (c *conn) Send(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ending.Load() {
		return false
	}
	if c.owed+len(frame) > c.s.cfg.MaxOutbound {
		c.s.srv.Metrics().SlowReader()
		c.stopLocked(&server.Fault{Code: wire.CodeSlowReader, Text: "outbound queue over its bound: reading too slowly"}, false)
		return false
	}
	if c.q == nil {
		c.q = bufPool.Get().(*[]byte)
	}
	*c.q = append(*c.q, frame...)
	c.owed += len(frame)
	c.wakeWriter()
	return true
}

func (c *conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stop ends the connection, unless it is ending already: with f's error
// frame (nil: none) after what is owed when flush, or, when not, dropping
// what is queued and cutting short a write in progress.
func (c *conn) stop(f *server.Fault, flush bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked(f, flush)
}

// stopLocked is stop with c.mu held. It counts f as gnet's transport does:
// a disconnect with its code, and a protocol error unless the peer did
// nothing wrong (shutdown, slow reader, idle).
func (c *conn) stopLocked(f *server.Fault, flush bool) {
	if c.ending.Load() {
		return
	}
	c.ending.Store(true)
	c.fault = f
	if f != nil {
		m := c.s.srv.Metrics()
		m.Disconnect(f.Code)
		if f.Code != wire.CodeShutdown && f.Code != wire.CodeSlowReader && f.Code != wire.CodeIdle {
			m.ProtocolError()
		}
	}
	now := time.Now()
	if flush {
		_ = c.nc.SetWriteDeadline(now.Add(closeGrace))
	} else {
		if c.q != nil {
			c.owed -= len(*c.q)
			putBuf(c.q)
			c.q = nil
		}
		c.interrupted = true
		_ = c.nc.SetWriteDeadline(now)
	}
	// Wake the reader if it waits for bytes; it reads ending after it set
	// its own deadline, so this one is not overwritten.
	_ = c.nc.SetReadDeadline(now)
	c.wakeWriter()
}

// takeInterrupt reports whether the write deadline was moved to now to cut
// a write short, and if so gives the writer closeGrace to end.
func (c *conn) takeInterrupt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.interrupted {
		return false
	}
	c.interrupted = false
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeGrace))
	return true
}

// writePump drains the queue until the connection ends.
func (c *conn) writePump() {
	defer c.s.wg.Done()
	defer close(c.wdone)
	for {
		<-c.wake
		for {
			c.mu.Lock()
			batch := c.q
			c.q = nil
			ending, f := c.ending.Load(), c.fault
			c.mu.Unlock()
			if batch != nil {
				c.write(*batch)
				c.mu.Lock()
				c.owed -= len(*batch)
				c.mu.Unlock()
				putBuf(batch)
				continue
			}
			if ending {
				c.finish(f)
				return
			}
			break
		}
	}
}

// write writes b, whole frames, unless a write failed before.
func (c *conn) write(b []byte) {
	if c.werr != nil {
		return
	}
	n, err := c.nc.Write(b)
	if err == nil {
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && c.takeInterrupt() {
		// Cut short as a slow reader: the rest of the frame in flight
		// goes before the error frame, which must start on a boundary.
		c.tail = append(c.tail[:0], b[n:frameEnd(b, n)]...)
		return
	}
	c.werr = err
	c.s.log.Debug("netstd: write failed", "remote", c.nc.RemoteAddr(), "err", err)
	c.stop(nil, true)
}

// frameEnd returns where the frame holding b[n-1] ends in b, a run of
// whole frames (n when n is 0 or on a boundary).
func frameEnd(b []byte, n int) int {
	off := 0
	for off < n && len(b)-off >= wire.HeaderSize {
		off += wire.HeaderSize + int(binary.BigEndian.Uint32(b[off:]))
	}
	return min(max(off, n), len(b))
}

// finish ends the writer's side: the rest of a frame cut short, the error
// frame, and a shutdown of the sending side.
func (c *conn) finish(f *server.Fault) {
	c.takeInterrupt()
	if c.werr == nil && len(c.tail) > 0 {
		_, c.werr = c.nc.Write(c.tail)
	}
	c.tail = nil
	if c.werr == nil && f != nil {
		_, c.werr = c.nc.Write(f.Frame())
	}
	if c.werr == nil {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			c.werr = cw.CloseWrite()
		}
	}
	c.clean = c.werr == nil
}

// readPump reads and handles frames until the connection ends, then closes
// the session and the socket.
func (c *conn) readPump() {
	defer c.s.wg.Done()
	f := c.readLoop()
	c.stop(f, true)
	<-c.wdone
	c.Closed()
	if c.clean && !c.peerGone {
		c.linger()
	}
	_ = c.nc.Close()
	c.s.forget(c)
}

// readLoop returns the fault that ends the connection, or nil when it ends
// without one (the peer's end of stream, a failed socket, or another
// goroutine ended it).
func (c *conn) readLoop() *server.Fault {
	br := bufio.NewReaderSize(connReader{c}, readBufSize)
	m := c.s.srv.Metrics()
	for {
		if br.Buffered() == 0 {
			c.big = nil
		}
		hdr, err := br.Peek(wire.HeaderSize)
		if err != nil {
			return c.readFailed(err)
		}
		total, err := wire.FrameLen(hdr, c.s.cfg.MaxFrame)
		if err != nil {
			return server.AsFault(err)
		}
		var body []byte
		consumed := 0 // bytes still to discard from br once handled
		if total <= br.Size() {
			frame, err := br.Peek(total)
			if err != nil {
				return c.readFailed(err)
			}
			body, consumed = frame[wire.HeaderSize:], total
		} else {
			if _, err := br.Discard(wire.HeaderSize); err != nil {
				return c.readFailed(err)
			}
			n := total - wire.HeaderSize
			if cap(c.big) < n {
				c.big = make([]byte, n)
			}
			body = c.big[:n]
			if _, err := io.ReadFull(br, body); err != nil {
				return c.readFailed(err)
			}
		}
		// The frame is whole: bytes already read beyond it start the next
		// one's clock, at the time they arrived.
		c.frameStart = time.Time{}
		if br.Buffered() > consumed {
			c.frameStart = c.lastRead
		}
		if c.ending.Load() {
			return nil
		}
		m.FrameIn()
		herr := c.Handle(body)
		if consumed > 0 {
			_, _ = br.Discard(consumed)
		}
		if herr != nil {
			return server.AsFault(herr)
		}
	}
}

// readFailed classifies a read error: a deadline of ours, the peer's end
// of stream, or a failed socket.
func (c *conn) readFailed(err error) *server.Fault {
	if c.ending.Load() {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return c.timeoutFault(c.dlCode)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.s.log.Debug("netstd: read failed", "remote", c.nc.RemoteAddr(), "err", err)
	}
	c.peerGone = true
	return nil
}

func (c *conn) timeoutFault(code wire.Code) *server.Fault {
	switch code {
	case wire.CodeNotHello:
		return &server.Fault{Code: wire.CodeNotHello, Text: "no hello in time"}
	case wire.CodeFrameTimeout:
		return &server.Fault{Code: wire.CodeFrameTimeout, Text: fmt.Sprintf(
			"frame not completed within %s of its first byte", c.s.cfg.FrameTimeout)}
	}
	return &server.Fault{Code: wire.CodeIdle, Text: "nothing received within three heartbeats"}
}

// deadline returns the earliest timeout that applies now, and its code;
// zero when none does.
func (c *conn) deadline() (time.Time, wire.Code) {
	cfg := &c.s.cfg
	var dl time.Time
	var code wire.Code
	consider := func(t time.Time, k wire.Code) {
		if dl.IsZero() || t.Before(dl) {
			dl, code = t, k
		}
	}
	if cfg.HelloTimeout > 0 && !c.Ready() {
		consider(c.opened.Add(cfg.HelloTimeout), wire.CodeNotHello)
	}
	if cfg.FrameTimeout > 0 && !c.frameStart.IsZero() {
		consider(c.frameStart.Add(cfg.FrameTimeout), wire.CodeFrameTimeout)
	}
	if cfg.Heartbeat > 0 {
		consider(c.lastRead.Add(3*cfg.Heartbeat), wire.CodeIdle)
	}
	return dl, code
}

// errEnding stops a read once the connection is ending.
var errEnding = errors.New("netstd: connection ending")

// connReader is what the read buffer reads from: the socket, under the
// deadline that applies, noting when bytes arrive.
type connReader struct{ c *conn }

// Read implements io.Reader.
func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	dl, code := c.deadline()
	if err := c.nc.SetReadDeadline(dl); err != nil {
		return 0, fmt.Errorf("netstd: set read deadline: %w", err)
	}
	c.dlCode = code
	// After the deadline is set: stop sets its own after ending.
	if c.ending.Load() {
		return 0, errEnding
	}
	n, err := c.nc.Read(p)
	if n > 0 {
		now := time.Now()
		c.lastRead = now
		if c.frameStart.IsZero() {
			c.frameStart = now
		}
	}
	return n, err
}

// linger reads and drops what the peer still sends, until it closes, is
// quiet for lingerQuiet, or lingerTime or lingerBytes is reached, so that
// closing the socket with unread bytes does not send a reset, which could
// destroy the error frame before the peer reads it.
func (c *conn) linger() {
	end := time.Now().Add(lingerTime)
	var buf [2048]byte
	for n := 0; n < lingerBytes; {
		dl := time.Now().Add(lingerQuiet)
		if dl.After(end) {
			dl = end
		}
		if err := c.nc.SetReadDeadline(dl); err != nil {
			return
		}
		k, err := c.nc.Read(buf[:])
		n += k
		if err != nil {
			return
		}
	}
}
