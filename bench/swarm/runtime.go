package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Errors returned by the runtime and its links. They are matched with
// errors.Is.
var (
	// ErrClosed means the runtime is closed or closing.
	ErrClosed = errors.New("swarm: runtime closed")
	// ErrLinkClosed means a Send on a link that ended.
	ErrLinkClosed = errors.New("swarm: link closed")
	// ErrDialQueueFull means more dials are waiting than the queue holds.
	ErrDialQueueFull = errors.New("swarm: dial queue full")
)

// Options configure a Runtime.
type Options struct {
	// Addr is the server's address, host:port: its long-connection
	// listener, or with Poll its HTTP listener (http://Addr).
	Addr string
	// Loops is the number of event loops; 0 means one per core
	// (GOMAXPROCS).
	Loops int
	// Timescale is scenario seconds per wall second; 0 means 1.
	Timescale float64
	// Start is the scenario time when the runtime starts; zero means now.
	Start time.Time
	// Dialers bounds the TCP connects in flight per loop; 0 means 64.
	// Further dials wait in the loop's queue.
	Dialers int
	// SourceAddrs is how many loopback source addresses (127.0.0.1, .2,
	// ...) dials rotate over when Addr is loopback. 0 or 1 lets the kernel
	// choose until a dial fails with EADDRNOTAVAIL, then adds addresses.
	SourceAddrs int
	// MaxFrame bounds a server frame's body; 0 means wire.DefaultMaxFrame.
	MaxFrame int
	// DialTimeout bounds one TCP dial; 0 means 5s.
	DialTimeout time.Duration
	// DialQueue is how many dials may wait per loop; 0 means 65536.
	DialQueue int
	// Poll, when set, drives the links over the protocol's HTTP binding
	// (sessions, polls) instead of TCP connections; nil means TCP.
	Poll *PollOptions
}

// maxSourceAddrs is the most loopback source addresses used.
const maxSourceAddrs = 250

// Runtime runs actors on real connections: K loops, each with its epoll
// set of connections and its timer heap. Create it with New and end it
// with Close.
type Runtime struct {
	opts      Options
	loops     []*Loop
	start     time.Time // scenario time at wallStart
	wallStart time.Time // carries the monotonic reading
	loopback  bool
	family    int          // AF_INET or AF_INET6, over TCP
	sa        *sockaddr    // the server's address, over TCP
	srcAddrs  atomic.Int32 // loopback source addresses in use
	srcNext   atomic.Uint32
	stop      chan struct{}
	stopped   atomic.Bool // the loops are to end
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closing   atomic.Bool
	// heartbeat is the server's heartbeat interval in ms, from the first
	// ready; 0 until one comes.
	heartbeat atomic.Int64
	closeOnce sync.Once
	errMu     sync.Mutex
	err       error     // the first loop failure
	bufs      sync.Pool // *[]byte for the polling driver

	// Dialed counts connections enrolled; DialErrors dials that failed.
	dialed, dialErrors atomic.Int64

	// The polling driver: its options and HTTP client (nil over TCP), and
	// its counters (over TCP, bytes are counted by the loops).
	poll                        *pollConfig
	hc                          *httpClient
	requests, bytesIn, bytesOut atomic.Int64
	// srvMaxFrame is the server's frame bound, from ready.max_frame.
	srvMaxFrame atomic.Int64
}

// New starts a runtime against opts.Addr: one goroutine per loop. Over TCP
// it resolves the address once, here.
func New(opts Options) (*Runtime, error) {
	if opts.Addr == "" {
		return nil, errors.New("swarm: new runtime: no server address")
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("swarm: new runtime: address %q: %w", opts.Addr, err)
	}
	if opts.Loops <= 0 {
		opts.Loops = runtime.GOMAXPROCS(0)
	}
	if opts.Timescale <= 0 {
		opts.Timescale = 1
	}
	if opts.Dialers <= 0 {
		opts.Dialers = 64
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = wire.DefaultMaxFrame
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.DialQueue <= 0 {
		opts.DialQueue = 1 << 16
	}
	var poll *pollConfig
	if opts.Poll != nil {
		if poll, err = newPollConfig(opts.Poll); err != nil {
			return nil, fmt.Errorf("swarm: new runtime: %w", err)
		}
	}
	ip := net.ParseIP(host)
	rt := &Runtime{
		opts:      opts,
		wallStart: time.Now(),
		loopback:  ip != nil && ip.IsLoopback() && ip.To4() != nil,
		stop:      make(chan struct{}),
		poll:      poll,
	}
	if poll == nil {
		if err := rt.resolve(); err != nil {
			return nil, fmt.Errorf("swarm: new runtime: %w", err)
		}
	} else {
		rt.hc = newHTTPClient(rt)
	}
	rt.srvMaxFrame.Store(wire.DefaultMaxFrame)
	rt.start = opts.Start
	if rt.start.IsZero() {
		rt.start = rt.wallStart.Round(0)
	}
	rt.srcAddrs.Store(int32(min(max(opts.SourceAddrs, 1), maxSourceAddrs)))
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	for i := range opts.Loops {
		lp, err := newLoop(rt, i)
		if err != nil {
			rt.Close()
			return nil, fmt.Errorf("swarm: new runtime: loop %d: %w", i, err)
		}
		rt.loops = append(rt.loops, lp)
		lp.Do(func() { lp.At(rt.Now().Add(rt.scenario(time.Second)), heartbeat{lp}, 0) })
		rt.wg.Add(1)
		go lp.run()
	}
	return rt, nil
}

// resolve looks up the server's address once, for the loops' connects.
func (rt *Runtime) resolve() error {
	ta, err := net.ResolveTCPAddr("tcp", rt.opts.Addr)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", rt.opts.Addr, err)
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		rt.family = unix.AF_INET
		rt.sa = inet4([4]byte(ip4), ta.Port)
		return nil
	}
	rt.family = unix.AF_INET6
	var zone uint32
	if ta.Zone != "" {
		if ifi, err := net.InterfaceByName(ta.Zone); err == nil {
			zone = uint32(ifi.Index)
		}
	}
	rt.sa = inet6([16]byte(ta.IP.To16()), ta.Port, zone)
	return nil
}

// fail records the first failure of a loop's event machinery (an
// epoll or timerfd call refused), which Err returns.
func (rt *Runtime) fail(err error) {
	rt.errMu.Lock()
	defer rt.errMu.Unlock()
	if rt.err == nil {
		rt.err = err
	}
}

// Err returns the first failure of a loop's event machinery, or nil. A
// loop that failed has stopped: its actors hear nothing more.
func (rt *Runtime) Err() error {
	rt.errMu.Lock()
	defer rt.errMu.Unlock()
	return rt.err
}

// Loops returns the runtime's loops; place each actor on one and give it
// that loop as its Scheduler and Dialer.
func (rt *Runtime) Loops() []*Loop { return rt.loops }

// Loop returns loop i modulo the number of loops, to spread actors.
func (rt *Runtime) Loop(i int) *Loop { return rt.loops[i%len(rt.loops)] }

// Now returns the current scenario time.
func (rt *Runtime) Now() time.Time {
	return rt.start.Add(time.Duration(float64(time.Since(rt.wallStart)) * rt.opts.Timescale))
}

// Timescale returns scenario seconds per wall second.
func (rt *Runtime) Timescale() float64 { return rt.opts.Timescale }

// wall converts a span of scenario time to wall time, rounded up.
func (rt *Runtime) wall(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d)/rt.opts.Timescale) + 1
}

// scenario converts a span of wall time to scenario time.
func (rt *Runtime) scenario(d time.Duration) time.Duration {
	return time.Duration(float64(d) * rt.opts.Timescale)
}

// Stats are the runtime's counters.
type Stats struct {
	// Dialed is the number of connections enrolled (with Poll: of sessions
	// connected).
	Dialed int64
	// DialErrors is the number of dials that failed (with Poll: of
	// connects that made no session).
	DialErrors int64
	// Open is the number of links open now.
	Open int64
	// SourceAddrs is the number of loopback source addresses in use.
	SourceAddrs int
	// Requests is the number of HTTP requests made (with Poll; 0 over
	// TCP).
	Requests int64
	// BytesOut and BytesIn are the bytes written to and read from the
	// server: frames over TCP; with Poll, HTTP requests and answers,
	// headers included.
	BytesOut, BytesIn int64
}

// Stats returns the runtime's counters.
func (rt *Runtime) Stats() Stats {
	s := Stats{
		Dialed: rt.dialed.Load(), DialErrors: rt.dialErrors.Load(), SourceAddrs: int(rt.srcAddrs.Load()),
		Requests: rt.requests.Load(), BytesOut: rt.bytesOut.Load(), BytesIn: rt.bytesIn.Load(),
	}
	for _, lp := range rt.loops {
		s.Open += lp.open.Load()
		s.BytesOut += lp.bytesOut.Load()
		s.BytesIn += lp.bytesIn.Load()
	}
	return s
}

// Close stops the loops, which close every connection; with Poll it
// closes every HTTP connection
// (ending the requests in flight) and waits for the poll links'
// goroutines. Actors are not told: no Dropped is reported for links closed
// by Close. It waits for every goroutine the runtime started.
func (rt *Runtime) Close() {
	rt.closeOnce.Do(func() {
		rt.closing.Store(true)
		if rt.hc != nil {
			// Polls and sends stop once they see closing; the sessions
			// are deleted first, as closing long connections ends them.
			rt.hc.removeAll(2 * time.Second)
		}
		close(rt.stop)
		rt.stopped.Store(true)
		for _, lp := range rt.loops {
			lp.mu.Lock()
			if !lp.closed {
				lp.ep.wake()
			}
			lp.mu.Unlock()
		}
		rt.cancel()
		if rt.hc != nil {
			rt.hc.close()
		}
		rt.wg.Wait()
	})
}

// socket opens a non-blocking TCP socket and starts its connect to the
// server, from a rotating loopback source address when several are in
// use, adding one on EADDRNOTAVAIL (out of ephemeral ports for the
// addresses in use). It returns the descriptor with the connect in
// progress or done.
func (rt *Runtime) socket() (int, error) {
	for {
		fd, err := rawSocket(rt.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return -1, os.NewSyscallError("socket", err)
		}
		n, src, ok := rt.source()
		if err = rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			err = os.NewSyscallError("setsockopt", err)
		}
		if err == nil && ok {
			err = bindNoPort(fd, src)
		}
		if err == nil {
			if err = rawConnect(fd, rt.sa); errors.Is(err, unix.EINPROGRESS) {
				err = nil
			} else if err != nil {
				err = os.NewSyscallError("connect", err)
			}
		}
		if err == nil {
			return fd, nil
		}
		_ = rawClose(fd)
		if rt.loopback && errors.Is(err, unix.EADDRNOTAVAIL) && n < maxSourceAddrs {
			rt.srcAddrs.CompareAndSwap(n, n+1)
			continue
		}
		return -1, err
	}
}

// source returns the number of loopback source addresses in use and, when
// there are several, the next one to dial from.
func (rt *Runtime) source() (n int32, ip [4]byte, ok bool) {
	n = rt.srcAddrs.Load()
	if !rt.loopback || n <= 1 {
		return n, ip, false
	}
	i := rt.srcNext.Add(1) % uint32(n)
	return n, [4]byte{127, 0, 0, byte(1 + i)}, true
}

// bindNoPort binds fd to a source address, leaving the port to connect,
// which chooses it per (source, destination): one address then serves
// more than the ephemeral range.
func bindNoPort(fd int, ip [4]byte) error {
	if err := rawSetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := rawBind(fd, inet4(ip, 0)); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}

// connect dials the server once with a blocking dial, for the polling
// driver's HTTP connections, from the same loopback source addresses as
// TCP links.
func (rt *Runtime) connect() (net.Conn, error) {
	for {
		n, src, ok := rt.source()
		d := net.Dialer{Timeout: rt.opts.DialTimeout}
		if ok {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(src[0], src[1], src[2], src[3])}
			d.Control = func(_, _ string, c syscall.RawConn) error {
				var serr error
				err := c.Control(func(fd uintptr) {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
				})
				return errors.Join(err, serr)
			}
		}
		c, err := d.DialContext(rt.ctx, "tcp", rt.opts.Addr)
		if err == nil {
			return c, nil
		}
		if rt.loopback && errors.Is(err, syscall.EADDRNOTAVAIL) && n < maxSourceAddrs {
			rt.srcAddrs.CompareAndSwap(n, n+1)
			continue
		}
		return nil, err
	}
}

// getBuf returns a pooled buffer for an asynchronous write.
func (rt *Runtime) getBuf() *[]byte {
	if b, ok := rt.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 256)
	return &b
}

// putBuf returns a buffer to the pool, unless it grew large.
func (rt *Runtime) putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		rt.bufs.Put(b)
	}
}
