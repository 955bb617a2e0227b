package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
)

// ErrClosed is returned by the methods of a Pebble store after Close.
var ErrClosed = errors.New("store: closed")

// PebbleOptions configures OpenPebble.
type PebbleOptions struct {
	// Durability is DurabilityBatch or DurabilitySync (DurabilityNone is
	// the in-memory store, NewMem).
	Durability Durability
	// SyncInterval is how often the background loop syncs under
	// DurabilityBatch; 0 means DefaultSyncInterval.
	SyncInterval time.Duration
	// Logger receives pebble's background errors, write stalls and slow
	// disk reports (its routine messages go at debug level); nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultSyncInterval is the background sync period of DurabilityBatch.
const DefaultSyncInterval = 10 * time.Millisecond

const (
	pebbleShards = 64
	// convIDBlock is how many conversation ids one synced write of the
	// high-water mark reserves.
	convIDBlock = 1024
	// pebbleCacheSize is the block cache: reads are mostly resumes of
	// recent messages, which the memtables and a modest cache serve.
	pebbleCacheSize = 32 << 20
)

// Pebble is a Store on disk, in a pebble database. Writes (Append,
// SaveConv, Forget) go into one pending batch in memory; Sync commits it
// to pebble with an fsync of the write-ahead log, so everything written
// between two syncs costs one pebble commit and one fsync (group commit at
// our level, on top of pebble's own sharing of an fsync among concurrent
// committers). The pending batch is also committed, without a sync, when
// it grows past maxPending and before a read (Since, Convs), which must
// see it. Batches are committed in the order they were filled. Under
// DurabilityBatch a background loop calls Sync every SyncInterval.
//
// Each conversation's last sequence and the client ids it has stored are
// kept in memory, as Mem keeps them, so neither Append nor Lookup reads the
// disk; both are rebuilt when the store is opened. After a restart the
// conversations that exist are those with saved state (SaveConv) or
// records; conversation ids are never reused.
type Pebble struct {
	db  *pebble.DB
	dir string
	log *slog.Logger

	gate   gate
	writes atomic.Uint64 // writes applied so far
	synced atomic.Uint64 // writes covered by a completed sync

	idMu     sync.Mutex
	nextID   uint64 // the next conversation id to hand out
	reserved uint64 // ids below it are covered by the stored high-water mark

	shards [pebbleShards]pebbleShard

	commitMu sync.Mutex // orders the commits of pending batches
	pendMu   sync.Mutex // guards pend
	pend     *pebble.Batch

	stop, done chan struct{} // the DurabilityBatch sync loop; nil otherwise

	closeMu sync.Mutex
	closed  bool
}

type pebbleShard struct {
	mu    sync.Mutex
	convs map[uint64]*pebbleConv
	buf   []byte // scratch for keys and values, under mu
}

// pebbleConv is what the store keeps in memory of a conversation.
type pebbleConv struct {
	last uint64 // sequence of its last record
	seen seenIDs
}

// maxPending is the size past which the pending batch is committed without
// waiting for a Sync.
const maxPending = 1 << 20

var _ Store = (*Pebble)(nil)

// OpenPebble opens (creating it if needed) the store in directory dir.
// o.Durability must be DurabilityBatch or DurabilitySync.
func OpenPebble(dir string, o PebbleOptions) (*Pebble, error) {
	switch o.Durability {
	case DurabilityBatch, DurabilitySync:
	case DurabilityNone:
		return nil, fmt.Errorf("open store %s: durability none means the in-memory store (NewMem), not a directory", dir)
	default:
		return nil, fmt.Errorf("open store %s: invalid durability %v", dir, o.Durability)
	}
	if dir == "" {
		return nil, errors.New("open store: no directory")
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	p := &Pebble{dir: dir, log: o.Logger.With("store", dir)}
	p.gate.drained = make(chan struct{}, 1)
	for i := range p.shards {
		p.shards[i].convs = make(map[uint64]*pebbleConv)
	}

	cache := pebble.NewCache(pebbleCacheSize)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{p.log},
		EventListener:      p.eventListener(),
		// No bloom filters: the store makes no point reads (client ids
		// are looked up in memory), only range scans.
		// An append-only workload: let L0 grow while compactions catch up
		// rather than stopping writes (CockroachDB does the same), and
		// absorb bursts in a few more memtables.
		L0StopWritesThreshold:       1000,
		MemTableStopWritesThreshold: 4,
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	p.db = db
	p.pend = db.NewBatch()
	if err := p.load(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if o.Durability == DurabilityBatch {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.syncLoop(o.SyncInterval)
	}
	return p, nil
}

// load rebuilds the in-memory state: the id high-water mark and, for each
// conversation with records or saved state, the sequence of its last record.
func (p *Pebble) load() error {
	p.nextID = 1
	v, closer, err := p.db.Get([]byte(keyNextConv))
	switch {
	case err == nil:
		if len(v) != 8 {
			err = corrupt([]byte(keyNextConv), fmt.Sprintf("id mark of %d bytes, want 8", len(v)))
		} else {
			p.nextID = max(p.nextID, binary.BigEndian.Uint64(v))
		}
		_ = closer.Close()
		if err != nil {
			return err
		}
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("read id mark: %w", err)
	}

	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixConv}, UpperBound: []byte(keyNextConv)})
	if err != nil {
		return err
	}
	defer it.Close()
	// Conversations with records: the first m key gives a conversation,
	// SeekLT its end its last record, SeekGE its end the next one.
	for ok := it.SeekGE([]byte{prefixMsg}); ok; {
		k := it.Key()
		if len(k) != msgKeyLen {
			return corrupt(k, fmt.Sprintf("message key of %d bytes, want %d", len(k), msgKeyLen))
		}
		conv := binary.BigEndian.Uint64(k[1:])
		end := prefixEnd(k[:convKeyLen])
		if !it.SeekLT(end) {
			break // cannot happen: k is before end
		}
		if k = it.Key(); len(k) != msgKeyLen {
			return corrupt(k, fmt.Sprintf("message key of %d bytes, want %d", len(k), msgKeyLen))
		}
		p.shard(conv).convs[conv] = &pebbleConv{last: binary.BigEndian.Uint64(k[9:])}
		p.nextID = max(p.nextID, conv+1)
		if end == nil {
			break
		}
		ok = it.SeekGE(end)
	}
	if err := it.Error(); err != nil {
		return err
	}
	// Conversations with saved state but no records.
	for ok := it.SeekGE([]byte{prefixConv}); ok; ok = it.Next() {
		k := it.Key()
		if k[0] != prefixConv {
			break
		}
		if len(k) != convKeyLen {
			return corrupt(k, fmt.Sprintf("conversation key of %d bytes, want %d", len(k), convKeyLen))
		}
		conv := binary.BigEndian.Uint64(k[1:])
		s := p.shard(conv)
		if _, ok := s.convs[conv]; !ok {
			s.convs[conv] = &pebbleConv{}
		}
		p.nextID = max(p.nextID, conv+1)
	}
	if err := it.Error(); err != nil {
		return err
	}
	// The client ids stored, for Lookup.
	for ok := it.SeekGE([]byte{prefixDedupe}); ok; ok = it.Next() {
		k := it.Key()
		if k[0] != prefixDedupe {
			break
		}
		if len(k) < convKeyLen+8 {
			return corrupt(k, fmt.Sprintf("client id key of %d bytes", len(k)))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if len(v) != 8 {
			return corrupt(k, fmt.Sprintf("sequence of %d bytes, want 8", len(v)))
		}
		conv := binary.BigEndian.Uint64(k[1:])
		c := p.shard(conv).convs[conv]
		if c == nil {
			continue // a client id whose records are gone
		}
		c.seen.add(string(k[17:]), binary.BigEndian.Uint64(k[9:]), binary.BigEndian.Uint64(v))
	}
	if err := it.Error(); err != nil {
		return err
	}
	p.reserved = p.nextID // the next NewConv stores a new mark first
	return nil
}

func (p *Pebble) shard(conv uint64) *pebbleShard { return &p.shards[conv%pebbleShards] }

func (p *Pebble) wrote() { p.writes.Add(1) }

// NewConv implements Store. Ids are reserved in blocks by a synced write of
// a high-water mark, so they never repeat, even across a crash.
func (p *Pebble) NewConv() (uint64, error) {
	if !p.gate.enter() {
		return 0, ErrClosed
	}
	defer p.gate.exit()
	p.idMu.Lock()
	if p.nextID >= p.reserved {
		mark := p.nextID + convIDBlock
		if err := p.db.Set([]byte(keyNextConv), binary.BigEndian.AppendUint64(nil, mark), pebble.Sync); err != nil {
			p.idMu.Unlock()
			return 0, fmt.Errorf("new conversation: store id mark: %w", err)
		}
		p.reserved = mark
	}
	id := p.nextID
	p.nextID++
	p.idMu.Unlock()
	s := p.shard(id)
	s.mu.Lock()
	s.convs[id] = &pebbleConv{}
	s.mu.Unlock()
	return id, nil
}

// write adds to the pending batch (under the caller's shard lock, so one
// conversation's writes keep their order) and counts the write.
func (p *Pebble) write(fn func(b *pebble.Batch)) (big bool) {
	p.pendMu.Lock()
	fn(p.pend)
	big = p.pend.Len() >= maxPending
	p.pendMu.Unlock()
	p.wrote()
	return big
}

// commit commits the pending batch, with an fsync of the log when sync is
// set (one is made even with nothing pending, for writes committed
// earlier without one). Commits happen one at a time, in batch order.
func (p *Pebble) commit(sync bool) error {
	p.commitMu.Lock()
	defer p.commitMu.Unlock()
	p.pendMu.Lock()
	b := p.pend
	if b.Empty() {
		p.pendMu.Unlock()
		if sync {
			// An empty LogData record written with Sync: pebble's log
			// writer flushes every earlier record before the fsync.
			if err := p.db.LogData(nil, pebble.Sync); err != nil {
				return fmt.Errorf("sync store %s: %w", p.dir, err)
			}
		}
		return nil
	}
	p.pend = p.db.NewBatch()
	p.pendMu.Unlock()
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	err := b.Commit(opt)
	_ = b.Close()
	if err != nil {
		return fmt.Errorf("commit to store %s: %w", p.dir, err)
	}
	return nil
}

// flush commits what is pending, without a sync, so that a read sees it.
func (p *Pebble) flush() error {
	p.pendMu.Lock()
	empty := p.pend.Empty()
	p.pendMu.Unlock()
	if empty {
		return nil
	}
	return p.commit(false)
}

// Append implements Store. The record and its client id are written in one
// batch, not synced: see Sync.
func (p *Pebble) Append(r *Record) error {
	if !p.gate.enter() {
		return ErrClosed
	}
	defer p.gate.exit()
	s := p.shard(r.Conv)
	s.mu.Lock()
	c, ok := s.convs[r.Conv]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("append to conversation %d: %w", r.Conv, ErrUnknownConv)
	}
	if r.Seq != c.last+1 {
		s.mu.Unlock()
		return fmt.Errorf("append seq %d to conversation %d at %d: %w", r.Seq, r.Conv, c.last, ErrOutOfOrder)
	}
	buf := appendMsgKey(s.buf[:0], r.Conv, r.Seq)
	keyEnd := len(buf)
	buf = appendRecord(buf, r)
	valEnd := len(buf)
	if r.ClientID != 0 {
		buf = appendDedupeKey(buf, r.Conv, r.ClientID, r.Sender)
		buf = binary.BigEndian.AppendUint64(buf, r.Seq)
	}
	s.buf = buf
	big := p.write(func(b *pebble.Batch) {
		_ = b.Set(buf[:keyEnd], buf[keyEnd:valEnd], nil)
		if r.ClientID != 0 {
			_ = b.Set(buf[valEnd:len(buf)-8], buf[len(buf)-8:], nil)
		}
	})
	c.last = r.Seq
	if r.ClientID != 0 {
		c.seen.add(r.Sender, r.ClientID, r.Seq)
	}
	s.mu.Unlock()
	if big {
		if err := p.commit(false); err != nil {
			return fmt.Errorf("append seq %d to conversation %d: %w", r.Seq, r.Conv, err)
		}
	}
	return nil
}

// Lookup implements Store, from memory.
func (p *Pebble) Lookup(conv uint64, sender string, clientID uint64) (uint64, bool) {
	if !p.gate.enter() {
		return 0, false
	}
	defer p.gate.exit()
	s := p.shard(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conv]
	if c == nil {
		return 0, false
	}
	return c.seen.lookup(sender, clientID)
}

// Since implements Store. The record's Body aliases pebble's memory: it is
// valid only during the call, and fn must copy what it keeps. fn must not
// call Close.
func (p *Pebble) Since(conv, after uint64, fn func(*Record) bool) error {
	if !p.gate.enter() {
		return ErrClosed
	}
	defer p.gate.exit()
	s := p.shard(conv)
	s.mu.Lock()
	_, ok := s.convs[conv]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("read conversation %d: %w", conv, ErrUnknownConv)
	}
	if after == math.MaxUint64 {
		return nil
	}
	if err := p.flush(); err != nil {
		return fmt.Errorf("read conversation %d: %w", conv, err)
	}
	it, err := p.db.NewIter(&pebble.IterOptions{
		LowerBound: appendMsgKey(nil, conv, after+1),
		UpperBound: prefixEnd(appendConvPrefix(nil, prefixMsg, conv)),
	})
	if err != nil {
		return fmt.Errorf("read conversation %d: %w", conv, err)
	}
	var (
		r      Record
		sender string
	)
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = decodeRecord(it.Key(), v, &r, &sender)
		}
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("read conversation %d: %w", conv, err)
		}
		if !fn(&r) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("read conversation %d: %w", conv, err)
	}
	return nil
}

// Forget implements Store: it deletes the conversation's records, client
// ids and saved state (durable at the next Sync).
func (p *Pebble) Forget(conv uint64) error {
	if !p.gate.enter() {
		return ErrClosed
	}
	defer p.gate.exit()
	s := p.shard(conv)
	s.mu.Lock()
	if _, ok := s.convs[conv]; !ok {
		s.mu.Unlock()
		return nil
	}
	big := p.write(func(b *pebble.Batch) {
		for _, prefix := range []byte{prefixDedupe, prefixMsg} {
			start := appendConvPrefix(nil, prefix, conv)
			_ = b.DeleteRange(start, prefixEnd(start), nil)
		}
		_ = b.Delete(appendConvPrefix(nil, prefixConv, conv), nil)
	})
	delete(s.convs, conv)
	s.mu.Unlock()
	if big {
		if err := p.commit(false); err != nil {
			return fmt.Errorf("forget conversation %d: %w", conv, err)
		}
	}
	return nil
}

// SaveConv implements Store (durable at the next Sync).
func (p *Pebble) SaveConv(tenant string, conv uint64, meta []byte) error {
	if !p.gate.enter() {
		return ErrClosed
	}
	defer p.gate.exit()
	s := p.shard(conv)
	s.mu.Lock()
	if _, ok := s.convs[conv]; !ok {
		s.mu.Unlock()
		return fmt.Errorf("save conversation %d: %w", conv, ErrUnknownConv)
	}
	buf := appendConvPrefix(s.buf[:0], prefixConv, conv)
	buf = appendConvState(buf, tenant, meta)
	s.buf = buf
	big := p.write(func(b *pebble.Batch) { _ = b.Set(buf[:convKeyLen], buf[convKeyLen:], nil) })
	s.mu.Unlock()
	if big {
		if err := p.commit(false); err != nil {
			return fmt.Errorf("save conversation %d: %w", conv, err)
		}
	}
	return nil
}

// Convs implements Store. It reads every conversation's saved state, of
// all tenants.
func (p *Pebble) Convs(tenant string, fn func(conv, last uint64, meta []byte) error) error {
	if !p.gate.enter() {
		return ErrClosed
	}
	defer p.gate.exit()
	if err := p.flush(); err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixConv}, UpperBound: []byte{prefixConv + 1}})
	if err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != convKeyLen {
			return fmt.Errorf("read conversations: %w", corrupt(k, fmt.Sprintf("conversation key of %d bytes, want %d", len(k), convKeyLen)))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("read conversations: %w", err)
		}
		t, meta, err := decodeConvState(k, v)
		if err != nil {
			return fmt.Errorf("read conversations: %w", err)
		}
		if string(t) != tenant {
			continue
		}
		conv := binary.BigEndian.Uint64(k[1:])
		s := p.shard(conv)
		s.mu.Lock()
		c, ok := s.convs[conv]
		var last uint64
		if ok {
			last = c.last
		}
		s.mu.Unlock()
		if !ok {
			continue // forgotten since the iterator opened
		}
		if err := fn(conv, last, meta); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	return nil
}

// Sync implements Store: it syncs pebble's write-ahead log, which holds
// every write made before the call. Concurrent calls share one fsync, and
// a call finds nothing to do when a sync that started after the last write
// has completed.
func (p *Pebble) Sync() error {
	if !p.gate.enter() {
		return ErrClosed
	}
	defer p.gate.exit()
	return p.sync()
}

func (p *Pebble) sync() error {
	w := p.writes.Load()
	if p.synced.Load() >= w {
		return nil
	}
	if err := p.commit(true); err != nil {
		return err
	}
	for {
		s := p.synced.Load()
		if s >= w || p.synced.CompareAndSwap(s, w) {
			return nil
		}
	}
}

// syncLoop syncs every interval until Close (DurabilityBatch).
func (p *Pebble) syncLoop(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		err := p.Sync()
		if err != nil && !failing {
			p.log.Error("store: background sync", "err", err)
		} else if err == nil && failing {
			p.log.Info("store: background sync works again")
		}
		failing = err != nil
	}
}

// Close implements Store: it stops the background sync, waits for the
// calls in progress, syncs and closes the database. Later calls return
// ErrClosed; a second Close returns nil.
func (p *Pebble) Close() error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.stop != nil {
		close(p.stop)
		<-p.done
	}
	p.gate.close()
	err := p.sync()
	_ = p.pend.Close()
	if cerr := p.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store %s: %w", p.dir, cerr))
	}
	return err
}

// gate counts the calls in progress so that Close waits for them, and
// turns later calls away. Unlike an RWMutex, a call made from inside
// another (a callback) never waits for a pending Close.
type gate struct {
	n       atomic.Int64 // calls in progress, plus gateClosed once closed
	drained chan struct{}
}

const gateClosed = 1 << 62

func (g *gate) enter() bool {
	if g.n.Add(1)&gateClosed != 0 {
		g.exit()
		return false
	}
	return true
}

func (g *gate) exit() {
	if g.n.Add(-1) == gateClosed {
		select {
		case g.drained <- struct{}{}:
		default:
		}
	}
}

// close turns later calls away and waits for those in progress.
func (g *gate) close() {
	g.n.Or(gateClosed)
	for g.n.Load() != gateClosed {
		<-g.drained
	}
}

// eventListener reports what an operator should see; pebble's routine
// events stay quiet, and write stalls are reported at most every 10 s.
func (p *Pebble) eventListener() *pebble.EventListener {
	var lastStall atomic.Int64
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			p.log.Error("store: pebble background error", "err", err)
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			now, last := time.Now().UnixNano(), lastStall.Load()
			if now-last >= int64(10*time.Second) && lastStall.CompareAndSwap(last, now) {
				p.log.Warn("store: pebble write stall (writes wait for compactions)", "reason", info.Reason)
			}
		},
		DiskSlow: func(info pebble.DiskSlowInfo) {
			p.log.Warn("store: slow disk", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration)
		},
	}
}

// pebbleLogger routes pebble's log to slog: its info messages at debug
// level; a fatal error is logged and panics (pebble expects Fatalf not to
// return).
type pebbleLogger struct{ l *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	if l.l.Enabled(context.Background(), slog.LevelDebug) {
		l.l.Debug("pebble: " + fmt.Sprintf(format, args...))
	}
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	l.l.Error(msg)
	panic(msg)
}
