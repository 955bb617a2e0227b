package floor

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Headroom is the number of file descriptors Limit keeps back for the
// process itself, as bench/swarm's Limit does.
const Headroom = 256

// RaiseLimit raises the soft RLIMIT_NOFILE to the hard limit and returns
// the new soft limit. A child started afterwards inherits it.
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

// Limit returns how many connections this process may hold under its soft
// RLIMIT_NOFILE: the limit less Headroom and less 5% more, the same
// reckoning as bench's, so that the floor is capped where bench is.
func Limit() (int, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	n := int64(min(r.Cur, 1<<30))
	n -= Headroom + n/20
	return int(max(n, 0)), nil
}

// portRange returns how many ephemeral ports connect may choose from
// (net.ipv4.ip_local_port_range); 28,232 (Linux's default) when it cannot
// be read.
func portRange() int {
	const def = 60999 - 32768 + 1
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return def
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return def
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return def
	}
	return hi - lo + 1
}
