package floor

import (
	"os"
	"strconv"
	"strings"
)

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
