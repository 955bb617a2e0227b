// Package floor is a bare client and server doing what bench's
// connections scenario does to set up a customer, and nothing else: a TCP
// connect over loopback, one hello frame written, one answer frame read,
// the connection then held idle. The CPU of the client against the
// server's, measured from /proc/PID/stat as bench's and refserver's are,
// is the floor under bench's ratio on the same machine: on loopback the
// dialler pays for both halves of the TCP handshake (the SYN, SYN-ACK and
// ACK are processed in the connecting process's system calls), so even a
// bare client costs about twice its server (DESIGN.md §7).
//
// Both sides are one epoll loop on one goroutine over raw non-blocking
// sockets (golang.org/x/sys/unix, already a dependency). The server
// accepts, reads the hello, checks its type, writes a ready prepared once
// (wire.Ready's encoding) and leaves the connection in its edge-triggered
// epoll set, where it wakes the loop no more. The client keeps a window
// of connections in flight (64), each connecting, writing its hello
// (wire.Hello's encoding, the bytes bench sends) when writable and reading
// the ready, then held in the same way. Loopback source addresses
// 127.0.0.x, bound with IP_BIND_ADDRESS_NO_PORT, are added when the
// connections outnumber the ephemeral port range, as bench/swarm does.
//
// Plain Go net was measured first, on the same 2-core machine, 15,000
// connections, six runs of each: a goroutine per connection on the server
// that ends after answering, 64 dialling goroutines on the client. The
// epoll loops take about 45% less CPU on each side (medians: client 1.0 s
// against 1.8 s, server 0.45 s against 0.82 s) and far less memory (RSS
// growth per connection: client about 110 B against 1,250 B, server about
// 270 B against 1,050 B), for about the same ratio (2.1–2.6× against
// 1.9–2.6×). The floor is the cheaper pair. Mixing them shows why the
// choice must be made on both sides: a net client against an epoll server
// measured 3.4–3.5×, an epoll client against a net server 1.3–1.4×.
//
// Run starts the server as a child process (the floor command's serve
// subcommand, or any command that calls ServeMain), so that each side's
// CPU and memory are its own; the client runs in the calling process.
package floor
