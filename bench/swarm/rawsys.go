package swarm

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's calls on its non-blocking descriptors never wait, so they are
// made as raw system calls: the goroutine keeps its P through the call,
// with no entersyscall/exitsyscall and nothing for sysmon to retake
// (through unix.Read and unix.Write these cost the loop a scheduler
// round trip per call when the other P is busy).

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
