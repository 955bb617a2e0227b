package refservertest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Client is a blocking protocol client. It is not safe for concurrent use.
type Client struct {
	conn    net.Conn
	buf     []byte
	nextID  uint64
	Timeout time.Duration // per read; default 5s
}

// Dial connects to a server.
func Dial(addr string) (*Client, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	// Client ids must be unique per sender across connections (a reused id
	// is a retry to the server), so each client counts from a random base.
	return &Client{conn: c, Timeout: 5 * time.Second, nextID: rand.Uint64() >> 2}, nil
}

// Conn returns the underlying connection (to write raw bytes in tests).
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// NextID returns a new client id for a request.
func (c *Client) NextID() uint64 { c.nextID++; return c.nextID }

// Send writes one message.
func (c *Client) Send(m wire.Msg) error {
	if _, err := c.conn.Write(m.AppendFrame(nil)); err != nil {
		return fmt.Errorf("send %s: %w", m.Type(), err)
	}
	return nil
}

// Next reads the next message. Its byte fields are the client's own copy.
func (c *Client) Next() (wire.Msg, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	body, buf, err := wire.ReadFrame(c.conn, c.buf, wire.HardMaxFrame)
	c.buf = buf
	if err != nil {
		return nil, fmt.Errorf("read frame: %w", err)
	}
	m, err := wire.Decode(slices.Clone(body))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ErrUnexpected is returned by Expect when another message came first.
var ErrUnexpected = errors.New("refservertest: unexpected message")

// Expect reads the next message and checks it is of type T.
func Expect[T wire.Msg](c *Client) (T, error) {
	var zero T
	m, err := c.Next()
	if err != nil {
		return zero, err
	}
	v, ok := m.(T)
	if !ok {
		return zero, fmt.Errorf("%w: got %s %+v, want %s", ErrUnexpected, m.Type(), m, zero.Type())
	}
	return v, nil
}

// Until reads messages until one of type T arrives, returning it and the
// messages read before it.
func Until[T wire.Msg](c *Client) (T, []wire.Msg, error) {
	var before []wire.Msg
	for {
		m, err := c.Next()
		if err != nil {
			var zero T
			return zero, before, err
		}
		if v, ok := m.(T); ok {
			return v, before, nil
		}
		before = append(before, m)
	}
}

// Hello says hello and waits for ready.
func (c *Client) Hello(h *wire.Hello) (*wire.Ready, error) {
	if err := c.Send(h); err != nil {
		return nil, err
	}
	return Expect[*wire.Ready](c)
}

// Connect dials and says hello as user of tenant in role.
func Connect(addr string, role wire.Role, tenant, user, device string, resume ...wire.ResumePoint) (*Client, *wire.Ready, error) {
	return ConnectHello(addr, &wire.Hello{Role: role, Tenant: tenant, User: user, Device: device, Resume: resume})
}

// ConnectHello dials and says hello h (to pass a token, say).
func ConnectHello(addr string, h *wire.Hello) (*Client, *wire.Ready, error) {
	c, err := Dial(addr)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.Hello(h)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("hello as %s %s: %w", h.Role, h.User, err)
	}
	return c, r, nil
}

// CloseWrite shuts down the client's sending side (a TCP half-close): the
// server reads end of stream while the client can still read.
func (c *Client) CloseWrite() error {
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("close write: %T cannot half-close", c.conn)
	}
	if err := cw.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	return nil
}

// Open opens a conversation and returns its id (from the ack). The menu
// and the bot's greeting follow; the caller reads them.
func (c *Client) Open(group string) (uint64, error) {
	id := c.NextID()
	if err := c.Send(&wire.Open{ClientID: id, Channel: "app", Group: group}); err != nil {
		return 0, err
	}
	ack, err := Expect[*wire.Ack](c)
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	if ack.ClientID != id {
		return 0, fmt.Errorf("open: ack for client id %d, want %d", ack.ClientID, id)
	}
	return ack.Conv, nil
}

// Say sends a text message and returns its client id; the ack follows.
func (c *Client) Say(conv uint64, text string) (uint64, error) {
	id := c.NextID()
	return id, c.Send(&wire.Message{ClientID: id, Conv: conv, Kind: wire.KindText, Body: []byte(text)})
}
