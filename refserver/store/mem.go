package store

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

const memShards = 64

// Mem is an in-memory Store. Messages are lost when the process ends, which
// is what durability "none" means.
type Mem struct {
	nextConv atomic.Uint64
	maxPer   int
	shards   [memShards]memShard
}

type memShard struct {
	mu    sync.Mutex
	convs map[uint64]*memConv
}

type clientKey struct {
	sender string
	id     uint64
}

// seenIDs maps the client ids a conversation has stored, per sender, to
// their sequences: the dedupe of a retried request. Nil until the first.
type seenIDs map[clientKey]uint64

func (s *seenIDs) add(sender string, id, seq uint64) {
	if *s == nil {
		*s = make(seenIDs, 8)
	}
	(*s)[clientKey{sender, id}] = seq
}

func (s seenIDs) lookup(sender string, id uint64) (uint64, bool) {
	seq, ok := s[clientKey{sender, id}]
	return seq, ok
}

type memConv struct {
	tenant string
	meta   []byte // the desk's saved state; nil until saved
	first  uint64 // sequence of recs[0]
	last   uint64
	recs   []Record
	seen   seenIDs
}

// NewMem returns an in-memory store that keeps at most maxPerConv messages
// of each conversation (0: no bound); older ones are dropped, and a resume
// from before them starts at the oldest kept.
func NewMem(maxPerConv int) *Mem {
	m := &Mem{maxPer: maxPerConv}
	for i := range m.shards {
		m.shards[i].convs = make(map[uint64]*memConv)
	}
	return m
}

var _ Store = (*Mem)(nil)

func (m *Mem) shard(conv uint64) *memShard { return &m.shards[conv%memShards] }

// NewConv implements Store.
func (m *Mem) NewConv() (uint64, error) {
	id := m.nextConv.Add(1)
	s := m.shard(id)
	s.mu.Lock()
	s.convs[id] = &memConv{first: 1}
	s.mu.Unlock()
	return id, nil
}

// Append implements Store.
func (m *Mem) Append(r *Record) error {
	s := m.shard(r.Conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[r.Conv]
	if c == nil {
		return fmt.Errorf("append to conversation %d: %w", r.Conv, ErrUnknownConv)
	}
	if r.Seq != c.last+1 {
		return fmt.Errorf("append seq %d to conversation %d at %d: %w", r.Seq, r.Conv, c.last, ErrOutOfOrder)
	}
	if m.maxPer > 0 && len(c.recs) >= m.maxPer {
		drop := len(c.recs) - m.maxPer + 1
		clear(c.recs[:drop])
		c.recs = append(c.recs[:0], c.recs[drop:]...)
		c.first += uint64(drop)
	}
	c.recs = append(c.recs, *r)
	c.last = r.Seq
	if r.ClientID != 0 {
		c.seen.add(r.Sender, r.ClientID, r.Seq)
	}
	return nil
}

// Lookup implements Store.
func (m *Mem) Lookup(conv uint64, sender string, clientID uint64) (uint64, bool) {
	s := m.shard(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conv]
	if c == nil {
		return 0, false
	}
	return c.seen.lookup(sender, clientID)
}

// Since implements Store. fn runs under the shard's lock: it must not call
// back into the store.
func (m *Mem) Since(conv, after uint64, fn func(*Record) bool) error {
	s := m.shard(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conv]
	if c == nil {
		return fmt.Errorf("read conversation %d: %w", conv, ErrUnknownConv)
	}
	i := 0
	if after >= c.first {
		if after-c.first >= uint64(len(c.recs)) {
			return nil // at or past the end (and no int overflow)
		}
		i = int(after - c.first + 1)
	}
	for ; i < len(c.recs); i++ {
		if !fn(&c.recs[i]) {
			break
		}
	}
	return nil
}

// Forget implements Store.
func (m *Mem) Forget(conv uint64) error {
	s := m.shard(conv)
	s.mu.Lock()
	delete(s.convs, conv)
	s.mu.Unlock()
	return nil
}

// SaveConv implements Store.
func (m *Mem) SaveConv(tenant string, conv uint64, meta []byte) error {
	s := m.shard(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conv]
	if c == nil {
		return fmt.Errorf("save conversation %d: %w", conv, ErrUnknownConv)
	}
	c.tenant = tenant
	c.meta = append(c.meta[:0], meta...)
	return nil
}

// Convs implements Store.
func (m *Mem) Convs(tenant string, fn func(conv, last uint64, meta []byte) error) error {
	type saved struct {
		id, last uint64
		meta     []byte
	}
	var all []saved
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for id, c := range s.convs {
			if c.meta != nil && c.tenant == tenant {
				all = append(all, saved{id, c.last, slices.Clone(c.meta)})
			}
		}
		s.mu.Unlock()
	}
	slices.SortFunc(all, func(a, b saved) int { return cmp.Compare(a.id, b.id) })
	for _, c := range all {
		if err := fn(c.id, c.last, c.meta); err != nil {
			return err
		}
	}
	return nil
}

// Sync implements Store: memory has nothing to sync.
func (m *Mem) Sync() error { return nil }

// Close implements Store.
func (m *Mem) Close() error { return nil }
