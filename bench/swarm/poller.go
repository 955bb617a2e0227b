package swarm

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is one loop's readiness set: an epoll instance holding the loop's
// connections, a timerfd for the loop's next timer and an eventfd that
// other goroutines write to wake the loop. The epoll descriptor itself is
// registered with Go's network poller (it is readable while any of its
// descriptors is ready), so the loop's goroutine parks in the runtime
// rather than in a blocking epoll_wait: no thread is taken from the
// scheduler and sysmon has no blocked system call to retake. The timerfd
// gives the loop a nanosecond wake-up where Go's own timers round their
// netpoll sleep to whole milliseconds.
type poller struct {
	epfd, tfd, efd int
	file           *os.File        // epfd, owned by Go's network poller
	rc             syscall.RawConn // waits for epfd to become readable
	events         []unix.EpollEvent
}

// maxEvents is how many ready descriptors one epoll_wait returns.
const maxEvents = 256

// newPoller creates a loop's epoll instance, timerfd and eventfd.
func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	p := &poller{epfd: epfd, tfd: -1, efd: -1, events: make([]unix.EpollEvent, maxEvents)}
	fail := func(err error) (*poller, error) {
		p.close()
		return nil, err
	}
	if p.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return fail(fmt.Errorf("timerfd_create: %w", err))
	}
	if p.efd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return fail(fmt.Errorf("eventfd: %w", err))
	}
	for _, fd := range []int{p.tfd, p.efd} {
		if err := p.add(fd, unix.EPOLLIN|unix.EPOLLET); err != nil {
			return fail(err)
		}
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		return fail(fmt.Errorf("epoll fd nonblocking: %w", err))
	}
	// os.NewFile registers a non-blocking descriptor with Go's poller.
	p.file = os.NewFile(uintptr(epfd), "swarm-epoll")
	if p.rc, err = p.file.SyscallConn(); err != nil {
		return fail(fmt.Errorf("epoll fd raw conn: %w", err))
	}
	return p, nil
}

// add registers fd for events.
func (p *poller) add(fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := rawEpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl add: %w", err)
	}
	return nil
}

// ready returns the descriptors ready now, without waiting.
func (p *poller) ready() ([]unix.EpollEvent, error) {
	for {
		n, err := rawEpollPoll(p.epfd, p.events)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("epoll_wait: %w", err)
		}
		return p.events[:n], nil
	}
}

// arm sets the timerfd to expire after d (at least 1ns), or disarms it
// when d < 0.
func (p *poller) arm(d time.Duration) error {
	var spec unix.ItimerSpec
	if d >= 0 {
		spec.Value = unix.NsecToTimespec(max(int64(d), 1))
	}
	if err := rawTimerfdSettime(p.tfd, &spec); err != nil {
		return fmt.Errorf("timerfd_settime: %w", err)
	}
	return nil
}

// wake makes the loop's next wait return at once. Safe from any
// goroutine.
func (p *poller) wake() {
	b := [8]byte{1}
	_, _ = unix.Write(p.efd, b[:]) // EAGAIN: the counter is full, the loop is awake anyway
}

// close releases the poller's descriptors.
func (p *poller) close() {
	for _, fd := range []int{p.tfd, p.efd} {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
	}
	if p.file != nil {
		_ = p.file.Close()
	} else if p.epfd >= 0 {
		_ = unix.Close(p.epfd)
	}
}
