package runner

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/swarm"
)

// Transports are the designs the embedded refserver runs (its
// --transport), the default first.
var Transports = []string{"gnet", "netstd", "poll"}

// linkSpec is how bench's clients reach the server: the address, whether
// over long connections or the HTTP binding, and for the embedded server
// the design it runs.
type linkSpec struct {
	addr      string             // host:port; "" for the embedded server until it starts
	transport string             // the embedded server's --transport
	poll      *swarm.PollOptions // nil: long connections
}

// link works out Options' link: the target's scheme (tcp:// or none: long
// connections; http://: polling) or, without a target, the embedded
// server's transport.
func (o Options) link() (linkSpec, error) {
	var l linkSpec
	usePoll := false
	if o.Target != "" {
		if o.Transport != "" {
			return l, fmt.Errorf("--transport %s chooses the embedded server's design; with --target the target's scheme says how to speak to it (tcp:// or http://)", o.Transport)
		}
		scheme, hostport, found := strings.Cut(o.Target, "://")
		if !found {
			scheme, hostport = "tcp", o.Target
		}
		switch scheme {
		case "tcp":
		case "http":
			usePoll = true
		default:
			return l, fmt.Errorf("target %q: scheme %s: want tcp://host:port (long connections, the default) or http://host:port (the HTTP binding, polling)", o.Target, scheme)
		}
		hostport = strings.TrimSuffix(hostport, "/")
		if _, _, err := net.SplitHostPort(hostport); err != nil {
			return l, fmt.Errorf("target %q: %w", o.Target, err)
		}
		l.addr = hostport
	} else {
		l.transport = o.Transport
		if l.transport == "" {
			l.transport = Transports[0]
		}
		if !slices.Contains(Transports, l.transport) {
			return l, fmt.Errorf("--transport %q: want one of %s", o.Transport, strings.Join(Transports, ", "))
		}
		usePoll = l.transport == "poll"
	}
	if !usePoll {
		if o.PollInterval != 0 || o.PollWait != 0 {
			return l, fmt.Errorf("--poll-interval and --poll-wait are for an HTTP target or --transport poll")
		}
		return l, nil
	}
	if o.PollInterval < 0 || o.PollWait < 0 {
		return l, fmt.Errorf("--poll-interval %s, --poll-wait %s: must not be negative", o.PollInterval, o.PollWait)
	}
	if o.PollInterval > 0 && o.PollWait > 0 {
		return l, fmt.Errorf("--poll-wait is for long polling; --poll-interval %s short-polls", o.PollInterval)
	}
	l.poll = &swarm.PollOptions{Interval: o.PollInterval, Wait: o.PollWait}
	return l, nil
}

// fdsPerLink is how many descriptors one client link takes: one long
// connection, or two HTTP connections (a held poll and a send).
func (l linkSpec) fdsPerLink() int {
	if l.poll != nil {
		return 2
	}
	return 1
}

// describe says how the clients speak, for the result.
func (l linkSpec) describe() string {
	switch {
	case l.poll == nil:
		return "tcp"
	case l.poll.Interval > 0:
		return fmt.Sprintf("http short polling every %s", l.poll.Interval)
	case l.poll.Wait > 0:
		return fmt.Sprintf("http long polling, held up to %s", l.poll.Wait.Round(time.Millisecond))
	}
	return "http long polling"
}
