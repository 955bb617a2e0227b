// Package swarm drives bench/behavior actors over real TCP connections,
// or over the protocol's HTTP binding (see HTTP polling): the real-time,
// real-socket counterpart of the simulator's virtual clock.
//
// A Runtime owns K loops (K = GOMAXPROCS by default). Each Loop is one
// goroutine that owns an epoll set of its TCP connections, a 4-ary
// min-heap of timers, a timerfd and an eventfd, in the manner of wrk's
// per-thread ae loop. A Loop implements behavior.Scheduler and
// behavior.Dialer for the actors placed on it; there is no goroutine, no
// channel and no buffer per simulated user.
//
// # The loop
//
// The epoll descriptor is itself registered with Go's network poller (an
// epoll set is readable while any of its descriptors is ready), so a loop
// parks in the runtime like any goroutine blocked on a socket. Woken, it
// makes passes until nothing is ready: each pass takes the ready
// descriptors without waiting, reads each ready connection once into the
// loop's shared 64 KiB buffer and hands every whole frame to its actor,
// fires the timers now due (at most 1,024 a pass), starts queued
// connects, writes every link sent to during the pass (one write per link
// for all its frames), and sets the timerfd for the earliest timer left.
// The timerfd, not a Go timer, decides when a loop wakes for a timer: Go's
// runtime timers sleep in netpoll in whole milliseconds, a timerfd to the
// nanosecond.
//
// This replaced a gnet client per loop with a timer goroutine beside it.
// There every action was a lock and an AsyncWrite through gnet's eventfd
// (a wake-up per action), gnet's loop blocked in epoll_wait outside Go's
// poller (sysmon spinning to retake its P), and dials went through
// net.Dial and Enroll on worker goroutines. Measured on the same runs,
// alternating the two builds (`bench run smoke --rate 44 --no-pin`, and
// the bench built at f72bcfe with the same arguments, against the same
// refserver; system calls by `perf stat -e raw_syscalls:sys_enter -p PID`): bench's CPU fell from 8.8-9.4 CPU-s to 5.3-5.8 (from 1.4×
// the server's to 0.9×), its action lag p99 from 3-6 ms to 1-2 ms, its
// peak RSS from 103 MiB to 47 MiB, and its system calls from 1.47 million
// to under 0.67 million a run; BenchmarkTimerLag's p50 (`go test -run '^$'
// -bench TimerLag -benchtime 3000x ./bench/swarm`) from 541 µs (Go
// timers) to 44 µs. Both were measured before one was kept: gnet gives a
// client no way to run timers on its loop (its OnTick runs elsewhere), and
// the timer hop was the cost.
//
// # Threading model
//
// Every call into an actor (Receive, Timer, Dropped) is made with its
// loop's mutex held, so an actor sees one goroutine at a time. Over TCP
// the loop's goroutine is the only caller, and takes the mutex once per
// pass, not per action: it is contended only by Do. Code outside the
// actors (starting them, reading their state) takes the same lock with
// Loop.Do; sends, dials and timers set in Do wake the loop through its
// eventfd (a timer that became the earliest resets the timerfd at once).
// With Options.Poll, poll links' goroutines also take the mutex to hand
// frames to their actors. A link is never written after it ended.
//
// # Time
//
// Scenario time is Start + wall time elapsed × Timescale, read from the
// monotonic clock. A timer is kept in scenario time and fired once Now has
// reached it, so it never fires early; how late it fires is the loop's
// wake-up latency (the timerfd's expiry, Go's poller, the scheduler) plus
// the time the other actors on the loop take in that pass.
//
// # Dialing
//
// Dial never blocks: it returns a link at once, which buffers what is sent
// until the connection is up, and queues it on its loop. At the end of a
// pass the loop opens a non-blocking socket for each queued link (at most
// Options.Dialers connects in flight a loop; the rest wait their turn, so
// the server's accept queue is not flooded), binds it to a rotating
// loopback source address when the target is loopback and more than one
// is configured, and starts the connect; the kernel reports the connect
// done as the socket turning writable, and SO_ERROR says how it went. A
// connect that fails, or takes longer than Options.DialTimeout (checked
// at the loop's once-a-second heartbeat, not by a timer per connect),
// reports Dropped. When the kernel says EADDRNOTAVAIL (out of ephemeral ports for
// the current source addresses) the runtime adds an address and tries
// again.
//
// # HTTP polling
//
// With Options.Poll set, Loop.Dial returns a poll link instead: a session
// of the protocol's HTTP binding (refserver/wire/PROTOCOL.md, "HTTP
// binding (polling)") at http://Addr. Dial still returns at once and
// starts nothing; the first frame the actor sends (its hello) starts the
// link's poll goroutine, which posts it to /v1/connect and delivers batch
// 1 (ready, ...). Frames sent meanwhile, and later, go to the link's
// outbox and are posted to /v1/send in order, one request in flight per
// link: frames sent while one is in flight go in the next, cut at whole
// frames to the body bound the server allows (wire.HTTPBodyFrames frames
// of ready.max_frame). Then the poll goroutine fetches batches: with
// PollOptions.Interval 0 by long polls (GET /v1/poll with ack and
// wait=PollOptions.Wait), one after another; with Interval > 0 by short
// polls (wait=0), one per Interval of wall time. It delivers each frame of
// a batch in order, decoded with the loop's reused messages, under the
// loop's lock, as the event loop does over TCP, and keeps ack, the last
// batch received.
//
// A poll that fails (a network error, a 5xx) is made again with the same
// ack after a backoff (50ms, doubling) up to 5 times, so that a lost
// answer loses and duplicates nothing; then the link reports Dropped. A
// send that fails is posted again the same way (it may then reach the
// server twice: client ids make a request sent again harmless, as after a
// reconnect). A 410 ends the session: its frames are delivered first (the
// last is usually the error frame that says why), then Dropped reports an
// error wrapping an HTTPError with the status and the error code. A 404
// (the server lost the session) and other 4xx report Dropped. A connect
// that fails or is refused (its frames, such as error 103, delivered
// first) reports Dropped and counts in Stats.DialErrors, like a failed TCP
// dial; a 200 counts in Dialed and Open. An actor's Close sends what is
// left of the outbox, then DELETEs the session (best effort; a connect on
// its way is deleted when it comes back), and reports no Dropped.
//
// Goroutines: one per link, its poll goroutine, for as long as its session
// lives (a long poll blocks a goroutine on the client side: that is the
// honest cost of this design), plus a send goroutine per link while it has
// frames to post or a session to delete, which exits when its outbox is
// empty. There are no dial workers. Runtime.Close closes every HTTP
// connection, which ends the requests in flight, and waits for those
// goroutines; no Dropped is reported after it.
//
// The HTTP client is fasthttp's request and response types, written and
// read over the runtime's own pool of kept-alive connections (idle at most
// 5s), dialed by the same code as TCP links (the loopback source address
// rotation) and wrapped to count bytes. fasthttp rather than net/http
// because net/http's Transport keeps two goroutines and two 4 KiB buffers
// per connection, and a long-polling link holds a connection all the
// time; fasthttp starts none and pools its buffers per request. Its own
// HostClient is not used: its idle-connection cleaner outlives Close by up
// to its idle timeout, and it cannot end a request in flight. A
// long-polling link costs about 6 KiB of heap (link, held request and
// answer, 2 KiB read buffer, connection) and an 8 KiB goroutine stack on
// the client, and one connection (file descriptor) held, plus the
// connections of sends in flight or kept alive.
//
// Poll links need no pings: the loops' heartbeat pinger only pings TCP
// links, since any request keeps a session alive and a held long poll is
// one. A short-polling link makes a request once per Interval only, so
// Interval must stay well under three of the server's heartbeats
// (ready.heartbeat_ms, 15s by default): a session without a request for
// that long is ended (error 105, a 410 on the next poll).
//
// Stats.Requests counts the HTTP requests made, and Stats.BytesOut and
// BytesIn the bytes written and read, HTTP headers included (over TCP
// they count the frames' bytes).
//
// # Size
//
// Limit reads RLIMIT_NOFILE and says how many connections the process may
// open, for the caller to size a run to it and say so.
package swarm
