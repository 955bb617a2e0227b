// Package probe asks a target whether it speaks the swarmdesk protocol
// before a run or a conformance suite commits minutes to it: it dials, says
// one hello and reads the answer. When no protocol server answers, the
// error says what is there instead (nothing listening, an unknown host, an
// HTTP server, TLS, bytes that are not frames, silence) and which scheme
// to try, so that a run against the wrong address ends in seconds with its
// cause rather than playing to the end on no data.
package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Errors classifying a failed probe, matched with errors.Is.
var (
	// ErrUnreachable means no connection could be made: refused, an
	// unknown host, a dial that timed out.
	ErrUnreachable = errors.New("probe: target unreachable")
	// ErrNotProtocol means something answered, but not the protocol (or
	// not the binding the scheme names).
	ErrNotProtocol = errors.New("probe: target does not speak the protocol")
	// ErrRefused means the server speaks the protocol and refused the
	// hello with an error frame (a tenant it does not know, a token it
	// wants).
	ErrRefused = errors.New("probe: hello refused")
)

// DefaultTimeout bounds each step of a probe: the dial, the hello's answer,
// the HTTP question asked of a silent port.
const DefaultTimeout = 3 * time.Second

// Target is where to probe.
type Target struct {
	// Addr is host:port.
	Addr string
	// HTTP selects the protocol's HTTP binding (http://Addr) instead of
	// long connections.
	HTTP bool
	// HTTPS speaks the HTTP binding over TLS (https://Addr).
	HTTPS bool
	// Prefix is the path the HTTP binding is served under ("" for the
	// root).
	Prefix string
	// Timeout bounds each step; 0 means DefaultTimeout.
	Timeout time.Duration
	// Resolver looks host names up; nil means the system's.
	Resolver *net.Resolver
}

func (t Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultTimeout
}

// Check says hello to the target and returns the server's ready. A server
// that refuses the hello with an error frame speaks the protocol: the error
// wraps ErrRefused and names the code.
func Check(ctx context.Context, t Target, hello *wire.Hello) (*wire.Ready, error) {
	if t.HTTP || t.HTTPS {
		return checkHTTP(ctx, t, hello)
	}
	return checkTCP(ctx, t, hello)
}

// checkTCP probes a long-connection target.
func checkTCP(ctx context.Context, t Target, hello *wire.Hello) (*wire.Ready, error) {
	d := net.Dialer{Timeout: t.timeout(), Resolver: t.Resolver}
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, dialError(t.Addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(t.timeout())) // a failure shows as the read's error
	if _, err := c.Write(hello.AppendFrame(nil)); err != nil {
		return nil, fmt.Errorf("%w: %s accepted the connection and failed the hello: %w", ErrNotProtocol, t.Addr, err)
	}
	buf := make([]byte, 0, 4096)
	rd := make([]byte, 4096)
	for {
		if body, _, err := wire.Split(buf, wire.HardMaxFrame); err == nil {
			return answer(t.Addr, body)
		} else if !errors.Is(err, wire.ErrShort) {
			return nil, notFrames(t, buf)
		}
		if len(buf) >= wire.HeaderSize && looksForeign(buf) {
			return nil, notFrames(t, buf)
		}
		n, err := c.Read(rd)
		buf = append(buf, rd[:n]...)
		if err == nil {
			continue
		}
		if len(buf) > 0 {
			if looksForeign(buf) || !errors.Is(err, io.EOF) {
				return nil, notFrames(t, buf)
			}
			return nil, fmt.Errorf("%w: %s closed the connection in the middle of its answer (%d bytes: %s)", ErrNotProtocol, t.Addr, len(buf), quote(buf))
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("probe %s: %w", t.Addr, ctx.Err())
			}
			return nil, silent(ctx, t)
		}
		return nil, fmt.Errorf("%w: %s closed the connection without answering a hello (%v); is it a server of this protocol?%s", ErrNotProtocol, t.Addr, err, httpHint(ctx, t))
	}
}

// answer reads the server's answer to a hello: ready, an error, or
// something else.
func answer(addr string, body []byte) (*wire.Ready, error) {
	m, err := wire.Decode(bytes.Clone(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %s answered a hello with a frame that does not decode: %w", ErrNotProtocol, addr, err)
	}
	switch m := m.(type) {
	case *wire.Ready:
		return m, nil
	case *wire.Error:
		return nil, fmt.Errorf("%w: %s answered the hello with error %d: %s", ErrRefused, addr, m.Code, m.Text)
	}
	return nil, fmt.Errorf("%w: %s answered a hello with %s, not ready", ErrNotProtocol, addr, m.Type())
}

// silent explains a target that accepted the connection and said nothing:
// if it answers an HTTP request, it is an HTTP server.
func silent(ctx context.Context, t Target) error {
	return fmt.Errorf("%w: %s accepted the connection but answered no hello within %v: not a server of this protocol?%s", ErrNotProtocol, t.Addr, t.timeout(), httpHint(ctx, t))
}

// httpHint asks the address an HTTP question and, if it answers, says so
// and suggests the HTTP scheme.
func httpHint(ctx context.Context, t Target) string {
	status, server, ok := askHTTP(ctx, t)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" It answers HTTP (%s%s): for the protocol's HTTP binding use --target http://%s", status, server, t.Addr)
}

// askHTTP makes one GET of the poll path and returns the status and the
// Server header, ok when an HTTP answer came.
func askHTTP(ctx context.Context, t Target) (status, server string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.Addr+t.Prefix+wire.HTTPPollPath, nil)
	if err != nil {
		return "", "", false
	}
	resp, err := t.client().Do(req)
	if err != nil {
		return "", "", false
	}
	defer resp.Body.Close()
	if s := resp.Header.Get("Server"); s != "" {
		server = ", server " + s
	}
	return resp.Status, server, true
}

// notFrames explains an answer that is not the protocol's frames.
func notFrames(t Target, b []byte) error {
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/")):
		line, _, _ := bytes.Cut(b, []byte("\r\n"))
		return fmt.Errorf("%w: %s answered a hello with HTTP (%q): it is an HTTP server; for the protocol's HTTP binding use --target http://%s", ErrNotProtocol, t.Addr, line, t.Addr)
	case len(b) >= 3 && b[0] == 0x15 && b[1] == 0x03:
		return fmt.Errorf("%w: %s answered a hello with a TLS alert: it speaks TLS, which bench does not", ErrNotProtocol, t.Addr)
	case bytes.HasPrefix(b, []byte("SSH-")):
		return fmt.Errorf("%w: %s is an SSH server (%s)", ErrNotProtocol, t.Addr, quote(b))
	}
	return fmt.Errorf("%w: %s answered a hello with %s, which is not a frame of the protocol", ErrNotProtocol, t.Addr, quote(b))
}

// looksForeign reports whether the start of an answer cannot be a frame
// header: a declared length beyond any frame, or text.
func looksForeign(b []byte) bool {
	if len(b) < wire.HeaderSize {
		return false
	}
	_, err := wire.FrameLen(b, wire.HardMaxFrame)
	return err != nil && !errors.Is(err, wire.ErrShort)
}

// quote shows the first bytes of an answer: as text when they are, else
// in hex.
func quote(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	printable := true
	for _, r := range string(b) {
		if r != '\r' && r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			printable = false
			break
		}
	}
	if printable {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("bytes % x", b)
}

// dialError explains a failed dial.
func dialError(addr string, err error) error {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("%w: unknown host %q (%v)", ErrUnreachable, dns.Name, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: connection refused: nothing listens on %s", ErrUnreachable, addr)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%w: no route to %s: %v", ErrUnreachable, addr, err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: no answer to a connection to %s (the host is down, or a firewall drops it): %v", ErrUnreachable, addr, err)
	}
	return fmt.Errorf("%w: dial %s: %w", ErrUnreachable, addr, err)
}

// client returns an HTTP client for one probe, dialling as t says.
func (t Target) client() *http.Client {
	d := &net.Dialer{Timeout: t.timeout(), Resolver: t.Resolver}
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: d.DialContext}}
}

// checkHTTP probes a target of the HTTP binding: a connect with the hello,
// whose answer must carry a session and the ready; the session is then
// ended.
func checkHTTP(ctx context.Context, t Target, hello *wire.Hello) (*wire.Ready, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	scheme := "http://"
	if t.HTTPS {
		scheme = "https://"
	}
	base := scheme + t.Addr + t.Prefix
	client := t.client()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+wire.HTTPConnectPath, bytes.NewReader(hello.AppendFrame(nil)))
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", base, err)
	}
	req.Header.Set("Content-Type", wire.HTTPContentType)
	resp, err := client.Do(req)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return nil, dialError(t.Addr, oe)
		}
		if strings.Contains(err.Error(), "malformed HTTP") {
			return nil, fmt.Errorf("%w: %s did not answer in HTTP (%v); if it speaks the protocol's long connections, drop the scheme: --target %s", ErrNotProtocol, base, err, t.Addr)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s answered no HTTP request within %v; if it speaks the protocol's long connections, drop the scheme: --target %s", ErrNotProtocol, base, t.timeout(), t.Addr)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrNotProtocol, base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, wire.HTTPMaxBatch))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading the connect answer: %w", ErrNotProtocol, base, err)
	}
	session := resp.Header.Get(wire.HTTPSessionHeader)
	ct := resp.Header.Get("Content-Type")
	if ct != wire.HTTPContentType {
		return nil, fmt.Errorf("%w: %s answered POST %s with %s and %q content, not the protocol's HTTP binding (%s)", ErrNotProtocol, base, wire.HTTPConnectPath, resp.Status, ct, quote(body))
	}
	if session != "" {
		defer endSession(client, base, session)
	}
	frame, _, err := wire.Split(body, wire.HardMaxFrame)
	if err != nil {
		return nil, fmt.Errorf("%w: %s answered the connect (%s) with %s, not frames", ErrNotProtocol, base, resp.Status, quote(body))
	}
	return answer(base, frame)
}

// endSession ends a probe's HTTP session, so the server does not hold it
// until its idle timeout.
func endSession(client *http.Client, base, session string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+wire.HTTPSessionPath+"?"+wire.HTTPSessionParam+"="+session, nil)
	if err != nil {
		return
	}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}
