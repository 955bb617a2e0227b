package swarm

import (
	"encoding/binary"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's calls on its non-blocking descriptors never wait, so they are
// made as raw system calls: the goroutine keeps its P through the call,
// with no entersyscall/exitsyscall and nothing for sysmon to retake. A
// loopback connect, write or close runs the peer's side of TCP in the
// caller's system call, tens of microseconds: long enough, through
// syscall.Syscall, for sysmon to hand the P to another thread (measured:
// sysmon and the scheduler were a quarter of the loop's CPU, timerfd_settime
// a tenth).

// rawRead reads from a non-blocking descriptor.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawWrite writes to a non-blocking descriptor.
func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawEpollPoll returns the ready events of an epoll set without waiting.
func rawEpollPoll(epfd int, evs []unix.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawErr turns a raw system call's errno into an error, nil for 0.
func rawErr(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// rawClose closes a descriptor. Closing a socket without SO_LINGER does
// not wait.
func rawClose(fd int) error {
	_, _, e := syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	return rawErr(e)
}

// rawSocket opens a socket; typ should carry SOCK_NONBLOCK.
func rawSocket(family, typ, proto int) (int, error) {
	fd, _, e := syscall.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ), uintptr(proto))
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// rawSetsockoptInt sets an int socket option.
func rawSetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := syscall.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), 4, 0)
	return rawErr(e)
}

// sockaddr is a socket address in the kernel's layout (sockaddr_in or
// sockaddr_in6), built once and only read by the kernel, so loops may
// share it.
type sockaddr struct {
	b [28]byte
	n uintptr
}

// inet4 returns the sockaddr_in of ip:port.
func inet4(ip [4]byte, port int) *sockaddr {
	sa := &sockaddr{n: 16}
	binary.NativeEndian.PutUint16(sa.b[0:], unix.AF_INET)
	binary.BigEndian.PutUint16(sa.b[2:], uint16(port))
	copy(sa.b[4:8], ip[:])
	return sa
}

// inet6 returns the sockaddr_in6 of [ip%zone]:port.
func inet6(ip [16]byte, port int, zone uint32) *sockaddr {
	sa := &sockaddr{n: 28}
	binary.NativeEndian.PutUint16(sa.b[0:], unix.AF_INET6)
	binary.BigEndian.PutUint16(sa.b[2:], uint16(port))
	copy(sa.b[8:24], ip[:])
	binary.NativeEndian.PutUint32(sa.b[24:], zone)
	return sa
}

// rawConnect starts a connect; a non-blocking socket says EINPROGRESS.
func rawConnect(fd int, sa *sockaddr) error {
	_, _, e := syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa.b[0])), sa.n)
	return rawErr(e)
}

// rawBind binds a socket to a local address.
func rawBind(fd int, sa *sockaddr) error {
	_, _, e := syscall.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa.b[0])), sa.n)
	return rawErr(e)
}

// rawEpollCtl adds, changes or removes a descriptor of an epoll set.
func rawEpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return rawErr(e)
}

// rawTimerfdSettime sets a timerfd, relative to now.
func rawTimerfdSettime(fd int, spec *unix.ItimerSpec) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(fd), 0, uintptr(unsafe.Pointer(spec)), 0, 0, 0)
	return rawErr(e)
}
