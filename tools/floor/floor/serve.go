package floor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Server is the bare server: one epoll loop on one goroutine that accepts
// connections, answers each one's first frame, a hello, with one ready, and
// then holds the connection open, reading nothing more, until Close.
type Server struct {
	lfd, ep, efd int
	addr         string
	ready        []byte
	done         chan struct{} // closed when the loop ends
	err          error         // the loop's failure, set before done closes

	// The loop's own state.
	finished []bool         // by descriptor: its hello answered or refused
	partial  map[int][]byte // a hello's first bytes, when it came in parts
	held     []int          // every accepted descriptor
	counts   Counts
}

// Counts are what a server did: connections accepted, hellos answered
// with a ready, and connections closed for a first frame that was not a
// hello.
type Counts struct {
	Accepted, Answered, Refused int64
}

// Listen opens the bare server's listener on addr, an IPv4 host:port
// (port 0 chooses one), and starts its loop.
func Listen(addr string) (*Server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("floor: listen on %q: not an IPv4 host:port", addr)
	}
	s := &Server{lfd: -1, ep: -1, efd: -1, done: make(chan struct{}), partial: map[int][]byte{}}
	if err := s.open(ap); err != nil {
		s.closeFds()
		return nil, fmt.Errorf("floor: listen on %s: %w", addr, err)
	}
	r := wire.Ready{HeartbeatMS: 30000, MaxFrame: wire.DefaultMaxFrame}
	s.ready = r.AppendFrame(nil)
	go s.loop()
	return s, nil
}

func (s *Server) open(ap netip.AddrPort) error {
	var err error
	if s.lfd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP); err != nil {
		return os.NewSyscallError("socket", err)
	}
	if err = unix.SetsockoptInt(s.lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err = unix.Bind(s.lfd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err = unix.Listen(s.lfd, 4096); err != nil {
		return os.NewSyscallError("listen", err)
	}
	sa, err := unix.Getsockname(s.lfd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	in4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		return errors.New("not an IPv4 socket")
	}
	s.addr = netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port)).String()
	if s.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if s.efd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	for _, fd := range []int{s.lfd, s.efd} {
		if err = unix.EpollCtl(s.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
	return nil
}

// Addr returns the listener's address, host:port.
func (s *Server) Addr() string { return s.addr }

// loop waits on epoll until Close wakes it through the eventfd.
func (s *Server) loop() {
	defer close(s.done)
	evs := make([]unix.EpollEvent, 256)
	buf := make([]byte, 512)
	for {
		n, err := unix.EpollWait(s.ep, evs, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			s.err = os.NewSyscallError("epoll_wait", err)
			return
		}
		for _, ev := range evs[:n] {
			switch fd := int(ev.Fd); fd {
			case s.efd:
				return
			case s.lfd:
				if err := s.accept(); err != nil {
					s.err = err
					return
				}
			default:
				s.read(fd, buf)
			}
		}
	}
}

// accept takes every pending connection and registers it for its hello,
// edge-triggered: once answered, it wakes the loop no more until its peer
// closes it.
func (s *Server) accept() error {
	for {
		fd, _, err := unix.Accept4(s.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED):
			return nil
		case err != nil:
			return os.NewSyscallError("accept4", err)
		}
		s.counts.Accepted++
		s.held = append(s.held, fd)
		for fd >= len(s.finished) {
			s.finished = append(s.finished, false)
		}
		if err := unix.EpollCtl(s.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(fd)}); err != nil {
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
}

// read reads fd's hello, whole or in parts, and answers it. A first frame
// that is not a hello, or a connection that ends before its hello, is
// refused: shut down for writing, no answer.
func (s *Server) read(fd int, buf []byte) {
	if s.finished[fd] {
		return
	}
	for {
		m, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		if err != nil || m == 0 {
			s.refuse(fd)
			return
		}
		data := buf[:m]
		if p, ok := s.partial[fd]; ok {
			data = append(p, data...)
		}
		body, _, err := wire.Split(data, wire.DefaultMaxFrame)
		if errors.Is(err, wire.ErrShort) {
			s.partial[fd] = append([]byte(nil), data...)
			continue
		}
		delete(s.partial, fd)
		if t, _, perr := wire.Parse(body); err != nil || perr != nil || t != wire.THello {
			s.refuse(fd)
			return
		}
		if w, err := unix.Write(fd, s.ready); err != nil || w != len(s.ready) {
			s.refuse(fd)
			return
		}
		s.finished[fd] = true
		s.counts.Answered++
		return
	}
}

func (s *Server) refuse(fd int) {
	delete(s.partial, fd)
	s.finished[fd] = true
	s.counts.Refused++
	_ = unix.Shutdown(fd, unix.SHUT_WR)
}

// Close stops the loop, closes every connection and the listener, and
// returns the counts and the loop's failure, if it failed.
func (s *Server) Close() (Counts, error) {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(s.efd, one[:])
	<-s.done
	for _, fd := range s.held {
		_ = unix.Close(fd)
	}
	s.held = nil
	s.closeFds()
	return s.counts, s.err
}

func (s *Server) closeFds() {
	for _, fd := range []int{s.lfd, s.ep, s.efd} {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
	}
}

// countsLine is how the serve command reports its counts on stdout as it
// ends; parseCounts reads it back.
const countsLine = "accepted %d answered %d refused %d\n"

// ServeMain is the serve command: it listens on addr, prints the address
// on out as one line, serves until in ends (its parent closed the pipe or
// exited), then prints the counts and returns.
func ServeMain(addr string, in io.Reader, out io.Writer) error {
	s, err := Listen(addr)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(out, s.Addr()); err != nil {
		_, _ = s.Close()
		return err
	}
	_, _ = io.Copy(io.Discard, in)
	c, err := s.Close()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, countsLine, c.Accepted, c.Answered, c.Refused)
	return err
}

// parseCounts reads the serve command's counts line from r.
func parseCounts(r *bufio.Reader) (Counts, error) {
	var c Counts
	line, err := r.ReadString('\n')
	if err != nil {
		return c, fmt.Errorf("read the server's counts: %w", err)
	}
	if _, err := fmt.Sscanf(line, countsLine, &c.Accepted, &c.Answered, &c.Refused); err != nil {
		return c, fmt.Errorf("the server's counts %q: %w", line, err)
	}
	return c, nil
}
