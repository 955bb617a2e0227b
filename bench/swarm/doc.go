// Package swarm drives bench/behavior actors over real TCP connections,
// or over the protocol's HTTP binding (see HTTP polling): the real-time,
// real-socket counterpart of the simulator's virtual clock.
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
