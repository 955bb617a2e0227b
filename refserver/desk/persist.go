package desk

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// A conversation's life is saved in the store at each change of state
// (opened, queued, assigned, closed), as an opaque record the store keeps
// beside the messages; Restore rebuilds the desk from those records after a
// restart. What is not saved is rebuilt or said again by the clients:
// agents' status and limits (an agent console says them again after a
// reconnect), supervisors' watches, and the bot's state within a
// conversation (it starts over).

// metaVersion is the encoding of a saved conversation.
const metaVersion = 1

// ErrMeta is returned by Restore for a saved conversation that does not
// decode.
var ErrMeta = errors.New("desk: bad saved conversation")

// appendMeta encodes what Restore needs of c.
func appendMeta(dst []byte, c *conv) []byte {
	dst = append(dst, metaVersion, byte(c.state))
	dst = binary.AppendUvarint(dst, c.openCID)
	dst = binary.AppendVarint(dst, unixNano(c.opened))
	dst = binary.AppendVarint(dst, unixNano(c.queuedAt))
	dst = binary.AppendVarint(dst, unixNano(c.closedAt))
	for _, s := range [...]string{c.customer, c.agent, c.group, c.channel} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// decodeMeta rebuilds a conversation from its saved record.
func decodeMeta(id uint64, b []byte) (*conv, error) {
	if len(b) < 2 || b[0] != metaVersion {
		return nil, fmt.Errorf("conversation %d: version or length (%d bytes): %w", id, len(b), ErrMeta)
	}
	c := &conv{id: id, state: State(b[1])}
	if c.state < StateBot || c.state > StateAbandoned {
		return nil, fmt.Errorf("conversation %d: state %d: %w", id, b[1], ErrMeta)
	}
	b = b[2:]
	var ok bool
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if !ok || n > uint64(len(b)) {
			ok = false
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	ok = true
	c.openCID = uv()
	c.opened = fromNano(sv())
	c.queuedAt = fromNano(sv())
	c.closedAt = fromNano(sv())
	c.customer, c.agent, c.group, c.channel = str(), str(), str(), str()
	if !ok || len(b) != 0 || c.customer == "" {
		return nil, fmt.Errorf("conversation %d: truncated or trailing bytes: %w", id, ErrMeta)
	}
	if c.state == StateAssigned && c.agent == "" {
		return nil, fmt.Errorf("conversation %d: assigned to nobody: %w", id, ErrMeta)
	}
	return c, nil
}

// save records c's state in the store. A failure is told to the origin:
// the conversation goes on in memory, and a restart would find it as last
// saved.
func (d *Desk) save(c *conv, fx *Effects) {
	d.metaBuf = appendMeta(d.metaBuf[:0], c)
	if err := d.store.SaveConv(d.cfg.ID, c.id, d.metaBuf); err != nil {
		fx.errorTo(wire.CodeInternal, 0, fmt.Sprintf("save conversation %d: %v", c.id, err))
	}
}

// Restore rebuilds the desk's conversations from the store, as saved
// before a restart: open ones go back to their customer, queued ones to
// their group's queue in their old order (waiting since they first
// queued), assigned ones to their agent, who holds them while offline and
// counts them in its load once it says its status; closed ones stay
// resumable until the retention ends. Call it once, on a new Desk, before
// any other call. It returns how many conversations it restored.
func (d *Desk) Restore(now time.Time) (int, error) {
	var queued, closed []*conv
	n := 0
	idle := time.Duration(d.cfg.Limits.IdleClose)
	err := d.store.Convs(d.cfg.ID, func(id, last uint64, meta []byte) error {
		c, err := decodeMeta(id, meta)
		if err != nil {
			return err
		}
		if _, ok := d.groups[c.group]; !ok {
			// The group is gone from the configuration: the tenant's
			// default serves it.
			c.group = d.cfg.DefaultGroup
		}
		c.seq = last
		c.active = c.opened
		if last > 0 {
			if err := d.store.Since(id, last-1, func(r *store.Record) bool {
				c.active = time.Unix(0, r.Time)
				return false
			}); err != nil {
				return fmt.Errorf("conversation %d: last record: %w", id, err)
			}
		}
		c.members = []string{c.customer}
		d.convs[id] = c
		n++
		if c.ended() {
			if c.agent != "" {
				c.members = []string{c.customer, c.agent}
			}
			closed = append(closed, c)
			return nil
		}
		d.open++
		u := d.user(Session{User: c.customer, Role: wire.RoleCustomer})
		u.convs = append(u.convs, id)
		if c.openCID != 0 {
			if u.openIDs == nil {
				u.openIDs = make(map[uint64]uint64, 1)
			}
			u.openIDs[c.openCID] = id
		}
		if idle > 0 {
			d.pushIdle(c, c.active.Add(idle))
		}
		switch c.state {
		case StateQueued:
			queued = append(queued, c)
		case StateAssigned:
			c.members = []string{c.customer, c.agent}
			if err := d.router.Restore(c.agent, c.group, id, now); err != nil {
				return fmt.Errorf("conversation %d: %w", id, err)
			}
			a := d.user(Session{User: c.agent, Role: wire.RoleAgent})
			a.convs = append(a.convs, id)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("restore tenant %s: %w", d.cfg.ID, err)
	}
	// Queues in their old order: by the time each conversation queued.
	slices.SortFunc(queued, func(a, b *conv) int {
		return cmp.Or(a.queuedAt.Compare(b.queuedAt), cmp.Compare(a.id, b.id))
	})
	for _, c := range queued {
		if _, _, _, err := d.router.Route(c.group, c.id, d.groups[c.group].priority, c.queuedAt); err != nil {
			return n, fmt.Errorf("restore tenant %s: queue conversation %d: %w", d.cfg.ID, c.id, err)
		}
	}
	slices.SortFunc(closed, func(a, b *conv) int {
		return cmp.Or(a.closedAt.Compare(b.closedAt), cmp.Compare(a.id, b.id))
	})
	for _, c := range closed {
		d.closedQ = append(d.closedQ, closedEntry{conv: c.id, at: c.closedAt})
	}
	return n, nil
}
