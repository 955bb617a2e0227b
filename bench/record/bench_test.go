package record

import (
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecord is one latency recorded on the hot path: a corrected and
// a raw value of one metric.
func BenchmarkRecord(b *testing.B) {
	r, err := New(DefaultConfig(), t0)
	if err != nil {
		b.Fatal(err)
	}
	s := r.NewShard()
	intended := t0
	sent := t0.Add(50 * time.Microsecond)
	s.Record(Delivery, intended, sent, sent) // allocate the histograms
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Record(Delivery, intended, sent, sent.Add(time.Duration(i&0xfffff)*time.Nanosecond+200*time.Microsecond))
	}
}

// BenchmarkRecordParallel is every goroutine recording into its own shard,
// as event loops do: no shared lock, so it scales with cores.
func BenchmarkRecordParallel(b *testing.B) {
	r, err := New(DefaultConfig(), t0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := r.NewShard()
		i := 0
		for pb.Next() {
			s.RecordDurations(Delivery, time.Duration(i&0xfffff)*time.Nanosecond+300*time.Microsecond, 200*time.Microsecond)
			i++
		}
	})
}

// BenchmarkTick is the interval cut with two shards that recorded into
// every metric: what the recorder's ticker pays once a second.
func BenchmarkTick(b *testing.B) {
	r, err := New(DefaultConfig(), t0)
	if err != nil {
		b.Fatal(err)
	}
	shards := []*Shard{r.NewShard(), r.NewShard()}
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, s := range shards {
			for _, m := range Metrics() {
				for j := range 1000 {
					s.RecordDurations(m, time.Duration(j)*time.Microsecond, time.Duration(j)*time.Microsecond)
				}
			}
		}
		now = now.Add(time.Second)
		b.StartTimer()
		if _, err := r.Tick(now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedger is one message through the ledger: sent by the
// customer's phone, acked, received by the agent's console and the
// customer's web session, in one of many conversations.
func BenchmarkLedger(b *testing.B) {
	l := NewLedger()
	const convs = 1024
	for c := range uint64(convs) {
		_ = l.Join(c, phone)
		_ = l.Join(c, web)
		_ = l.Join(c, console)
	}
	seqs := make([]uint64, convs)
	b.ReportAllocs()
	for i := uint64(0); b.Loop(); i++ {
		c := i % convs
		seqs[c]++
		seq := seqs[c]
		l.Sent(c, phone, i+1, t0, t0)
		l.Acked(c, i+1, seq)
		l.Received(console, c, seq, i+1)
		l.Received(web, c, seq, i+1)
	}
}

// BenchmarkLedgerParallel is the ledger fed by several loops at once, each
// with its own conversations, as the stripes intend.
func BenchmarkLedgerParallel(b *testing.B) {
	l := NewLedger()
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		base := next.Add(1) << 32
		const convs = 256
		seqs := make([]uint64, convs)
		for c := range uint64(convs) {
			_ = l.Join(base+c, phone)
			_ = l.Join(base+c, console)
		}
		for i := uint64(0); pb.Next(); i++ {
			c := i % convs
			seqs[c]++
			l.Sent(base+c, phone, i+1, t0, t0)
			l.Acked(base+c, i+1, seqs[c])
			l.Received(console, base+c, seqs[c], i+1)
		}
	})
}
