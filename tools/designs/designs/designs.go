// Package designs is the standard comparison of connection-server designs
// behind `make compare-designs`: refserver's one desk core served by gnet
// event loops, by a goroutine per connection (netstd), and over HTTP by long
// and by short polling, each measured the same way, at equal offered load:
//
//   - memory per idle connection: the server's RSS over idle customers, at
//     several sizes;
//   - server requests per idle client per hour (the battery proxy): frames
//     a long connection's client sends to keep it alive (pings), or HTTP
//     requests a polling client makes;
//   - the time to fan one broadcast out to every connected customer;
//   - CPU seconds per 1,000 delivered messages, delivery latency
//     p50/p99/p99.9 and bytes on the wire per delivered message, from one
//     bench run of the designs scenario (chat in real time) at a fixed rate;
//   - the highest sustainable load, from bench run --find-max.
//
// The server is a refserver child process per phase, so its CPU, memory
// and socket bytes (/proc/PID/io) are its own; bench runs as a child too
// (bin/bench), against the server's address with the scheme of the design.
package designs

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Design is one connection-server design as the comparison runs it.
type Design struct {
	// Name names it in the table: gnet, netstd, poll-long, poll-short.
	Name string
	// Transport is refserver's --transport.
	Transport string
	// PollInterval is the clients' short-polling interval; 0 with
	// Transport poll long-polls.
	PollInterval time.Duration
}

// Standard are the designs compared, the default first.
var Standard = []Design{
	{Name: "gnet", Transport: "gnet"},
	{Name: "netstd", Transport: "netstd"},
	{Name: "poll-long", Transport: "poll"},
	{Name: "poll-short", Transport: "poll", PollInterval: time.Second},
}

// Describe says what the design is, for the report.
func (d Design) Describe() string {
	switch {
	case d.Transport == "gnet":
		return "gnet event loops, long TCP connections"
	case d.Transport == "netstd":
		return "a goroutine per connection (net package), long TCP connections"
	case d.PollInterval > 0:
		return fmt.Sprintf("HTTP (fasthttp), short polling every %s", d.PollInterval)
	}
	return "HTTP (fasthttp), long polling"
}

// http reports whether the design's clients speak the HTTP binding.
func (d Design) http() bool { return d.Transport == "poll" }

// scheme is the target scheme bench is given for the design.
func (d Design) scheme() string {
	if d.http() {
		return "http://"
	}
	return "tcp://"
}

// Select returns the standard designs named in names, in the standard
// order; all of them for none.
func Select(names []string) ([]Design, error) {
	if len(names) == 0 {
		return slices.Clone(Standard), nil
	}
	var out []Design
	var known []string
	for _, d := range Standard {
		known = append(known, d.Name)
		if slices.Contains(names, d.Name) {
			out = append(out, d)
		}
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("design %q: want some of %s", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}
