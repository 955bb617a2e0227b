// Package swarm drives bench/behavior actors over real TCP connections:
// the real-time, real-socket counterpart of the simulator's virtual clock.
//
// A Runtime owns K loops (K = cores by default). Each Loop owns one
// gnet.Client (a gnet client runs a single event loop, upstream issue
// #697), one 4-ary min-heap of timers and one mutex. A Loop implements
// behavior.Scheduler and behavior.Dialer for the actors placed on it; there
// is no goroutine per simulated user.
//
// # Threading model
//
// Every call into an actor (Receive, Timer, Dropped) is made with its
// loop's mutex held, so an actor sees one goroutine at a time even though
// three kinds of goroutine may call it:
//
//   - the loop's gnet event loop (OnOpen, OnTraffic, OnClose), for
//     Receive and Dropped;
//   - the loop's timer goroutine, which sleeps until the heap's earliest
//     deadline and fires due timers (Timer);
//   - a dial worker, only to report Dropped for a dial that failed.
//
// Code outside the actors (starting them, reading their state) takes the
// same lock with Loop.Do. Sends made from the event loop write straight to
// the connection (gnet Conn.Write is loop-only); sends made from the timer
// goroutine go through AsyncWrite with a pooled buffer. A link is never
// written after gnet reported its close.
//
// # Time
//
// Scenario time is Start + wall time elapsed × Timescale, read from the
// monotonic clock. A timer is kept in scenario time and fired once Now has
// reached it, so it never fires early; how late it fires is the timer
// goroutine's wake-up latency plus the time other actors on the loop take.
//
// # Dialing
//
// Dial never blocks the caller (it is called from loops): it returns a
// link at once, which buffers what is sent until the connection is up, and
// queues the dial for a small pool of worker goroutines (net.Dial and
// gnet's Enroll block, upstream issue #287). A worker dials, from a
// rotating loopback source address when the target is loopback and more
// than one is configured, or when the kernel says EADDRNOTAVAIL (out of
// ephemeral ports for the current addresses), and enrolls the connection
// in its loop's client. A dial that fails reports Dropped.
//
// # Size
//
// Limit reads RLIMIT_NOFILE and says how many connections the process may
// open, for the caller to size a run to it and say so.
package swarm
