package swarm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

const (
	// readBuf is the size of a loop's read buffer, shared by its links.
	readBuf = 64 << 10
	// keepOut is the largest write buffer returned to a loop's free list.
	keepOut = 4 << 10
	// freeBufs bounds a loop's free list of write buffers.
	freeBufs = 1024
	// connInterest is what a link is registered for, once, edge-triggered:
	// the connect's end and room to write (EPOLLOUT), bytes to read, the
	// peer's close. Edge-triggered, a link needs no epoll_ctl after it is
	// added: a read takes what the kernel holds (readsPerEvent at most,
	// then the link is visited again next pass), and a write the kernel
	// refused in part is finished on the next EPOLLOUT edge.
	connInterest = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
	// readsPerEvent bounds the reads of one link in a pass.
	readsPerEvent = 16
)

// conns is a loop's connection state, touched only under its lock.
type conns struct {
	byFD     []*link  // open and connecting links by descriptor
	dirty    []*link  // links with frames to write at the end of the pass
	dialQ    []*link  // links waiting to connect, from dialHead on
	dialHead int      // first waiting link in dialQ
	dialing  int      // connects in flight
	inflight []*link  // the links connecting; link.slot is the index
	rbuf     []byte   // read buffer, shared by the loop's links
	again    []*link  // links to read again next pass
	free     [][]byte // write buffers to reuse
}

// link states.
const (
	stQueued     uint8 = iota // waiting for a connect slot
	stConnecting              // connect in flight
	stOpen
	stClosed  // closed by its actor
	stDropped // ended by the server, a failure or the runtime
)

// link is one TCP connection of an actor: what it costs per simulated
// connection besides the kernel's socket. An idle link holds no buffer.
type link struct {
	loop     *Loop
	a        behavior.Actor
	out      []byte  // frames not yet written (sent while connecting, or this pass)
	in       *[]byte // a partial frame read, waiting for the rest; nil if none
	fd       int32
	dev      int32
	slot     int32  // index in loop.links while open, in loop.inflight while connecting
	lastSend uint32 // loop.beats at the last send, or at the connect's start
	state    uint8
	dirty    bool // in loop.dirty
	again    bool // in loop.again: the kernel may hold more to read
}

var _ behavior.Link = (*link)(nil)

// Send implements behavior.Link. It encodes m into the link's buffer
// before it returns; the loop writes the buffer at the end of its pass
// (or once the connection is up), with one write for every frame sent to
// the link in the pass.
func (l *link) Send(m wire.Msg) error {
	lp := l.loop
	switch l.state {
	case stQueued, stConnecting:
		l.out = m.AppendFrame(l.out)
		return nil
	case stOpen:
	default:
		return fmt.Errorf("swarm: send %s: %w", m.Type(), ErrLinkClosed)
	}
	if l.out == nil {
		l.out = lp.getOut()
	}
	n := len(l.out)
	l.out = m.AppendFrame(l.out)
	lp.bytesOut.Add(int64(len(l.out) - n))
	l.lastSend = lp.beats
	lp.markDirty(l)
	return nil
}

// Close implements behavior.Link: it ends the link without reporting
// Dropped to its actor. Frames sent before it are written first, as far
// as the kernel takes them without waiting.
func (l *link) Close() error {
	lp := l.loop
	switch l.state {
	case stQueued:
		l.state = stClosed
		l.out = nil
	case stConnecting:
		l.state = stClosed
		l.out = nil
		lp.endConnect(l)
		lp.release(l)
	case stOpen:
		lp.write(l)
		if l.state != stOpen {
			return nil // the write failed: the link is dropped
		}
		l.state = stClosed
		lp.open.Add(-1)
		lp.delist(l)
		lp.release(l)
	}
	return nil
}

// markDirty queues l for the end-of-pass write.
func (lp *Loop) markDirty(l *link) {
	if !l.dirty {
		l.dirty = true
		lp.dirty = append(lp.dirty, l)
		lp.kick = true
	}
}

// getOut returns a write buffer from the free list, or nil.
func (lp *Loop) getOut() []byte {
	if n := len(lp.free); n > 0 {
		b := lp.free[n-1]
		lp.free[n-1] = nil
		lp.free = lp.free[:n-1]
		return b
	}
	return nil
}

// putOut returns l's emptied write buffer to the free list.
func (lp *Loop) putOut(l *link) {
	if b := l.out; cap(b) > 0 && cap(b) <= keepOut && len(lp.free) < freeBufs {
		lp.free = append(lp.free, b[:0])
	}
	l.out = nil
}

// release closes l's descriptor and forgets its buffers.
func (lp *Loop) release(l *link) {
	if l.fd >= 0 {
		if int(l.fd) < len(lp.byFD) && lp.byFD[l.fd] == l {
			lp.byFD[l.fd] = nil
		}
		_ = rawClose(int(l.fd))
		l.fd = -1
	}
	lp.putOut(l)
	l.in = nil
}

// drop ends a live link and tells its actor, unless the runtime closes.
func (lp *Loop) drop(l *link, err error) {
	if l.state == stOpen {
		lp.open.Add(-1)
		lp.delist(l)
	}
	if l.state == stConnecting {
		lp.endConnect(l)
	}
	l.state = stDropped
	lp.release(l)
	if !lp.rt.closing.Load() {
		l.a.Dropped(int(l.dev), err)
	}
}

// event handles one ready descriptor.
func (lp *Loop) event(fd32 int32, ev uint32) {
	fd := int(fd32)
	switch fd {
	case lp.ep.tfd: // edge-triggered: timerfd_settime resets its count
		lp.armed = time.Time{} // spent: rearm sets it again
		return
	case lp.ep.efd: // edge-triggered: every write is an edge
		return
	}
	if fd >= len(lp.byFD) {
		return
	}
	l := lp.byFD[fd]
	if l == nil {
		return // closed earlier in this pass
	}
	if l.state == stConnecting {
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if !lp.connected(l, ev) {
			return
		}
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		lp.read(l)
	}
	if l.state == stOpen && ev&unix.EPOLLOUT != 0 && len(l.out) > 0 && !l.dirty {
		lp.write(l)
	}
}

// readAgain reads the links a pass left with bytes to read.
func (lp *Loop) readAgain() {
	ls := lp.again
	lp.again = lp.again[len(lp.again):] // reads below may queue links again
	for i, l := range ls {
		ls[i] = nil
		l.again = false
		if l.state == stOpen {
			lp.read(l)
		}
	}
	if len(lp.again) == 0 {
		lp.again = ls[:0]
	}
}

// connected finishes a connect the kernel reported done, and reports
// whether the link is open. An error or hang-up event means the connect
// failed (SO_ERROR says why); writable alone, that it succeeded.
func (lp *Loop) connected(l *link, ev uint32) bool {
	rt := lp.rt
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		soErr, err := unix.GetsockoptInt(int(l.fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err == nil && soErr != 0:
			err = unix.Errno(soErr)
		case err == nil && ev&unix.EPOLLOUT != 0:
			// Connected, then closed by the peer before this pass: the
			// link opens and its read reports the end.
		case err == nil:
			err = unix.ECONNREFUSED // a hang-up with no error recorded
		}
		if err != nil {
			rt.dialErrors.Add(1)
			lp.drop(l, fmt.Errorf("swarm: dial %s: %w", rt.opts.Addr, os.NewSyscallError("connect", err)))
			return false
		}
	}
	rt.dialed.Add(1)
	lp.endConnect(l)
	l.state = stOpen
	lp.open.Add(1)
	lp.enlist(l)
	if len(l.out) > 0 {
		lp.bytesOut.Add(int64(len(l.out)))
		lp.markDirty(l)
	}
	return true
}

// read reads what the kernel holds for l, readsPerEvent buffers at most
// (then l is read again next pass), and hands each whole frame to the
// actor; a partial frame is kept on the link.
func (lp *Loop) read(l *link) {
	for range readsPerEvent {
		n, err := rawRead(int(l.fd), lp.rbuf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return
		case err != nil:
			lp.drop(l, fmt.Errorf("swarm: connection closed: %w", os.NewSyscallError("read", err)))
			return
		case n == 0:
			lp.drop(l, fmt.Errorf("swarm: connection closed: %w", io.EOF))
			return
		}
		lp.bytesIn.Add(int64(n))
		if !lp.frames(l, lp.rbuf[:n]) || n < len(lp.rbuf) {
			return // a short read took all the kernel held
		}
	}
	if !l.again {
		l.again = true
		lp.again = append(lp.again, l)
	}
}

// frames hands the whole frames of data, after what l kept of a partial
// frame, to l's actor and keeps the rest. It reports whether l is still
// open.
func (lp *Loop) frames(l *link, data []byte) bool {
	kept := l.in != nil
	if kept {
		*l.in = append(*l.in, data...)
		data = *l.in
	}
	off := 0
	for l.state == stOpen {
		body, size, err := wire.Split(data[off:], lp.rt.opts.MaxFrame)
		if errors.Is(err, wire.ErrShort) {
			break
		}
		if err == nil {
			var m wire.Msg
			if m, err = lp.decode(body); err == nil {
				off += size
				if r, ok := m.(*wire.Ready); ok && r.HeartbeatMS > 0 {
					lp.rt.heartbeat.Store(int64(r.HeartbeatMS))
				}
				l.a.Receive(int(l.dev), m)
				continue
			}
		}
		lp.drop(l, fmt.Errorf("swarm: bad frame from server: %w", err))
		return false
	}
	if l.state != stOpen {
		return false
	}
	switch rest := data[off:]; {
	case len(rest) == 0:
		l.in = nil // partial frames are rare: a link keeps no buffer for them
	case kept:
		*l.in = (*l.in)[:copy(*l.in, rest)]
	default:
		b := append(make([]byte, 0, max(2*len(rest), 512)), rest...)
		l.in = &b
	}
	return true
}

// flush writes every link sent to in this pass.
func (lp *Loop) flush() {
	for i, l := range lp.dirty {
		lp.dirty[i] = nil
		l.dirty = false
		if l.state == stOpen {
			lp.write(l)
		}
	}
	lp.dirty = lp.dirty[:0]
}

// write writes l's buffer as far as the kernel takes it; what is left
// waits for the next EPOLLOUT edge.
func (lp *Loop) write(l *link) {
	for len(l.out) > 0 {
		n, err := rawWrite(int(l.fd), l.out)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return
		case err != nil:
			lp.drop(l, fmt.Errorf("swarm: connection closed: %w", os.NewSyscallError("write", err)))
			return
		}
		l.out = l.out[n:] // not copied down: a backlog drains in linear time
	}
	lp.putOut(l)
}

// expireDials drops the links whose connect has taken DialTimeout or more
// (in whole heartbeat seconds): called once a second.
func (lp *Loop) expireDials() {
	limit := uint32(max((lp.rt.opts.DialTimeout+time.Second-1)/time.Second, 1))
	for i := len(lp.inflight) - 1; i >= 0; i-- {
		if i >= len(lp.inflight) {
			continue // drops below reordered the tail
		}
		if l := lp.inflight[i]; lp.beats-l.lastSend >= limit {
			lp.rt.dialErrors.Add(1)
			lp.drop(l, fmt.Errorf("swarm: dial %s: %w", lp.rt.opts.Addr, os.NewSyscallError("connect", unix.ETIMEDOUT)))
		}
	}
}

// endConnect takes l out of the connects in flight.
func (lp *Loop) endConnect(l *link) {
	lp.dialing--
	lp.inflight = unlist(lp.inflight, l)
}

// startDials connects queued links while fewer than Options.Dialers
// connects are in flight.
func (lp *Loop) startDials() {
	for lp.dialHead < len(lp.dialQ) && lp.dialing < lp.rt.opts.Dialers {
		l := lp.dialQ[lp.dialHead]
		lp.dialQ[lp.dialHead] = nil
		lp.dialHead++
		if l.state == stQueued && !lp.rt.closing.Load() {
			lp.connect(l)
		}
	}
	if lp.dialHead == len(lp.dialQ) {
		lp.dialQ, lp.dialHead = lp.dialQ[:0], 0
	} else if lp.dialHead > 1024 && lp.dialHead*2 > len(lp.dialQ) {
		lp.dialQ = lp.dialQ[:copy(lp.dialQ, lp.dialQ[lp.dialHead:])]
		lp.dialHead = 0
	}
}

// connect starts a non-blocking connect of l, from a rotating loopback
// source address when several are in use, adding one on EADDRNOTAVAIL.
// A connect that fails at once reports Dropped.
func (lp *Loop) connect(l *link) {
	rt := lp.rt
	fd, err := rt.socket()
	if err == nil {
		l.fd = int32(fd)
		if fd >= len(lp.byFD) {
			lp.byFD = append(lp.byFD, make([]*link, fd+1-len(lp.byFD))...)
		}
		lp.byFD[fd] = l
		err = lp.ep.add(fd, connInterest)
	}
	if err != nil {
		rt.dialErrors.Add(1)
		lp.drop(l, fmt.Errorf("swarm: dial %s: %w", rt.opts.Addr, err))
		return
	}
	l.state = stConnecting
	lp.dialing++
	l.slot = int32(len(lp.inflight))
	l.lastSend = lp.beats // the connect's start, for expireDials
	lp.inflight = append(lp.inflight, l)
}

// shutdown closes every connection of the loop when the runtime stops,
// without telling the actors.
func (lp *Loop) shutdown() {
	for _, l := range lp.byFD {
		if l != nil {
			if l.state == stOpen {
				lp.open.Add(-1)
			}
			l.state = stDropped
			lp.release(l)
		}
	}
	lp.links, lp.dirty, lp.again, lp.inflight, lp.dialQ, lp.dialHead = nil, nil, nil, nil, nil, 0
}
