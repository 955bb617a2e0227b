package swarm

import (
	"fmt"
	"syscall"
)

// Headroom is the number of file descriptors Limit keeps back for the
// process itself (files, listeners, the admin endpoint, in-flight dials,
// whose enrolment briefly holds a duplicate descriptor).
const Headroom = 256

// Limit reads RLIMIT_NOFILE and returns how many connections this process
// may open: the soft limit less Headroom, and less 5% more for descriptors
// held while dials are in flight. A caller sizes its run to it and says so;
// when a test server runs in the same process each connection costs two
// descriptors (halve the figure).
func Limit() (int, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	n := int64(r.Cur)
	if r.Cur > 1<<30 {
		n = 1 << 30
	}
	n -= Headroom + n/20
	return int(max(n, 0)), nil
}

// RaiseLimit raises the soft RLIMIT_NOFILE to the hard limit and returns
// the new soft limit.
func RaiseLimit() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			return 0, fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", r.Max, err)
		}
	}
	return r.Cur, nil
}
