package gnet

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// fdReserve returns the descriptors kept back from connections out of an
// open-file limit: 5% of it, and at least 256. They serve the listener,
// the event loops' epoll and wake-up descriptors, the admin endpoint and
// its clients, logs, and a durable store's files, so the server refuses a
// connection cleanly (CodeOverloaded) before accept fails with EMFILE.
func fdReserve(limit int) int { return max(256, limit/20) }

// connBound returns the number of connections to hold: configured when
// positive, else derived from the soft RLIMIT_NOFILE (which Go raises to
// the hard limit at start-up) less fdReserve.
func connBound(configured int) (int, error) {
	if configured > 0 {
		return configured, nil
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit for the connection bound: %w", err)
	}
	if lim.Cur == unix.RLIM_INFINITY || lim.Cur > 1<<31 {
		lim.Cur = 1 << 31
	}
	n := int(lim.Cur)
	if b := n - fdReserve(n); b > 0 {
		return b, nil
	}
	return 0, fmt.Errorf("open-file limit %d leaves no descriptor for connections after a reserve of %d; raise it (ulimit -n) or set the connection bound", n, fdReserve(n))
}
