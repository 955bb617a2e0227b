package reports

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestEncoderMatchesLibrary encodes histograms of several shapes and
// geometries with one reused Encoder and checks each encoding is byte for
// byte the library's own.
func TestEncoderMatchesLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var e Encoder
	geoms := []struct {
		low, high int64
		digits    int
	}{{1000, 3_600_000_000_000, 3}, {1, 1_000_000, 2}, {1, 1 << 40, 5}, {1000, 3_600_000_000_000, 1}}
	for gi, g := range geoms {
		for shape := range 6 {
			p := hdrhistogram.NewPacked(g.low, g.high, g.digits)
			switch shape {
			case 0: // empty
			case 1: // one value at the lowest
				_ = p.RecordValue(0)
			case 2: // one large value
				_ = p.RecordValue(g.high)
			case 3: // spread, with large counts (multi-byte LEB128)
				for range 5000 {
					_ = p.RecordValues(r.Int64N(g.high/1000+1), r.Int64N(1<<40)+1)
				}
			case 4: // dense low values: single empty buckets between
				for v := int64(0); v < 3000; v += 2 {
					_ = p.RecordValue(v)
				}
			case 5: // log-spread latencies
				for range 2000 {
					_ = p.RecordValue(int64(r.ExpFloat64() * float64(g.high) / 1e4))
				}
			}
			want, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Encode(p); !bytes.Equal(got, want) {
				t.Errorf("geometry %d shape %d: encodings differ:\n got %s\nwant %s", gi, shape, got, want)
			}
		}
	}
}

// BenchmarkEncoder is one interval histogram's encoding with a reused
// Encoder, against PackedHistogram.Encode.
func BenchmarkEncoder(b *testing.B) {
	p := hdrhistogram.NewPacked(1000, 3_600_000_000_000, 3)
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		_ = p.RecordValue(int64(r.ExpFloat64() * 1e6))
	}
	b.Run("reused", func(b *testing.B) {
		var e Encoder
		b.ReportAllocs()
		for b.Loop() {
			e.Encode(p)
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = p.Encode()
		}
	})
}
