// Package fanout maps users to their connected devices and sends each
// message to every device of every recipient. A message is encoded once,
// into a pooled buffer, and the same bytes are handed to each connection;
// a connection copies them into its own bounded outbound queue, so the
// buffer is reused as soon as the fanout returns.
package fanout

import (
	"hash/maphash"
	"sync"

	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Conn is a connection as the hub sees it. Implementations are safe for
// concurrent use.
type Conn interface {
	// Send queues a copy of frame for writing. It returns false when the
	// connection is closing, or when frame would take its outbound queue
	// over its bound, in which case the connection closes itself as a slow
	// reader.
	Send(frame []byte) bool
}

const shards = 64

// Hub is the registry of connected devices by tenant and user.
type Hub struct {
	seed   maphash.Seed
	shards [shards]shard
	bufs   sync.Pool
}

type key struct{ tenant, user string }

type shard struct {
	mu    sync.RWMutex
	users map[key]*entry
}

type entry struct {
	role  wire.Role
	conns []Conn
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	h := &Hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].users = make(map[key]*entry)
	}
	h.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	return h
}

func (h *Hub) shard(k key) *shard {
	var mh maphash.Hash
	mh.SetSeed(h.seed)
	mh.WriteString(k.tenant)
	mh.WriteByte(0)
	mh.WriteString(k.user)
	return &h.shards[mh.Sum64()%shards]
}

// Add registers c as a device of user in tenant and returns how many
// devices the user now has connected.
func (h *Hub) Add(tenant, user string, role wire.Role, c Conn) int {
	k := key{tenant, user}
	s := h.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.users[k]
	if e == nil {
		e = &entry{role: role}
		s.users[k] = e
	}
	e.conns = append(e.conns, c)
	return len(e.conns)
}

// Remove unregisters c and returns how many devices the user still has.
func (h *Hub) Remove(tenant, user string, c Conn) int {
	k := key{tenant, user}
	s := h.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.users[k]
	if e == nil {
		return 0
	}
	for i, x := range e.conns {
		if x == c {
			last := len(e.conns) - 1
			e.conns[i] = e.conns[last]
			e.conns[last] = nil
			e.conns = e.conns[:last]
			break
		}
	}
	if len(e.conns) == 0 {
		delete(s.users, k)
		return 0
	}
	return len(e.conns)
}

// Devices returns how many devices user has connected.
func (h *Hub) Devices(tenant, user string) int {
	k := key{tenant, user}
	s := h.shard(k)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.users[k]; e != nil {
		return len(e.conns)
	}
	return 0
}

// Result counts what one fanout did.
type Result struct {
	Sent    int // frames queued to connections
	Dropped int // connections that refused (closing or too slow)
}

// Deliver encodes o once and sends it to its audience in tenant; origin is
// the connection whose request produced it.
func (h *Hub) Deliver(tenant string, o *desk.Out, origin Conn) Result {
	bp := h.bufs.Get().(*[]byte)
	frame := o.AppendFrame((*bp)[:0])
	var r Result
	h.audience(tenant, o, origin, func(c Conn) {
		if c.Send(frame) {
			r.Sent++
		} else {
			r.Dropped++
		}
	})
	h.putBuf(bp, frame)
	return r
}

// Resolve appends to conns the connections o's audience has now in
// tenant, as Deliver would send to, without sending: a driver that holds
// effects until the store has them on disk sends them later, to the
// connections that were their audience when the desk produced them.
func (h *Hub) Resolve(tenant string, o *desk.Out, origin Conn, conns []Conn) []Conn {
	h.audience(tenant, o, origin, func(c Conn) { conns = append(conns, c) })
	return conns
}

// audience calls visit for each connection of o's audience in tenant: the
// origin, every device of a user, or every device of the members and
// watchers except the origin when o says so. visit runs under a shard's
// read lock.
func (h *Hub) audience(tenant string, o *desk.Out, origin Conn, visit func(Conn)) {
	switch o.Audience {
	case desk.ToOrigin:
		if origin != nil {
			visit(origin)
		}
	case desk.ToUser:
		h.userConns(tenant, o.User, nil, visit)
	case desk.ToMembers:
		var skip Conn
		if o.SkipOrigin {
			skip = origin
		}
		for _, u := range o.Members {
			h.userConns(tenant, u, skip, visit)
		}
		for _, u := range o.Watchers {
			h.userConns(tenant, u, skip, visit)
		}
	}
}

// userConns calls visit for every device of user except skip.
func (h *Hub) userConns(tenant, user string, skip Conn, visit func(Conn)) {
	k := key{tenant, user}
	s := h.shard(k)
	s.mu.RLock()
	if e := s.users[k]; e != nil {
		for _, c := range e.conns {
			if c != skip {
				visit(c)
			}
		}
	}
	s.mu.RUnlock()
}

func (h *Hub) putBuf(bp *[]byte, frame []byte) {
	if cap(frame) <= 64<<10 {
		*bp = frame[:0]
		h.bufs.Put(bp)
	}
}

// Broadcast sends m to every connected device of every customer of tenant,
// encoded once.
func (h *Hub) Broadcast(tenant string, m wire.Msg) Result {
	bp := h.bufs.Get().(*[]byte)
	frame := m.AppendFrame((*bp)[:0])
	var r Result
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for k, e := range s.users {
			if k.tenant != tenant || e.role != wire.RoleCustomer {
				continue
			}
			for _, c := range e.conns {
				if c.Send(frame) {
					r.Sent++
				} else {
					r.Dropped++
				}
			}
		}
		s.mu.RUnlock()
	}
	h.putBuf(bp, frame)
	return r
}
