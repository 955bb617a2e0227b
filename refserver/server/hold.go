package server

import (
	"fmt"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/swarmdesk/swarmdesk/refserver/fanout"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// holder implements durability sync with group commit: the effects of desk
// calls (acks, deliveries, notices) are encoded at once, with the
// connections of their audience, and held in one batch; a committer
// goroutine syncs the store once for the whole batch and then sends it, in
// the order the desks produced it. While one sync runs the next batch
// fills, so the number of syncs per second stays bounded by the disk while
// the messages per sync grow with the load.
type holder struct {
	srv  *Server
	fail func(error)

	mu    sync.Mutex
	cur   *heldBatch
	spare *heldBatch
	busy  bool // a batch is syncing or being sent

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	syncs   *metrics.Counter
	syncDur *metrics.Histogram
	batch   *metrics.Histogram
}

type heldBatch struct {
	frames []byte
	items  []heldItem
	conns  []fanout.Conn
}

type heldItem struct {
	start, end int // the frame, in frames
	from, to   int // its audience, in conns
	delivery   bool
}

func newHolder(srv *Server, set *metrics.Set, fail func(error)) *holder {
	h := &holder{
		srv: srv, fail: fail,
		cur:  &heldBatch{},
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	h.syncs = set.NewCounter(`swarmdesk_store_syncs_total`)
	h.syncDur = set.NewHistogram(`swarmdesk_store_sync_seconds`)
	h.batch = set.NewHistogram(`swarmdesk_store_sync_batch_frames`)
	go h.run()
	return h
}

// add holds t's pending effects. It runs under t.mu, so one tenant's
// effects enter the batch in the order its desk produced them.
func (h *holder) add(t *Tenant, origin fanout.Conn) {
	h.mu.Lock()
	b := h.cur
	for i := range t.fx.Out {
		o := &t.fx.Out[i]
		it := heldItem{start: len(b.frames), from: len(b.conns), delivery: o.Type == wire.TDelivery}
		b.frames = o.AppendFrame(b.frames)
		b.conns = h.srv.hub.Resolve(t.id, o, origin, b.conns)
		it.end, it.to = len(b.frames), len(b.conns)
		b.items = append(b.items, it)
	}
	h.mu.Unlock()
	h.wake()
}

// reply sends frame, an answer to c that stores nothing (a pong), after
// every effect held before it, so a connection's answers keep the order of
// its requests: at once when nothing is held, else at the end of the
// batch filling now.
func (h *holder) reply(c fanout.Conn, frame []byte) {
	h.mu.Lock()
	if !h.busy && len(h.cur.items) == 0 {
		ok := c.Send(frame)
		h.mu.Unlock()
		if ok {
			h.srv.metrics.framesOut.Inc()
		}
		return
	}
	b := h.cur
	it := heldItem{start: len(b.frames), from: len(b.conns)}
	b.frames = append(b.frames, frame...)
	b.conns = append(b.conns, c)
	it.end, it.to = len(b.frames), len(b.conns)
	b.items = append(b.items, it)
	h.mu.Unlock()
	h.wake()
}

// wake tells the committer there is a batch to sync.
func (h *holder) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *holder) run() {
	defer close(h.done)
	for {
		select {
		case <-h.kick:
		case <-h.stop:
			return
		}
		h.mu.Lock()
		b := h.cur
		if len(b.items) == 0 {
			h.mu.Unlock()
			continue
		}
		next := h.spare
		if next == nil {
			next = &heldBatch{}
		}
		h.cur, h.spare = next, nil
		h.busy = true
		h.mu.Unlock()

		start := time.Now()
		err := h.srv.store.Sync()
		h.syncs.Inc()
		h.syncDur.UpdateDuration(start)
		h.batch.Update(float64(len(b.items)))
		if err != nil {
			// Nothing of the batch may be acknowledged: it may not be on
			// disk. The clients will retry what they did not hear about.
			h.fail(fmt.Errorf("store sync: %w", err))
		} else {
			h.send(b)
		}
		b.reset()
		h.mu.Lock()
		h.spare = b
		h.busy = false
		h.mu.Unlock()
	}
}

// reset empties b for reuse; buffers a burst grew past spareMax are let go,
// so one burst does not pin its memory for ever.
func (b *heldBatch) reset() {
	const spareMax = 4 << 20
	if cap(b.frames) > spareMax {
		*b = heldBatch{}
		return
	}
	b.frames = b.frames[:0]
	b.items = b.items[:0]
	clear(b.conns)
	b.conns = b.conns[:0]
}

// send hands the batch's frames to their connections, in order.
func (h *holder) send(b *heldBatch) {
	m := h.srv.metrics
	for _, it := range b.items {
		frame := b.frames[it.start:it.end]
		sent, dropped := 0, 0
		for _, c := range b.conns[it.from:it.to] {
			if c.Send(frame) {
				sent++
			} else {
				dropped++
			}
		}
		m.framesOut.Add(sent)
		m.dropped.Add(dropped)
		if it.delivery {
			m.deliveries.Add(sent)
		}
	}
}

// close stops the committer; effects still held are not sent (the
// connections are closing).
func (h *holder) close() {
	close(h.stop)
	<-h.done
}
