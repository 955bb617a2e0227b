package conform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// conn is one connection to the server, however its frames travel: the
// cases see only this. It is not safe for concurrent use, except Close.
type conn interface {
	// Send sends one message.
	Send(m wire.Msg) error
	// SendRaw sends bytes as they are, whole frames or not.
	SendRaw(b []byte) error
	// Next returns the next message the server sent, waiting up to
	// timeout: errTimeout when none came, an error wrapping errClosed once
	// the server ended the connection and every message it sent before
	// was returned.
	Next(timeout time.Duration) (wire.Msg, error)
	// Close ends the connection from the client's side.
	Close() error
}

// Errors of conn.Next.
var (
	errTimeout = errors.New("nothing came")
	errClosed  = errors.New("the connection was closed")
)

// target is a parsed Config.Target.
type target struct {
	http bool
	addr string // host:port
	base string // http: scheme://host[:port][/prefix]
}

func parseTarget(s string) (target, error) {
	if s == "" {
		return target{}, errNoTarget
	}
	if !strings.Contains(s, "://") {
		s = "tcp://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return target{}, fmt.Errorf("conform: target %q: %w", s, err)
	}
	switch u.Scheme {
	case "tcp":
		if u.Path != "" || u.RawQuery != "" || u.User != nil {
			return target{}, fmt.Errorf("conform: target %q: a tcp target is host:port only", s)
		}
		if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
			return target{}, fmt.Errorf("conform: target %q: want host:port", s)
		}
		return target{addr: u.Host}, nil
	case "http", "https":
		if u.Host == "" || u.RawQuery != "" || u.User != nil {
			return target{}, fmt.Errorf("conform: target %q: want %s://host:port", s, u.Scheme)
		}
		return target{http: true, addr: u.Host, base: u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/")}, nil
	}
	return target{}, fmt.Errorf("conform: target %q: unknown scheme %q (want tcp or http)", s, u.Scheme)
}

// dial opens a connection. A TCP connection is established at once; an
// HTTP session begins with the first frames sent (the hello).
func (tg target) dial(ctx context.Context, timeout time.Duration) (conn, error) {
	if tg.http {
		return newHTTPConn(ctx, tg.base, timeout), nil
	}
	return dialTCP(ctx, tg.addr, timeout)
}

// prefix is an HTTP target's path prefix ("" for none or for TCP).
func (tg target) prefix() string {
	if !tg.http {
		return ""
	}
	_, rest, _ := strings.Cut(tg.base, "://")
	_, path, _ := strings.Cut(rest, "/")
	if path == "" {
		return ""
	}
	return "/" + path
}

// tcpConn is a long TCP connection carrying frames (PROTOCOL.md,
// "Transport and framing").
type tcpConn struct {
	c       net.Conn
	timeout time.Duration // of a write
	buf     []byte        // bytes read and not yet returned as frames
	rd      [4096]byte
	ended   error // set once reading failed for good
	stop    func() bool
}

func dialTCP(ctx context.Context, addr string, timeout time.Duration) (*tcpConn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	tc := &tcpConn{c: c, timeout: timeout}
	// A case ended (or the run interrupted) closes its connections, so a
	// read in progress returns at once.
	tc.stop = context.AfterFunc(ctx, func() { _ = c.Close() })
	return tc, nil
}

func (tc *tcpConn) Send(m wire.Msg) error {
	if err := tc.SendRaw(m.AppendFrame(nil)); err != nil {
		return fmt.Errorf("send %s: %w", m.Type(), err)
	}
	return nil
}

func (tc *tcpConn) SendRaw(b []byte) error {
	if err := tc.c.SetWriteDeadline(time.Now().Add(tc.timeout)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if _, err := tc.c.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func (tc *tcpConn) Next(timeout time.Duration) (wire.Msg, error) {
	deadline := time.Now().Add(timeout)
	for {
		body, n, err := wire.Split(tc.buf, wire.HardMaxFrame)
		switch {
		case err == nil:
			m, derr := wire.Decode(slices.Clone(body))
			tc.buf = tc.buf[n:]
			if derr != nil {
				return nil, fmt.Errorf("the server sent a frame that does not decode: %w", derr)
			}
			return m, nil
		case !errors.Is(err, wire.ErrShort):
			return nil, fmt.Errorf("the server sent a bad frame header: %w", err)
		}
		if tc.ended != nil {
			if len(tc.buf) > 0 {
				return nil, fmt.Errorf("%w in the middle of a frame (%d bytes of it came): %v", errClosed, len(tc.buf), tc.ended)
			}
			return nil, fmt.Errorf("%w: %v", errClosed, tc.ended)
		}
		if err := tc.c.SetReadDeadline(deadline); err != nil {
			return nil, fmt.Errorf("set read deadline: %w", err)
		}
		k, err := tc.c.Read(tc.rd[:])
		tc.buf = append(tc.buf, tc.rd[:k]...)
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			if k == 0 {
				return nil, errTimeout
			}
		default:
			// EOF, a reset, or the connection closed by the case: the
			// frames read so far are still returned, then errClosed.
			tc.ended = err
		}
	}
}

func (tc *tcpConn) Close() error {
	tc.stop()
	if err := tc.c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// httpConn is a session of the HTTP binding (PROTOCOL.md, "HTTP binding
// (polling)"): a small blocking client. The first frames sent begin the
// session (POST /v1/connect); later ones go to /v1/send; Next long-polls
// for the next batch, acknowledging the ones it holds. A session ended by
// the server (410, or 404 for a session it does not know) reads as a
// closed connection, after the frames that came with the ending.
type httpConn struct {
	ctx     context.Context
	base    string
	client  *http.Client
	timeout time.Duration

	session string
	ack     uint64     // the last batch held
	queue   []wire.Msg // received, not yet returned
	started bool
	ended   error // why the session ended
}

func newHTTPConn(ctx context.Context, base string, timeout time.Duration) *httpConn {
	// A transport of its own: the session's keep-alive connections end
	// with it (Close).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &httpConn{ctx: ctx, base: base, timeout: timeout, client: &http.Client{Transport: tr}}
}

func (hc *httpConn) Send(m wire.Msg) error {
	if err := hc.SendRaw(m.AppendFrame(nil)); err != nil {
		return fmt.Errorf("send %s: %w", m.Type(), err)
	}
	return nil
}

func (hc *httpConn) SendRaw(b []byte) error {
	if hc.ended != nil {
		return fmt.Errorf("%w: %v", errClosed, hc.ended)
	}
	if !hc.started {
		hc.started = true
		resp, body, err := hc.do(http.MethodPost, wire.HTTPConnectPath, nil, b, hc.timeout)
		if err != nil {
			hc.ended = err
			return err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			hc.session = resp.Header.Get(wire.HTTPSessionHeader)
			if hc.session == "" {
				hc.ended = errors.New("connect: 200 without a session header")
				return fmt.Errorf("connect: the answer has no %s header", wire.HTTPSessionHeader)
			}
			if got := resp.Header.Get(wire.HTTPBatchHeader); got != "1" {
				hc.ended = fmt.Errorf("connect: batch %q", got)
				return fmt.Errorf("connect: the answer is batch %q, want 1", got)
			}
			hc.ack = 1
			return hc.take(body)
		case http.StatusGone, http.StatusNotFound:
			hc.ended = fmt.Errorf("connect: %s", resp.Status)
			return hc.take(body)
		}
		hc.ended = fmt.Errorf("connect: %s", resp.Status)
		return fmt.Errorf("connect: %s: %s", resp.Status, snippet(body))
	}
	resp, body, err := hc.do(http.MethodPost, wire.HTTPSendPath, nil, b, hc.timeout)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusGone, http.StatusNotFound:
		hc.ended = fmt.Errorf("send: %s", resp.Status)
		return hc.take(body)
	}
	return fmt.Errorf("send: %s: %s", resp.Status, snippet(body))
}

func (hc *httpConn) Next(timeout time.Duration) (wire.Msg, error) {
	deadline := time.Now().Add(timeout)
	for {
		if len(hc.queue) > 0 {
			m := hc.queue[0]
			hc.queue = hc.queue[1:]
			return m, nil
		}
		if hc.ended != nil {
			return nil, fmt.Errorf("%w: %v", errClosed, hc.ended)
		}
		left := time.Until(deadline)
		if !hc.started || left <= 0 {
			if !hc.started {
				// No session: nothing can come until the client speaks.
				t := time.NewTimer(max(left, 0))
				select {
				case <-t.C:
				case <-hc.ctx.Done():
					t.Stop()
				}
			}
			return nil, errTimeout
		}
		wait := min(left.Milliseconds(), wire.HTTPMaxWaitMS)
		q := url.Values{wire.HTTPAckParam: {strconv.FormatUint(hc.ack, 10)}, wire.HTTPWaitParam: {strconv.FormatInt(wait, 10)}}
		resp, body, err := hc.do(http.MethodGet, wire.HTTPPollPath, q, nil, time.Duration(wait)*time.Millisecond+hc.timeout)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusNoContent:
		case http.StatusOK:
			if got, want := resp.Header.Get(wire.HTTPBatchHeader), strconv.FormatUint(hc.ack+1, 10); got != want {
				return nil, fmt.Errorf("poll ack=%d: the answer is batch %q, want %s", hc.ack, got, want)
			}
			hc.ack++
			if err := hc.take(body); err != nil {
				return nil, err
			}
		case http.StatusGone, http.StatusNotFound:
			hc.ended = fmt.Errorf("poll: %s", resp.Status)
			if err := hc.take(body); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("poll: %s: %s", resp.Status, snippet(body))
		}
	}
}

func (hc *httpConn) Close() error {
	defer hc.client.CloseIdleConnections()
	if !hc.started || hc.ended != nil {
		hc.ended = errors.New("closed by the client")
		return nil
	}
	hc.ended = errors.New("closed by the client")
	resp, body, err := hc.do(http.MethodDelete, wire.HTTPSessionPath, nil, nil, hc.timeout)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusGone && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("delete session: %s: %s", resp.Status, snippet(body))
	}
	return nil
}

// do makes one request of the session and reads the whole answer.
func (hc *httpConn) do(method, path string, q url.Values, body []byte, timeout time.Duration) (*http.Response, []byte, error) {
	if hc.session != "" {
		if q == nil {
			q = url.Values{}
		}
		q.Set(wire.HTTPSessionParam, hc.session)
	}
	u := hc.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(hc.ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", wire.HTTPContentType)
	}
	resp, err := hc.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, wire.HTTPMaxBatch+wire.HardMaxFrame))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return resp, b, nil
}

// take queues the frames of an answer body.
func (hc *httpConn) take(body []byte) error {
	for len(body) > 0 {
		fb, n, err := wire.Split(body, wire.HardMaxFrame)
		if err != nil {
			return fmt.Errorf("the server's answer is not whole frames: %w", err)
		}
		m, err := wire.Decode(slices.Clone(fb))
		if err != nil {
			return fmt.Errorf("the server sent a frame that does not decode: %w", err)
		}
		hc.queue = append(hc.queue, m)
		body = body[n:]
	}
	return nil
}

func snippet(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strconv.Quote(s)
}
