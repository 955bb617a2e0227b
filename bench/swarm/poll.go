package swarm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// PollOptions select the HTTP polling driver (PROTOCOL.md, "HTTP binding
// (polling)"): each link is a session over HTTP/1.1 requests instead of a
// TCP connection. See the package documentation, "HTTP polling".
type PollOptions struct {
	// Interval is the wall time between two polls of a link. 0 means long
	// polling: a poll is held by the server until it has frames for the
	// session or Wait passed, and the next poll follows at once. > 0 means
	// short polling: one poll with wait=0 per Interval. The server ends a
	// session that made no request for three heartbeats
	// (ready.heartbeat_ms: 45s by default) with error 105, so an Interval
	// of short polling must stay well under that.
	Interval time.Duration
	// Wait is how long the server may hold a long poll: 0 means 25s, and
	// it is cut to wire.HTTPMaxWaitMS.
	Wait time.Duration
}

// Timing of the polling driver, in wall time.
const (
	// defaultPollWait is a long poll's wait when PollOptions.Wait is 0.
	defaultPollWait = 25 * time.Second
	// requestTimeout bounds a connect, a send, a DELETE or a short poll.
	requestTimeout = 30 * time.Second
	// pollSlack is how much longer than its wait a long poll may take.
	pollSlack = 30 * time.Second
	// pollRetries is how many times a poll or a send that failed (network
	// error, 5xx) is tried again before the link is dropped.
	pollRetries = 5
	// pollBackoff is the delay before the first retry; it doubles with
	// each (50ms, 100ms, ... 800ms: 1.55s in all).
	pollBackoff = 50 * time.Millisecond
	// idleTimeout is how long a kept-alive connection may wait in the pool.
	idleTimeout = 5 * time.Second
	// ioBufSize sizes the pooled bufio readers and writers of requests: a
	// response's headers must fit in it.
	ioBufSize = 2 << 10
)

// HTTPError is an HTTP answer that ended a poll link (or, for a 5xx, the
// last of the attempts that failed). Dropped's error wraps it: match it
// with errors.As.
type HTTPError struct {
	// Op is the request: "connect", "send" or "poll".
	Op string
	// Status is the HTTP status code.
	Status int
	// Code is the code of the last error frame the answer carried (a 410
	// ends with the error that says why), or 0.
	Code wire.Code
}

// Error implements error.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.Op, e.Status, fasthttp.StatusMessage(e.Status))
	if e.Code != 0 {
		s += fmt.Sprintf(", error %d", e.Code)
	}
	return s
}

// pollConfig is the runtime's normalized PollOptions.
type pollConfig struct {
	interval time.Duration
	waitMS   int64 // a long poll's wait parameter
}

func newPollConfig(po *PollOptions) (*pollConfig, error) {
	if po.Interval < 0 || po.Wait < 0 {
		return nil, fmt.Errorf("poll options: negative interval %v or wait %v", po.Interval, po.Wait)
	}
	w := po.Wait
	if w == 0 {
		w = defaultPollWait
	}
	return &pollConfig{interval: po.Interval, waitMS: min(max(w.Milliseconds(), 1), wire.HTTPMaxWaitMS)}, nil
}

// httpClient is a runtime's HTTP/1.1 client: fasthttp's request and
// response types written and read over its own pool of kept-alive
// connections, dialed with Runtime.connect (the loopback source address
// rotation) and counted byte by byte. It owns no goroutine: requests are
// made by the poll links' goroutines, which it starts and waits for.
type httpClient struct {
	rt      *Runtime
	base    string // "http://" + Addr
	maxBody int    // the largest answer body read

	// sessions are the ids of the sessions open on the server, deleted
	// when the runtime closes: a polling client that quits says so, as
	// closing a long connection does, or the server would keep its user
	// online (an agent taking chats) until the session's idle timeout.
	sessions sync.Map

	mu     sync.Mutex
	idle   []*pconn // kept-alive connections, oldest first
	live   map[*pconn]struct{}
	closed bool
	wg     sync.WaitGroup // goroutines started with spawn

	readers, writers sync.Pool
}

func newHTTPClient(rt *Runtime) *httpClient {
	return &httpClient{
		rt:      rt,
		base:    "http://" + rt.opts.Addr,
		maxBody: wire.HTTPMaxBatch + 2*(wire.HeaderSize+rt.opts.MaxFrame),
		live:    make(map[*pconn]struct{}),
	}
}

// spawn runs fn on a new goroutine that close waits for, unless the client
// is closed.
func (hc *httpClient) spawn(fn func()) bool {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if hc.closed {
		return false
	}
	hc.wg.Add(1)
	go func() {
		defer hc.wg.Done()
		fn()
	}()
	return true
}

// close closes every connection, which ends the requests in flight, and
// waits for the goroutines started with spawn.
func (hc *httpClient) close() {
	hc.mu.Lock()
	hc.closed = true
	conns := make([]*pconn, 0, len(hc.live))
	for c := range hc.live {
		conns = append(conns, c)
	}
	clear(hc.live)
	hc.idle = nil
	hc.mu.Unlock()
	for _, c := range conns {
		_ = c.Conn.Close()
	}
	hc.wg.Wait()
}

// pconn is a client connection: it counts the bytes it carries.
type pconn struct {
	net.Conn
	hc      *httpClient
	lastUse time.Time // when it went idle; under hc.mu
}

// Read implements net.Conn.
func (c *pconn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.hc.rt.bytesIn.Add(int64(n))
	return n, err
}

// Write implements net.Conn.
func (c *pconn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.hc.rt.bytesOut.Add(int64(n))
	return n, err
}

// Close implements net.Conn.
func (c *pconn) Close() error {
	c.hc.mu.Lock()
	delete(c.hc.live, c)
	c.hc.mu.Unlock()
	return c.Conn.Close()
}

// acquire returns a kept-alive connection, or dials one. reused says which.
func (hc *httpClient) acquire() (c *pconn, reused bool, err error) {
	now := time.Now()
	var stale []*pconn
	hc.mu.Lock()
	if hc.closed {
		hc.mu.Unlock()
		return nil, false, ErrClosed
	}
	if n := len(hc.idle); n > 0 {
		c = hc.idle[n-1]
		hc.idle[n-1] = nil
		hc.idle = hc.idle[:n-1]
		if now.Sub(c.lastUse) < idleTimeout {
			hc.mu.Unlock()
			return c, true, nil
		}
		// The newest idle connection is stale, and so are the older ones.
		stale = append(hc.idle, c)
		hc.idle = nil
	}
	hc.mu.Unlock()
	for _, s := range stale {
		_ = s.Close()
	}
	nc, err := hc.rt.connect()
	if err != nil {
		return nil, false, fmt.Errorf("dial %s: %w", hc.rt.opts.Addr, err)
	}
	c = &pconn{Conn: nc, hc: hc}
	hc.mu.Lock()
	if hc.closed {
		hc.mu.Unlock()
		_ = nc.Close()
		return nil, false, ErrClosed
	}
	hc.live[c] = struct{}{}
	hc.mu.Unlock()
	return c, false, nil
}

// release keeps c alive for another request, and closes the connections
// that stayed idle too long.
func (hc *httpClient) release(c *pconn) {
	now := time.Now()
	var stale []*pconn
	hc.mu.Lock()
	if hc.closed {
		hc.mu.Unlock()
		_ = c.Close()
		return
	}
	for len(hc.idle) > 0 && now.Sub(hc.idle[0].lastUse) >= idleTimeout {
		stale = append(stale, hc.idle[0])
		hc.idle[0] = nil
		hc.idle = hc.idle[1:]
	}
	c.lastUse = now
	hc.idle = append(hc.idle, c)
	hc.mu.Unlock()
	for _, s := range stale {
		_ = s.Close()
	}
}

// do makes the request and reads its answer into resp. A request that
// fails on a kept-alive connection, which the server may have closed
// meanwhile, is made once more at once on a new one (so a send may reach
// the server twice: client ids make that harmless). Other failures are
// the caller's to retry.
func (hc *httpClient) do(req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error {
	for try := 0; ; try++ {
		c, reused, err := hc.acquire()
		if err != nil {
			return err
		}
		err = hc.roundTrip(c, req, resp, timeout)
		if err == nil {
			if resp.ConnectionClose() {
				_ = c.Close()
			} else {
				hc.release(c)
			}
			return nil
		}
		_ = c.Close()
		var ne net.Error
		if !reused || try > 0 || hc.rt.closing.Load() || errors.As(err, &ne) && ne.Timeout() {
			return err
		}
	}
}

// roundTrip writes req on c and reads the answer.
func (hc *httpClient) roundTrip(c *pconn, req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	bw, _ := hc.writers.Get().(*bufio.Writer)
	if bw == nil {
		bw = bufio.NewWriterSize(c, ioBufSize)
	} else {
		bw.Reset(c)
	}
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	hc.writers.Put(bw)
	if err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	hc.rt.requests.Add(1)
	br, _ := hc.readers.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(c, ioBufSize)
	} else {
		br.Reset(c)
	}
	resp.Reset()
	err = resp.ReadLimitBody(br, hc.maxBody)
	br.Reset(nil)
	hc.readers.Put(br)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return nil
}

// setURI sets req's method and URI: path, and the session and poll
// parameters when given.
func (hc *httpClient) setURI(req *fasthttp.Request, method, path, session string, poll bool, ack uint64, waitMS int64) {
	var buf [192]byte
	u := append(buf[:0], hc.base...)
	u = append(u, path...)
	if session != "" {
		u = append(u, "?"+wire.HTTPSessionParam+"="...)
		u = append(u, session...)
	}
	if poll {
		u = append(u, "&"+wire.HTTPAckParam+"="...)
		u = strconv.AppendUint(u, ack, 10)
		u = append(u, "&"+wire.HTTPWaitParam+"="...)
		u = strconv.AppendInt(u, waitMS, 10)
	}
	req.Header.SetMethod(method)
	req.SetRequestURIBytes(u)
}

// setBody sets req's body to frames, which must stay unchanged until the
// request is done.
func setBody(req *fasthttp.Request, frames []byte) {
	req.Header.SetContentType(wire.HTTPContentType)
	req.SetBodyRaw(frames)
}

// Poll link states.
const (
	plIdle       uint8 = iota // dialed: no frame sent yet
	plConnecting              // the hello is being posted to connect
	plOpen                    // the session is up
	plClosed                  // closed by its actor
	plDropped                 // ended by the server, a failure or the runtime
)

// pollLink is a link over the HTTP binding: a session. Its fields are
// guarded by its loop's lock, but for ack, which only its poll goroutine
// uses.
type pollLink struct {
	loop    *Loop
	a       behavior.Actor
	done    chan struct{} // closed when the link ends (closed or dropped)
	hello   *[]byte       // the first frame sent, until connect takes it
	out     *[]byte       // frames sent and not yet posted
	session string
	ack     uint64 // the last batch received
	dev     int32
	state   uint8
	sending bool // a send goroutine runs
	bye     bool // closed by its actor with a session: DELETE it
}

var _ behavior.Link = (*pollLink)(nil)

// dialPoll returns a poll link that connects when its actor sends the
// first frame (its hello).
func (lp *Loop) dialPoll(a behavior.Actor, device int) *pollLink {
	return &pollLink{loop: lp, a: a, dev: int32(device), done: make(chan struct{})}
}

// Send implements behavior.Link. The first frame sent (the hello) starts
// the connect; later ones are posted, in order, once the session is up.
func (l *pollLink) Send(m wire.Msg) error {
	rt := l.loop.rt
	switch l.state {
	case plIdle:
		b := rt.getBuf()
		*b = m.AppendFrame(*b)
		l.hello = b
		l.state = plConnecting
		if !rt.hc.spawn(l.run) {
			l.hello = nil
			rt.putBuf(b)
			l.end(plDropped)
			return fmt.Errorf("swarm: send %s: %w", m.Type(), ErrClosed)
		}
		return nil
	case plConnecting, plOpen:
	default:
		return fmt.Errorf("swarm: send %s: %w", m.Type(), ErrLinkClosed)
	}
	if l.out == nil {
		l.out = rt.getBuf()
	}
	*l.out = m.AppendFrame(*l.out)
	if l.state == plOpen {
		l.kick()
	}
	return nil
}

// Close implements behavior.Link: it ends the link without reporting
// Dropped. What was sent on an open session is still posted, then the
// session is deleted, by the link's send goroutine.
func (l *pollLink) Close() error {
	switch l.state {
	case plIdle, plConnecting:
		l.end(plClosed) // run deletes the session if its connect succeeds
		l.freeOut()
	case plOpen:
		l.end(plClosed)
		l.bye = true
		l.kick()
	}
	return nil
}

// kick starts the link's send goroutine unless it runs.
func (l *pollLink) kick() {
	if l.sending {
		return
	}
	l.sending = true
	if !l.loop.rt.hc.spawn(l.sendLoop) {
		l.sending = false
	}
}

// end moves a live link to state st (closed or dropped).
func (l *pollLink) end(st uint8) {
	if l.state == plOpen {
		l.loop.open.Add(-1)
	}
	l.state = st
	close(l.done)
}

// drop ends a live link and tells its actor, unless the runtime closes.
func (l *pollLink) drop(err error) {
	if l.state >= plClosed {
		return
	}
	l.end(plDropped)
	l.freeOut()
	if !l.loop.rt.closing.Load() {
		l.a.Dropped(int(l.dev), err)
	}
}

func (l *pollLink) freeOut() {
	if l.out != nil {
		l.loop.rt.putBuf(l.out)
		l.out = nil
	}
}

// deliver decodes the frames of an answer's body and hands each to the
// actor, in order, while the link stays in the state it was in. It returns
// the code of the last error frame. It must be called under the loop's
// lock.
func (l *pollLink) deliver(body []byte) (wire.Code, error) {
	lp := l.loop
	st := l.state
	var code wire.Code
	for off := 0; off < len(body); {
		if l.state != st || lp.rt.closing.Load() {
			break
		}
		fb, n, err := wire.Split(body[off:], lp.rt.opts.MaxFrame)
		if err != nil {
			return code, fmt.Errorf("split frame at byte %d of %d: %w", off, len(body), err)
		}
		off += n
		m, err := lp.decode(fb)
		if err != nil {
			return code, err
		}
		switch m := m.(type) {
		case *wire.Ready:
			if m.HeartbeatMS > 0 {
				lp.rt.heartbeat.Store(int64(m.HeartbeatMS))
			}
			if m.MaxFrame > 0 {
				lp.rt.srvMaxFrame.Store(int64(min(m.MaxFrame, wire.HardMaxFrame)))
			}
		case *wire.Error:
			code = m.Code
		}
		l.a.Receive(int(l.dev), m)
	}
	return code, nil
}

// ended drops the link for an answer that ends its session (4xx), after
// delivering the frames of a 410's body. It must be called under the
// loop's lock.
func (l *pollLink) ended(op string, status int, body []byte) {
	if l.state >= plClosed {
		return
	}
	l.loop.rt.hc.sessions.Delete(l.session) // the server ended it
	e := &HTTPError{Op: op, Status: status}
	if status == fasthttp.StatusGone {
		code, err := l.deliver(body)
		if err != nil {
			l.drop(fmt.Errorf("swarm: bad frame from server: %w", err))
			return
		}
		e.Code = code
	}
	l.drop(fmt.Errorf("swarm: session ended: %w", e))
}

// sleep waits d, and reports false if the link ended or the runtime
// closes meanwhile.
func (l *pollLink) sleep(t **time.Timer, d time.Duration) bool {
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	select {
	case <-(*t).C:
		return true
	case <-l.done:
	case <-l.loop.rt.stop:
	}
	(*t).Stop()
	return false
}

// backoff is the delay before retry number n (1, 2, ...).
func backoff(n int) time.Duration { return pollBackoff << min(n-1, 10) }

// run is the link's poll goroutine: it connects, then polls until the
// link ends or the runtime closes.
func (l *pollLink) run() {
	if l.connect() {
		l.polls()
	}
}

// connect posts the hello and delivers batch 1. It reports whether the
// session is open.
func (l *pollLink) connect() bool {
	lp := l.loop
	rt := lp.rt
	lp.mu.Lock()
	hello := l.hello
	l.hello = nil
	st := l.state
	lp.mu.Unlock()
	if hello == nil {
		return false
	}
	defer rt.putBuf(hello)
	if st != plConnecting {
		return false // closed before the connect began
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	rt.hc.setURI(req, fasthttp.MethodPost, wire.HTTPConnectPath, "", false, 0, 0)
	setBody(req, *hello)
	err := rt.hc.do(req, resp, requestTimeout)
	status := 0
	var session string
	if err == nil {
		status = resp.StatusCode()
		if status == fasthttp.StatusOK {
			session = string(resp.Header.Peek(wire.HTTPSessionHeader))
			if session == "" {
				err = fmt.Errorf("connect answer without a %s header", wire.HTTPSessionHeader)
			}
		}
	}
	if err != nil || status != fasthttp.StatusOK {
		rt.dialErrors.Add(1)
		lp.mu.Lock()
		defer lp.mu.Unlock()
		if l.state != plConnecting {
			return false
		}
		if err != nil {
			l.drop(fmt.Errorf("swarm: connect %s: %w", rt.opts.Addr, err))
			return false
		}
		e := &HTTPError{Op: "connect", Status: status}
		if len(resp.Body()) > 0 {
			code, derr := l.deliver(resp.Body())
			if derr != nil {
				l.drop(fmt.Errorf("swarm: connect %s: bad frame from server: %w", rt.opts.Addr, derr))
				return false
			}
			e.Code = code
		}
		l.drop(fmt.Errorf("swarm: connect %s: %w", rt.opts.Addr, e))
		return false
	}
	rt.dialed.Add(1)
	batch := uint64(1)
	if b, err := fasthttp.ParseUint(resp.Header.Peek(wire.HTTPBatchHeader)); err == nil && b > 0 {
		batch = uint64(b)
	}
	lp.mu.Lock()
	if l.state != plConnecting {
		// Closed by its actor while the connect was on its way.
		lp.mu.Unlock()
		l.remove(session)
		return false
	}
	defer lp.mu.Unlock()
	l.session = session
	rt.hc.sessions.Store(session, struct{}{})
	l.ack = batch
	l.state = plOpen
	lp.open.Add(1)
	if _, err := l.deliver(resp.Body()); err != nil {
		l.drop(fmt.Errorf("swarm: bad frame from server: %w", err))
		return false
	}
	if l.state != plOpen {
		return false
	}
	if l.out != nil {
		l.kick()
	}
	return true
}

// polls fetches the session's batches until the link ends: long polls
// back to back, or short polls once per interval. A poll that fails
// (network error, 5xx) is made again with the same ack, after a backoff,
// up to pollRetries times, so an answer lost on the way loses and
// duplicates nothing.
func (l *pollLink) polls() {
	lp := l.loop
	rt := lp.rt
	cfg := rt.poll
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var t *time.Timer
	waitMS, timeout := cfg.waitMS, time.Duration(cfg.waitMS)*time.Millisecond+pollSlack
	if cfg.interval > 0 {
		waitMS, timeout = 0, requestTimeout
	}
	next := time.Now().Add(cfg.interval)
	fails := 0
	for {
		lp.mu.Lock()
		st, session := l.state, l.session
		lp.mu.Unlock()
		if st != plOpen || rt.closing.Load() {
			return
		}
		if cfg.interval > 0 && fails == 0 {
			now := time.Now()
			if d := next.Sub(now); d > 0 {
				if !l.sleep(&t, d) {
					return
				}
				now = next
			}
			next = now.Add(cfg.interval)
		}
		rt.hc.setURI(req, fasthttp.MethodGet, wire.HTTPPollPath, session, true, l.ack, waitMS)
		err := rt.hc.do(req, resp, timeout)
		status := 0
		if err == nil {
			status = resp.StatusCode()
		}
		switch {
		case err != nil || status >= 500:
			if rt.closing.Load() {
				return
			}
			if err == nil {
				err = &HTTPError{Op: "poll", Status: status}
			}
			fails++
			if fails > pollRetries || !l.sleep(&t, backoff(fails)) {
				lp.mu.Lock()
				l.drop(fmt.Errorf("swarm: poll: gave up after %d attempts: %w", fails, err))
				lp.mu.Unlock()
				return
			}
		case status == fasthttp.StatusOK:
			fails = 0
			batch := l.ack + 1
			if b, err := fasthttp.ParseUint(resp.Header.Peek(wire.HTTPBatchHeader)); err == nil && b > 0 {
				batch = uint64(b)
			}
			if batch <= l.ack {
				continue // a batch held already
			}
			body := resp.Body()
			lp.mu.Lock()
			if l.state == plOpen {
				l.ack = batch
				if _, err := l.deliver(body); err != nil {
					l.drop(fmt.Errorf("swarm: bad frame from server: %w", err))
				}
			}
			lp.mu.Unlock()
			if len(body) >= wire.HTTPMaxBatch/2 {
				next = time.Now() // a batch cut at its bound: fetch the rest at once
			}
		case status == fasthttp.StatusNoContent:
			fails = 0
		default:
			lp.mu.Lock()
			l.ended("poll", status, resp.Body())
			lp.mu.Unlock()
			return
		}
	}
}

// sendLoop is the link's send goroutine: it posts the outbox, one request
// at a time, until it is empty (frames sent meanwhile go in the next
// request), then exits. On a link its actor closed, it posts what is left
// and deletes the session.
func (l *pollLink) sendLoop() {
	lp := l.loop
	rt := lp.rt
	for {
		lp.mu.Lock()
		closed := l.state == plClosed && l.bye
		if l.out == nil || !closed && l.state != plOpen {
			if closed {
				l.bye = false
				session := l.session
				lp.mu.Unlock()
				l.remove(session)
				lp.mu.Lock()
			}
			l.sending = false
			lp.mu.Unlock()
			return
		}
		body := l.take(wire.HTTPBodyFrames * (wire.HeaderSize + int(rt.srvMaxFrame.Load())))
		session := l.session
		lp.mu.Unlock()
		l.post(session, body, !closed)
		rt.putBuf(body)
	}
}

// take removes from the outbox the frames of the next send request, at
// most limit bytes of whole frames (at least one), and returns them.
func (l *pollLink) take(limit int) *[]byte {
	out := l.out
	if len(*out) <= limit {
		l.out = nil
		return out
	}
	cut := 0
	for cut < len(*out) {
		n := wire.HeaderSize + int(binary.BigEndian.Uint32((*out)[cut:]))
		if cut > 0 && cut+n > limit {
			break
		}
		cut += n
	}
	b := l.loop.rt.getBuf()
	*b = append(*b, (*out)[:cut]...)
	*out = (*out)[:copy(*out, (*out)[cut:])]
	if len(*out) == 0 {
		l.freeOut()
	}
	return b
}

// post sends frames to the session. On an open link a failure (network
// error, 5xx) is tried again after a backoff, up to pollRetries times,
// then drops the link; an answer that ends the session drops it.
func (l *pollLink) post(session string, frames *[]byte, open bool) {
	lp := l.loop
	rt := lp.rt
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for attempt := 1; ; attempt++ {
		rt.hc.setURI(req, fasthttp.MethodPost, wire.HTTPSendPath, session, false, 0, 0)
		setBody(req, *frames)
		err := rt.hc.do(req, resp, requestTimeout)
		status := 0
		if err == nil {
			status = resp.StatusCode()
		}
		switch {
		case err == nil && status < 300:
			return
		case err == nil && status < 500:
			lp.mu.Lock()
			l.ended("send", status, resp.Body())
			lp.mu.Unlock()
			return
		}
		if err == nil {
			err = &HTTPError{Op: "send", Status: status}
		}
		if !open || rt.closing.Load() {
			return
		}
		if attempt > pollRetries || !l.sleep(&t, backoff(attempt)) {
			lp.mu.Lock()
			l.drop(fmt.Errorf("swarm: send: gave up after %d attempts: %w", attempt, err))
			lp.mu.Unlock()
			return
		}
	}
}

// remove deletes the session, best effort: the server ends it as when a
// client closes its connection, and answers a held poll.
func (l *pollLink) remove(session string) {
	rt := l.loop.rt
	if session == "" || rt.closing.Load() {
		return
	}
	rt.hc.remove(session, requestTimeout)
}

// remove deletes a session on the server, best effort, and forgets it.
func (hc *httpClient) remove(session string, timeout time.Duration) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	hc.setURI(req, fasthttp.MethodDelete, wire.HTTPSessionPath, session, false, 0, 0)
	_ = hc.do(req, resp, timeout)
	hc.sessions.Delete(session)
}

// removeAll deletes every session still open, a few at a time, each
// bounded by timeout, and gives up on the rest once 5s have passed (a
// server that stalls must not hold the runtime's close): the runtime's
// goodbye.
func (hc *httpClient) removeAll(timeout time.Duration) {
	ids := make(chan string)
	deadline := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if left := time.Until(deadline); left > 0 {
					hc.remove(id, min(timeout, left))
				}
			}
		}()
	}
	hc.sessions.Range(func(k, _ any) bool {
		ids <- k.(string)
		return true
	})
	close(ids)
	wg.Wait()
}
