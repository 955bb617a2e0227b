package floor

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Schema names the format of the JSON report.
const Schema = "swarmdesk.floor/v1"

// Defaults of Options.
const (
	DefaultConns    = 15000
	DefaultHold     = 5 * time.Second
	DefaultInFlight = 64
)

// maxSourceAddrs is the most loopback source addresses dialled from, as
// in bench/swarm.
const maxSourceAddrs = 250

// Options configure a run of the bare pair.
type Options struct {
	// Conns is how many connections to hold; 0 means DefaultConns. It is
	// capped to what RLIMIT_NOFILE allows (raised to the hard limit
	// first), and Result.Capped says so.
	Conns int
	// Hold is how long they are held idle once all are connected; 0 means
	// DefaultHold.
	Hold time.Duration
	// InFlight is how many connections are set up at once; 0 means
	// DefaultInFlight.
	InFlight int
	// Server returns the command that runs the bare server (ServeMain on
	// 127.0.0.1:0) as a child process. Run connects its stdin and stdout.
	Server func() *exec.Cmd
	// Log receives a line as each phase starts; nil discards.
	Log io.Writer
}

// Side is one process's usage over the run, from /proc/PID/stat (CPU,
// user and system, in clock ticks) and /proc/PID/status (VmHWM).
type Side struct {
	// Pid is the process's.
	Pid int `json:"pid"`
	// CPUConnectS is its CPU time over the connect phase, CPUHoldS over
	// the hold, CPUS over both, in seconds.
	CPUConnectS float64 `json:"cpu_connect_s"`
	CPUHoldS    float64 `json:"cpu_hold_s"`
	CPUS        float64 `json:"cpu_s"`
	// RSSBeforeBytes is its resident set before the connect phase;
	// PeakRSSBytes its peak (VmHWM) at the end of the hold.
	RSSBeforeBytes int64 `json:"rss_before_bytes"`
	PeakRSSBytes   int64 `json:"peak_rss_bytes"`
	// BytesPerConnection is the growth from RSSBeforeBytes to
	// PeakRSSBytes over the connections held.
	BytesPerConnection float64 `json:"bytes_per_connection"`
}

// Result is a run's report.
type Result struct {
	// Schema is the format's name, Schema.
	Schema string `json:"schema"`
	// Requested is the connections asked for; Tried those set up, fewer
	// when RLIMIT_NOFILE capped them (Capped then says so); Connections
	// those held (connected, hello written, ready read) through the hold.
	Requested   int    `json:"requested"`
	Tried       int    `json:"tried"`
	Capped      string `json:"capped,omitempty"`
	Connections int    `json:"connections"`
	// Errors counts connections that failed; FirstError is the first.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// ServerAnswered counts the hellos the server answered with a ready.
	ServerAnswered int64 `json:"server_answered"`
	// SourceAddrs is how many loopback source addresses were dialled
	// from; InFlight how many connections were set up at once.
	SourceAddrs int `json:"source_addrs"`
	InFlight    int `json:"in_flight"`
	// Client is this process's usage, Server the bare server's.
	Client Side `json:"client"`
	Server Side `json:"server"`
	// CPURatio is Client.CPUS over Server.CPUS; ConnectCPURatio the same
	// over the connect phase alone. 0 when the server's CPU is.
	CPURatio        float64 `json:"cpu_ratio"`
	ConnectCPURatio float64 `json:"connect_cpu_ratio"`
	// ConnectWallS is the connect phase's wall time, HoldS the hold's,
	// WallS the whole run's (the server's start and stop included), in
	// seconds.
	ConnectWallS float64 `json:"connect_wall_s"`
	HoldS        float64 `json:"hold_s"`
	WallS        float64 `json:"wall_s"`
}

// Held reports whether every connection tried was held and answered.
func (r *Result) Held() bool {
	return r.Errors == 0 && r.Connections == r.Tried && r.ServerAnswered == int64(r.Tried)
}

// ratio is a over b, 0 when b is.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// sample is a process's CPU time and resident set at one moment.
type sample struct {
	cpu time.Duration
	rss int64
}

func read(pid int) (sample, error) {
	cpu, rss, err := child.ProcUsage(pid)
	return sample{cpu, rss}, err
}

// Run starts the bare server, connects opts.Conns connections to it over
// loopback, each writing one hello and reading one ready, holds them idle
// for opts.Hold, closes them, stops the server and reports the CPU and
// memory of both processes.
func Run(ctx context.Context, opts Options) (*Result, error) {
	wallStart := time.Now()
	if opts.Conns <= 0 {
		opts.Conns = DefaultConns
	}
	if opts.Hold <= 0 {
		opts.Hold = DefaultHold
	}
	if opts.InFlight <= 0 {
		opts.InFlight = DefaultInFlight
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Server == nil {
		return nil, errors.New("floor: no server command")
	}
	res := &Result{Schema: Schema, Requested: opts.Conns, InFlight: opts.InFlight}
	soft, err := swarm.RaiseLimit() // bench's own reckoning, so that the floor is capped where bench is
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	limit, err := swarm.Limit()
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	n := opts.Conns
	if n > limit {
		n = limit
		res.Capped = fmt.Sprintf("RLIMIT_NOFILE %d allows %d connections per process", soft, limit)
		fmt.Fprintf(opts.Log, "floor: capped to %d connections: %s\n", n, res.Capped)
	}
	res.Tried = n

	srv, err := startServer(ctx, opts.Server())
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	self := os.Getpid()
	res.Client.Pid, res.Server.Pid = self, srv.pid

	before := [2]sample{}
	for i, pid := range []int{self, srv.pid} {
		if before[i], err = read(pid); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
	}
	cl, err := newClient(srv.addr, n, opts.InFlight)
	if err != nil {
		return nil, err
	}
	defer cl.close()
	fmt.Fprintf(opts.Log, "floor: connecting %d connections to %s\n", n, srv.addr)
	connStart := time.Now()
	cl.connectAll(ctx, n)
	res.ConnectWallS = time.Since(connStart).Seconds()
	afterConnect := [2]sample{}
	for i, pid := range []int{self, srv.pid} {
		if afterConnect[i], err = read(pid); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
	}
	res.Connections, res.Errors, res.SourceAddrs = len(cl.held), cl.errors, cl.srcAddrs
	if cl.err != nil {
		res.FirstError = cl.err.Error()
	}

	fmt.Fprintf(opts.Log, "floor: holding %d connections for %s\n", len(cl.held), opts.Hold)
	holdStart := time.Now()
	t := time.NewTimer(opts.Hold)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	res.HoldS = time.Since(holdStart).Seconds()
	end := [2]sample{}
	peak := [2]int64{}
	for i, pid := range []int{self, srv.pid} {
		if end[i], err = read(pid); err == nil {
			peak[i], err = child.PeakRSS(pid)
		}
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
	}
	cl.close()
	counts, err := srv.stop()
	if err != nil {
		return nil, err
	}
	res.ServerAnswered = counts.Answered
	res.WallS = time.Since(wallStart).Seconds()

	for i, s := range []*Side{&res.Client, &res.Server} {
		s.CPUConnectS = (afterConnect[i].cpu - before[i].cpu).Seconds()
		s.CPUHoldS = (end[i].cpu - afterConnect[i].cpu).Seconds()
		s.CPUS = (end[i].cpu - before[i].cpu).Seconds()
		s.RSSBeforeBytes, s.PeakRSSBytes = before[i].rss, peak[i]
		if res.Connections > 0 {
			s.BytesPerConnection = float64(max(peak[i]-before[i].rss, 0)) / float64(res.Connections)
		}
	}
	res.CPURatio = ratio(res.Client.CPUS, res.Server.CPUS)
	res.ConnectCPURatio = ratio(res.Client.CPUConnectS, res.Server.CPUConnectS)
	return res, ctx.Err()
}

// server is the bare server's child process.
type server struct {
	cmd   *exec.Cmd
	pid   int
	addr  string
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startTimeout bounds how long the server may take to print its address.
const startTimeout = 20 * time.Second

// startServer starts cmd and reads the address it prints.
func startServer(ctx context.Context, cmd *exec.Cmd) (*server, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("floor: server stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("floor: server stdout: %w", err)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("floor: start the server: %w", err)
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, stdin: stdin, out: bufio.NewReader(stdout)}
	line := make(chan string, 1)
	go func() {
		l, _ := s.out.ReadString('\n')
		line <- l
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case l := <-line:
		s.addr = trimLine(l)
	case <-t.C:
	case <-ctx.Done():
	}
	if _, err := netip.ParseAddrPort(s.addr); err != nil {
		s.kill()
		return nil, fmt.Errorf("floor: the server printed no address (%q)", s.addr)
	}
	return s, nil
}

func trimLine(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// stopTimeout bounds how long the server may take to end once its stdin
// is closed.
const stopTimeout = 20 * time.Second

// stop closes the server's stdin, which ends it, and reads its counts.
func (s *server) stop() (Counts, error) {
	_ = s.stdin.Close()
	type got struct {
		c   Counts
		err error
	}
	ch := make(chan got, 1)
	go func() {
		c, err := parseCounts(s.out)
		ch <- got{c, errors.Join(err, s.cmd.Wait())}
	}()
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case g := <-ch:
		if g.err != nil {
			return g.c, fmt.Errorf("floor: server: %w", g.err)
		}
		return g.c, nil
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-ch
		return Counts{}, fmt.Errorf("floor: the server did not end within %s of its stdin closing", stopTimeout)
	}
}

// kill ends the server if it still runs and waits for it.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// client sets up the connections from one epoll loop on the calling
// goroutine, a window of them at a time: each connects (non-blocking),
// writes its hello when connected, reads the ready and is held, left in
// the epoll set, edge-triggered, where it wakes the loop no more.
type client struct {
	sa       unix.SockaddrInet4
	window   int
	srcAddrs int // loopback source addresses in use
	srcNext  int
	ep       int
	pending  map[int]*pending // by descriptor
	held     []int
	errors   int
	err      error
	hello    []byte
	buf      []byte
}

// pending is a connection on its way: connecting, or its hello written
// and the ready awaited.
type pending struct {
	i     int // the connection's number, which names its user
	start time.Time
	sent  bool
	got   []byte // the ready's first bytes, when it comes in parts
}

// dialTimeout bounds one connection's connect, hello and ready.
const dialTimeout = 10 * time.Second

func newClient(addr string, n, window int) (*client, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("floor: server address %q: not an IPv4 host:port", addr)
	}
	c := &client{
		sa:      unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())},
		window:  window,
		pending: map[int]*pending{},
		held:    make([]int, 0, n),
		buf:     make([]byte, 512),
	}
	// One source address serves at most the ephemeral port range per
	// destination; leave a quarter of it to everything else.
	per := max(portRange()*3/4, 1)
	c.srcAddrs = min((n+per-1)/per, maxSourceAddrs)
	if c.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("floor: %w", os.NewSyscallError("epoll_create1", err))
	}
	return c, nil
}

func (c *client) fail(err error) {
	c.errors++
	if c.err == nil {
		c.err = err
	}
}

// connectAll sets up n connections; those that got their ready are in
// c.held.
func (c *client) connectAll(ctx context.Context, n int) {
	evs := make([]unix.EpollEvent, 256)
	started := 0
	lastScan := time.Now()
	for ctx.Err() == nil && (started < n || len(c.pending) > 0) {
		for len(c.pending) < c.window && started < n {
			if err := c.start(started); err != nil {
				c.fail(err)
			}
			started++
		}
		if len(c.pending) == 0 {
			continue
		}
		m, err := unix.EpollWait(c.ep, evs, 1000)
		if err != nil && !errors.Is(err, unix.EINTR) {
			c.fail(os.NewSyscallError("epoll_wait", err))
			return
		}
		for _, ev := range evs[:max(m, 0)] {
			c.event(int(ev.Fd), ev.Events)
		}
		if now := time.Now(); now.Sub(lastScan) >= time.Second {
			lastScan = now
			for fd, p := range c.pending {
				if now.Sub(p.start) > dialTimeout {
					c.drop(fd, fmt.Errorf("no ready within %s", dialTimeout))
				}
			}
		}
	}
}

// start opens connection i's socket and starts its connect, from a
// rotating loopback source address when several are in use, adding one on
// EADDRNOTAVAIL (out of ephemeral ports for the addresses in use), as
// bench/swarm does.
func (c *client) start(i int) error {
	for {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		n := c.srcAddrs
		if n > 1 {
			c.srcNext = (c.srcNext + 1) % n
			err = bindNoPort(fd, [4]byte{127, 0, 0, byte(1 + c.srcNext)})
		}
		if err == nil {
			if err = unix.Connect(fd, &c.sa); errors.Is(err, unix.EINPROGRESS) {
				err = nil
			}
		}
		if err == nil {
			// Registered after the connect: a socket already connected
			// reports its first edge at once.
			err = unix.EpollCtl(c.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLET, Fd: int32(fd)})
			if err == nil {
				c.pending[fd] = &pending{i: i, start: time.Now()}
				return nil
			}
			err = os.NewSyscallError("epoll_ctl", err)
		}
		_ = unix.Close(fd)
		if errors.Is(err, unix.EADDRNOTAVAIL) && n < maxSourceAddrs {
			c.srcAddrs = max(n, 1) + 1
			continue
		}
		return fmt.Errorf("connect: %w", err)
	}
}

// event handles an epoll event of pending connection fd: its connect done
// (writable: write the hello), its ready come (readable: read it), or an
// error.
func (c *client) event(fd int, events uint32) {
	p, ok := c.pending[fd]
	if !ok {
		return // held: its peer closed it, which the hold does not look at
	}
	if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 && events&unix.EPOLLIN == 0 {
		err := errors.New("connection failed")
		if e, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); gerr == nil && e != 0 {
			err = unix.Errno(e)
		}
		c.drop(fd, fmt.Errorf("connect: %w", err))
		return
	}
	if !p.sent && events&unix.EPOLLOUT != 0 {
		h := wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c" + strconv.Itoa(p.i), Device: "d0"}
		c.hello = h.AppendFrame(c.hello[:0])
		if w, err := unix.Write(fd, c.hello); err != nil || w != len(c.hello) {
			c.drop(fd, fmt.Errorf("write hello: %d of %d bytes: %v", w, len(c.hello), err))
			return
		}
		p.sent = true
	}
	if !p.sent || events&unix.EPOLLIN == 0 {
		return
	}
	for {
		m, err := unix.Read(fd, c.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		if err != nil || m == 0 {
			c.drop(fd, fmt.Errorf("read ready: %v", cmp.Or(err, io.EOF)))
			return
		}
		data := append(p.got, c.buf[:m]...)
		body, _, err := wire.Split(data, wire.DefaultMaxFrame)
		if errors.Is(err, wire.ErrShort) {
			p.got = data
			continue
		}
		var t wire.Type
		if err == nil {
			if t, _, err = wire.Parse(body); err == nil && t != wire.TReady {
				err = fmt.Errorf("the answer is %s, not ready", t)
			}
		}
		if err != nil {
			c.drop(fd, fmt.Errorf("read ready: %w", err))
			return
		}
		delete(c.pending, fd)
		c.held = append(c.held, fd)
		return
	}
}

// drop fails pending connection fd with err and closes it.
func (c *client) drop(fd int, err error) {
	delete(c.pending, fd)
	_ = unix.Close(fd)
	c.fail(err)
}

// close closes every connection and the epoll set, once.
func (c *client) close() {
	if c.ep < 0 {
		return
	}
	for fd := range c.pending {
		_ = unix.Close(fd)
	}
	for _, fd := range c.held {
		_ = unix.Close(fd)
	}
	c.pending, c.held = nil, nil
	_ = unix.Close(c.ep)
	c.ep = -1
}

// bindNoPort binds fd to a source address, leaving the port to connect,
// which chooses it per (source, destination): one address then serves
// more than the ephemeral range.
func bindNoPort(fd int, ip [4]byte) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: ip}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}
