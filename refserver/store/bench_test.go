package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// BenchmarkAppend: goroutines (b.RunParallel, 16 per core: desks and
// connections waiting on the disk) append to their own conversations. With
// sync, each calls Sync after each append, as the server does before an
// ack, so concurrent syncs share an fsync (group commit);
// pebble-sync-unshared runs one goroutine per core for comparison.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name string
		open func(b *testing.B) Store
		sync bool
		par  int // goroutines per core
	}{
		{"mem", func(*testing.B) Store { return NewMem(0) }, false, 16},
		{"pebble-batch", func(b *testing.B) Store {
			return openPebbleT(b, b.TempDir(), PebbleOptions{Durability: DurabilityBatch})
		}, false, 16},
		{"pebble-sync", func(b *testing.B) Store {
			return openPebbleT(b, b.TempDir(), PebbleOptions{Durability: DurabilitySync})
		}, true, 16},
		// One appender per core: nearly every append waits for its own
		// fsync, the baseline that group commit improves on.
		{"pebble-sync-unshared", func(b *testing.B) Store {
			return openPebbleT(b, b.TempDir(), PebbleOptions{Durability: DurabilitySync})
		}, true, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := bc.open(b)
			body := bytes.Repeat([]byte("a customer message "), 6) // about 100 bytes
			b.SetParallelism(bc.par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				conv, err := st.NewConv()
				if err != nil {
					b.Error(err)
					return
				}
				r := Record{Conv: conv, Sender: "customer-42", SenderRole: wire.RoleCustomer, Kind: wire.Kind(1), Body: body}
				for pb.Next() {
					r.Seq++
					r.ClientID = r.Seq
					r.Time = time.Now().UnixNano()
					if err := st.Append(&r); err != nil {
						b.Error(err)
						return
					}
					if bc.sync {
						if err := st.Sync(); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
