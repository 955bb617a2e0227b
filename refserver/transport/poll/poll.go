// Package poll serves the swarmdesk protocol over HTTP/1.1 polling, on
// fasthttp: the "HTTP binding (polling)" of refserver/wire/PROTOCOL.md,
// customer service 2.0's design (refserver --transport poll).
//
// A session stands for a connection: one server.Session, an outbound
// queue of frames and the bookkeeping of numbered batches. POST
// /v1/connect says hello and answers batch 1; POST /v1/send hands the
// frames of its body to the session in order, as if read from a
// connection; GET /v1/poll acknowledges batches and fetches the next one,
// at once or held until a frame is queued; DELETE /v1/session closes. The
// last batch handed out is kept until acknowledged, so an answer lost in
// transit is fetched again, the very same bytes, and no frame is lost or
// duplicated.
//
// The limits are a connection's, per session: frame size (a body beyond
// HTTPBodyFrames frames of the largest size gets 413 from fasthttp), frame
// rate (server.Session), the session bound (server.ConnBound; a connect
// beyond it gets 410 with CodeOverloaded), and the outbound bound: the
// bytes not yet fetched, queued or in the unacknowledged batch, past
// Config.MaxOutbound end the session with CodeSlowReader. Slow-loris is
// bounded by fasthttp's read timeout (Config.FrameTimeout). A sweeper ends
// the sessions that had no request for three heartbeats (CodeIdle; a held
// poll is a request in progress) and forgets the tombstones of ended
// sessions no poll fetched within three heartbeats.
//
// A held poll blocks a fasthttp worker goroutine, and with it the client's
// TCP connection, for up to HTTPMaxWaitMS: fasthttp serves one connection
// per goroutine, so every long-polling session costs a goroutine (its
// stack and buffers) and a connection even when nothing happens. That is
// this design's real cost next to a long-lived connection on an event loop
// (transport/gnet), and this transport keeps it rather than hide it; the
// worker bound (fasthttp's Concurrency) is sized for it.
package poll

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Server serves one server.Server over the HTTP binding.
type Server struct {
	srv  *server.Server
	cfg  server.Config
	addr string
	log  *slog.Logger

	http     *fasthttp.Server
	ln       net.Listener
	maxConns int64
	// held counts the live sessions, against maxConns.
	held atomic.Int64
	// idle is three heartbeats: how long a session may go without a
	// request, and how long a tombstone waits for its poll.
	idle time.Duration

	mu       sync.Mutex
	sessions map[string]*session
	closing  bool

	// doomed lists the sessions Send found over the outbound bound; kick
	// wakes the sweeper to end them. doomMu is taken under a session's mu.
	doomMu sync.Mutex
	doomed []*session
	kick   chan struct{}

	stop     chan struct{}
	wg       sync.WaitGroup
	served   chan error
	started  bool
	shutOnce sync.Once
	shutErr  error
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (fasthttp's messages go to it at debug level).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns a server for srv that will listen on addr (host:port).
func New(srv *server.Server, addr string, opts ...Option) *Server {
	s := &Server{
		srv: srv, cfg: srv.Config(), addr: addr, log: slog.Default(),
		sessions: make(map[string]*session),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		served:   make(chan error, 1),
	}
	for _, o := range opts {
		o(s)
	}
	s.idle = 3 * s.cfg.Heartbeat
	return s
}

// Faults this transport reports.
var (
	faultShutdown   = &server.Fault{Code: wire.CodeShutdown, Text: "server shutting down"}
	faultSlowReader = &server.Fault{Code: wire.CodeSlowReader, Text: "outbound queue over its bound: polling too slowly"}
	faultIdle       = &server.Fault{Code: wire.CodeIdle, Text: "nothing received within three heartbeats"}
	faultNoHello    = &server.Fault{Code: wire.CodeNotHello, Text: "connect without a hello"}
	// noSession answers a session id the server does not know.
	noSession = (&server.Fault{Code: wire.CodeNotHello, Text: "no such session: connect again with hello"}).Frame()
)

// Defaults for settings a zero Config leaves open.
const (
	defaultReadTimeout = 10 * time.Second
	writeTimeout       = 10 * time.Second
	defaultTick        = 250 * time.Millisecond
	defaultIdle        = 45 * time.Second
)

// Start listens, serves in the background and returns once listening. It
// also starts the server's timed work (server.Server.Tick every
// Config.Tick) and the sweeper (every server.SweepInterval).
func (s *Server) Start() error {
	bound, err := server.ConnBound(s.cfg.MaxConns)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.addr, err)
	}
	s.maxConns = int64(bound)
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.addr, err)
	}
	s.ln = ln
	s.srv.Metrics().TrackConns(s.held.Load, bound)

	readTimeout := s.cfg.FrameTimeout
	if readTimeout <= 0 {
		readTimeout = defaultReadTimeout
	}
	idleConn := s.idle
	if idleConn <= 0 {
		idleConn = defaultIdle
	}
	s.http = &fasthttp.Server{
		Handler:      s.handle,
		ErrorHandler: requestError,
		Logger:       fasthttpLogger{s.log},
		ReadTimeout:  readTimeout,
		// Set after the handler returns: it bounds writing the answer,
		// not holding a poll.
		WriteTimeout:       writeTimeout,
		IdleTimeout:        idleConn,
		MaxRequestBodySize: (s.cfg.MaxFrame + wire.HeaderSize) * wire.HTTPBodyFrames,
		// One worker per client connection: a held poll and a send per
		// session, and room for idle keep-alive connections.
		Concurrency:           max(fasthttp.DefaultConcurrency, min(2*bound+1024, math.MaxInt32)),
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
	}
	s.started = true
	go func() { s.served <- s.http.Serve(ln) }()

	tick := s.cfg.Tick
	if tick <= 0 {
		tick = defaultTick
	}
	s.wg.Add(2)
	go s.ticker(tick)
	go s.sweeper(server.SweepInterval(s.cfg))
	return nil
}

// Addr returns the address the server listens on (with the real port when
// it was asked for port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// MaxConns returns the bound on the sessions held: Config.MaxConns, or the
// one derived from the open-file limit (set by Start).
func (s *Server) MaxConns() int { return int(s.maxConns) }

// Shutdown ends every session with CodeShutdown (a held poll is answered
// 410 with the frames still queued and the error frame), stops fasthttp,
// waiting for the requests in progress as long as ctx allows, and waits
// for the goroutines Start started.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() { s.shutErr = s.shutdown(ctx) })
	return s.shutErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	list := make([]*session, 0, len(s.sessions))
	for _, c := range s.sessions {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		c.hmu.Lock()
		s.end(c, faultShutdown, nil)
		c.hmu.Unlock()
	}
	if !s.started {
		return nil
	}
	var errs []error
	if err := s.http.ShutdownWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop fasthttp: %w", err))
	}
	close(s.stop)
	s.wg.Wait()
	if err := <-s.served; err != nil {
		errs = append(errs, fmt.Errorf("serve %s: %w", s.Addr(), err))
	}
	return errors.Join(errs...)
}

func (s *Server) ticker(every time.Duration) {
	defer s.wg.Done()
	s.srv.TickEvery(every, s.stop)
}

func (s *Server) sweeper(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	var buf []*session
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
			s.reapDoomed()
		case <-t.C:
			s.reapDoomed()
			buf = s.sweep(time.Now(), buf[:0])
		}
	}
}

// doom lists c for the sweeper to end as a slow reader; c.mu is held.
func (s *Server) doom(c *session) {
	s.doomMu.Lock()
	s.doomed = append(s.doomed, c)
	s.doomMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Server) reapDoomed() {
	s.doomMu.Lock()
	list := s.doomed
	s.doomed = nil
	s.doomMu.Unlock()
	for _, c := range list {
		s.endSlow(c)
	}
}

// endSlow ends c as a slow reader if Send doomed it and it still lives.
func (s *Server) endSlow(c *session) {
	c.hmu.Lock()
	s.end(c, faultSlowReader, func() bool { return c.doomed })
	c.hmu.Unlock()
}

// sweep ends the sessions idle for three heartbeats and forgets the
// tombstones no poll fetched within three heartbeats. buf is scratch.
func (s *Server) sweep(now time.Time, buf []*session) []*session {
	s.mu.Lock()
	for _, c := range s.sessions {
		buf = append(buf, c)
	}
	s.mu.Unlock()
	idle, ttl := s.idle, s.idle
	if ttl <= 0 {
		ttl = defaultIdle
	}
	for i, c := range buf {
		buf[i] = nil
		c.mu.Lock()
		st, inflight, lastEnd, endedAt := c.state, c.inflight, c.lastEnd, c.endedAt
		c.mu.Unlock()
		switch {
		case st == live && idle > 0 && inflight == 0 && now.Sub(lastEnd) > idle:
			c.hmu.Lock()
			s.end(c, faultIdle, func() bool { return c.inflight == 0 && now.Sub(c.lastEnd) > idle })
			c.hmu.Unlock()
		case st != live && now.Sub(endedAt) > ttl:
			s.forget(c)
		}
	}
	return buf
}

// end ends c's session with f, or, for the client's DELETE, with nil. The
// caller holds c.hmu. check, when given, is evaluated under c.mu and may
// keep the session alive. It counts the fault as gnet's conn.fault does,
// wakes a held poll and calls Closed, and reports whether it ended the
// session (false when it had ended already).
func (s *Server) end(c *session, f *server.Fault, check func() bool) bool {
	c.mu.Lock()
	if c.state != live || check != nil && !check() {
		c.mu.Unlock()
		return false
	}
	c.endedAt = time.Now()
	if f == nil {
		c.state = deleted
		c.queue, c.last = nil, nil
	} else {
		c.state = ended
		c.errFrame = f.Frame()
		if f.Code == wire.CodeSlowReader {
			c.queue, c.last = nil, nil
		}
	}
	c.wakeLocked(false)
	c.mu.Unlock()
	s.held.Add(-1)
	if f != nil {
		m := s.srv.Metrics()
		if f.Code == wire.CodeSlowReader {
			m.SlowReader()
		}
		m.Disconnect(f.Code)
		if f.Code != wire.CodeShutdown && f.Code != wire.CodeSlowReader && f.Code != wire.CodeIdle {
			m.ProtocolError()
		}
	}
	c.Closed()
	return true
}

// forget drops c from the sessions: later requests naming it get 404.
func (s *Server) forget(c *session) {
	s.mu.Lock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
	}
	s.mu.Unlock()
}

func (s *Server) lookup(id []byte) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[string(id)]
}

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	var method string
	switch path {
	case wire.HTTPConnectPath, wire.HTTPSendPath:
		method = fasthttp.MethodPost
	case wire.HTTPPollPath:
		method = fasthttp.MethodGet
	case wire.HTTPSessionPath:
		method = fasthttp.MethodDelete
	default:
		plain(ctx, fasthttp.StatusNotFound, "no such path: "+path)
		return
	}
	s.srv.Metrics().HTTPRequest()
	if string(ctx.Method()) != method {
		ctx.Response.Header.Set(fasthttp.HeaderAllow, method)
		plain(ctx, fasthttp.StatusMethodNotAllowed, fmt.Sprintf("%s takes %s, not %s", path, method, ctx.Method()))
		return
	}
	if path == wire.HTTPConnectPath {
		s.connect(ctx)
		return
	}
	id := ctx.QueryArgs().Peek(wire.HTTPSessionParam)
	if len(id) == 0 {
		plain(ctx, fasthttp.StatusBadRequest, "missing query parameter "+wire.HTTPSessionParam)
		return
	}
	c := s.lookup(id)
	if c == nil {
		frames(ctx, fasthttp.StatusNotFound, noSession)
		return
	}
	switch path {
	case wire.HTTPSendPath:
		s.send(ctx, c)
	case wire.HTTPPollPath:
		s.poll(ctx, c)
	case wire.HTTPSessionPath:
		s.delete(ctx, c)
	}
}

// connect begins a session with the frames of the body, the first a hello,
// and answers batch 1.
func (s *Server) connect(ctx *fasthttp.RequestCtx) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		frames(ctx, fasthttp.StatusGone, faultShutdown.Frame())
		return
	}
	if s.held.Add(1) > s.maxConns {
		s.held.Add(-1)
		s.mu.Unlock()
		m := s.srv.Metrics()
		m.RefusedOverloaded()
		m.Disconnect(wire.CodeOverloaded)
		frames(ctx, fasthttp.StatusGone, (&server.Fault{Code: wire.CodeOverloaded,
			Text: fmt.Sprintf("server at capacity: %d connections", s.maxConns)}).Frame())
		return
	}
	c := &session{s: s, next: 1, inflight: 1, lastEnd: time.Now()}
	for c.id == "" || s.sessions[c.id] != nil {
		c.id = newID()
	}
	c.Init(s.srv, c)
	s.sessions[c.id] = c
	s.mu.Unlock()
	defer c.finish()

	body := ctx.PostBody()
	c.hmu.Lock()
	if c.isLive() {
		f := faultNoHello
		if len(body) > 0 {
			f = s.handleFrames(c, body)
		}
		if f == nil && c.isDoomed() {
			f = faultSlowReader
		}
		if f != nil {
			s.end(c, f, nil)
		}
	}
	c.hmu.Unlock()

	c.mu.Lock()
	if c.state != live {
		// No session id is given out: nothing is left for a poll.
		out := c.takeLocked()
		c.state = taken
		c.mu.Unlock()
		s.forget(c)
		frames(ctx, fasthttp.StatusGone, out)
		return
	}
	c.formLocked()
	batch := c.last
	c.mu.Unlock()
	ctx.Response.Header.Set(wire.HTTPSessionHeader, c.id)
	ctx.Response.Header.Set(wire.HTTPBatchHeader, "1")
	frames(ctx, fasthttp.StatusOK, batch)
}

// send hands the frames of the body to the session, in order.
func (s *Server) send(ctx *fasthttp.RequestCtx, c *session) {
	c.mu.Lock()
	c.beginLocked()
	c.mu.Unlock()
	defer c.finish()

	c.hmu.Lock()
	if !c.isLive() {
		c.hmu.Unlock()
		s.gone(ctx, c)
		return
	}
	f := s.handleFrames(c, ctx.PostBody())
	if f == nil && c.isDoomed() {
		f = faultSlowReader
	}
	if f != nil {
		s.end(c, f, nil)
	}
	c.hmu.Unlock()
	if f == nil {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	c.mu.Lock()
	out := c.takeLocked()
	c.mu.Unlock()
	frames(ctx, fasthttp.StatusGone, out)
}

// gone answers a send to a session no longer live: 410 with the error
// frame, leaving the rest of the tombstone to the next poll; 404 after a
// DELETE.
func (s *Server) gone(ctx *fasthttp.RequestCtx, c *session) {
	c.mu.Lock()
	st, errFrame := c.state, c.errFrame
	c.mu.Unlock()
	if st == deleted {
		frames(ctx, fasthttp.StatusNotFound, noSession)
		return
	}
	frames(ctx, fasthttp.StatusGone, errFrame)
}

// handleFrames hands each frame of body to the session; c.hmu is held and
// the session is live. A frame that does not parse, or one the session
// refuses, is a fault that ends it; so is going over the outbound bound.
func (s *Server) handleFrames(c *session, body []byte) *server.Fault {
	m := s.srv.Metrics()
	for len(body) > 0 {
		if c.isDoomed() {
			return faultSlowReader
		}
		n, err := wire.FrameLen(body, s.cfg.MaxFrame)
		if err == nil && n > len(body) {
			err = wire.ErrShort
		}
		if errors.Is(err, wire.ErrShort) {
			return &server.Fault{Code: wire.CodeBadFrame, Text: "wire: short frame: the body ends inside a frame"}
		}
		if err != nil {
			return server.AsFault(err)
		}
		m.FrameIn()
		if err := c.Handle(body[wire.HeaderSize:n]); err != nil {
			return server.AsFault(err)
		}
		body = body[n:]
	}
	return nil
}

// poll acknowledges batches and answers the next one, at once or once a
// frame is queued within the wait.
func (s *Server) poll(ctx *fasthttp.RequestCtx, c *session) {
	args := ctx.QueryArgs()
	ack, err := strconv.ParseUint(string(args.Peek(wire.HTTPAckParam)), 10, 64)
	if err != nil {
		plain(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("query parameter %s: want the number of the last batch held", wire.HTTPAckParam))
		return
	}
	var waitMS uint64
	if v := args.Peek(wire.HTTPWaitParam); len(v) > 0 {
		if waitMS, err = strconv.ParseUint(string(v), 10, 64); err != nil {
			plain(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("query parameter %s: want milliseconds", wire.HTTPWaitParam))
			return
		}
	}
	wait := time.Duration(min(waitMS, wire.HTTPMaxWaitMS)) * time.Millisecond

	c.mu.Lock()
	c.beginLocked()
	c.wakeLocked(true) // one poll at a time: a held one answers 204
	c.mu.Unlock()
	defer c.finish()

	var (
		w        *waiter
		timer    *time.Timer
		timedOut bool
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if w != nil {
			if c.wait == w {
				c.wait = nil
			}
			if w.superseded {
				c.mu.Unlock()
				ctx.SetStatusCode(fasthttp.StatusNoContent)
				return
			}
		}
		if c.state == live && c.doomed {
			c.mu.Unlock()
			s.endSlow(c)
			continue
		}
		if c.state != live {
			out, forget := c.tombLocked(ack)
			st := c.state
			c.mu.Unlock()
			if forget {
				s.forget(c)
			}
			if st == deleted {
				frames(ctx, fasthttp.StatusGone, nil)
				return
			}
			frames(ctx, fasthttp.StatusGone, out)
			return
		}
		batch, num, have, ok := c.stepLocked(ack)
		if !ok {
			last := c.lastHandedOutLocked()
			c.mu.Unlock()
			plain(ctx, fasthttp.StatusBadRequest, fmt.Sprintf(
				"%s=%d: the last batch handed out is %d; acknowledge it or the one before it", wire.HTTPAckParam, ack, last))
			return
		}
		if have {
			c.mu.Unlock()
			ctx.Response.Header.Set(wire.HTTPBatchHeader, strconv.FormatUint(num, 10))
			frames(ctx, fasthttp.StatusOK, batch)
			return
		}
		if wait <= 0 || timedOut {
			c.mu.Unlock()
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			return
		}
		w = &waiter{ch: make(chan struct{})}
		c.wait = w
		c.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		select {
		case <-w.ch:
		case <-timer.C:
			timedOut = true
		}
	}
}

// delete ends the session as a client's close does, and forgets it.
func (s *Server) delete(ctx *fasthttp.RequestCtx, c *session) {
	c.hmu.Lock()
	s.end(c, nil, nil)
	c.hmu.Unlock()
	s.forget(c)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (c *session) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == live
}

func (c *session) isDoomed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doomed
}

// newID returns a new session id: 128 random bits in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// frames answers status with a body of frames.
func frames(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType(wire.HTTPContentType)
	// The body is never written to once answered (batches, tombstones and
	// error frames are immutable), so it is not copied.
	ctx.Response.SetBodyRaw(body)
}

// plain answers an error outside the protocol.
func plain(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg + "\n")
}

// requestError answers a request fasthttp could not read: fasthttp's
// default answers, except that a body over MaxRequestBodySize gets 413
// (the binding's limit), where fasthttp would say 400.
func requestError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr *net.OpError
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		plain(ctx, fasthttp.StatusRequestEntityTooLarge, "request body over the limit: more than a frame and its header allow, times "+strconv.Itoa(wire.HTTPBodyFrames))
	case errors.As(err, &small):
		plain(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "request header too large")
	case errors.As(err, &netErr) && netErr.Timeout():
		plain(ctx, fasthttp.StatusRequestTimeout, "request not received within the read timeout")
	default:
		plain(ctx, fasthttp.StatusBadRequest, "malformed request")
	}
}

// fasthttpLogger routes fasthttp's messages to slog at debug level.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) { f.l.Debug(fmt.Sprintf(format, args...)) }
