package server

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// FDReserve returns the descriptors kept back from connections out of an
// open-file limit: 5% of it, and at least 256. They serve the listener,
// the event loops' epoll and wake-up descriptors, the admin endpoint and
// its clients, logs, and a durable store's files, so the server refuses a
// connection cleanly (CodeOverloaded) before accept fails with EMFILE.
func FDReserve(limit int) int { return max(256, limit/20) }

// ConnBound returns the number of connections (or, over HTTP, sessions) a
// transport holds: configured when positive, else derived from the soft
// RLIMIT_NOFILE (which Go raises to the hard limit at start-up) less
// FDReserve.
func ConnBound(configured int) (int, error) {
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
	if b := n - FDReserve(n); b > 0 {
		return b, nil
	}
	return 0, fmt.Errorf("open-file limit %d leaves no descriptor for connections after a reserve of %d; raise it (ulimit -n) or set the connection bound", n, FDReserve(n))
}

// SweepInterval returns how often a transport checks its connections'
// timeouts (hello, idle, frame): a quarter of the shortest one (so a
// connection overstays its timeout by at most a quarter of it), between
// 10ms and a second.
func SweepInterval(cfg Config) time.Duration {
	every := time.Second
	for _, d := range []time.Duration{cfg.HelloTimeout, 3 * cfg.Heartbeat, cfg.FrameTimeout} {
		if d > 0 {
			every = min(every, d/4)
		}
	}
	return max(every, 10*time.Millisecond)
}
