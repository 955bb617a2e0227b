package reports

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// V2 encoding constants, as HdrHistogram defines them.
const (
	v2Cookie           = 0x1c849303 | 0x10
	v2CompressedCookie = 0x1c849304 | 0x10
	v2HeaderSize       = 40
)

// Encoder writes packed histograms in HdrHistogram's compressed V2
// encoding (base64), byte for byte as PackedHistogram.Encode does, but
// keeps its compressor and buffers from one call to the next: Encode
// allocates a new zlib compressor of about a megabyte for every histogram,
// which is most of what a recorder's once-a-second interval costs. An
// Encoder is not safe for concurrent use.
type Encoder struct {
	zw   *zlib.Writer
	raw  []byte
	z    bytes.Buffer
	bin  []byte
	out  []byte
	geom struct {
		low          int64
		sig          int64
		unit, halfMg int32
	}
}

// Encode returns p's encoding. The result is valid until the next call.
func (e *Encoder) Encode(p *hdrhistogram.PackedHistogram) []byte {
	low, sig := p.LowestTrackableValue(), p.SignificantFigures()
	if e.geom.low != low || e.geom.sig != sig {
		e.geom.low, e.geom.sig = low, sig
		e.geom.unit, e.geom.halfMg = magnitudes(low, int(sig))
	}
	raw := e.raw[:0]
	raw = binary.BigEndian.AppendUint32(raw, uint32(v2Cookie))
	raw = binary.BigEndian.AppendUint32(raw, 0) // payload length, set below
	raw = binary.BigEndian.AppendUint32(raw, 0) // normalizing index offset
	raw = binary.BigEndian.AppendUint32(raw, uint32(int32(sig)))
	raw = binary.BigEndian.AppendUint64(raw, uint64(low))
	raw = binary.BigEndian.AppendUint64(raw, uint64(p.HighestTrackableValue()))
	raw = binary.BigEndian.AppendUint64(raw, math.Float64bits(1)) // integer to double conversion ratio
	// The counts from index 0 to the last populated one: a count as a
	// ZigZag LEB128, a run of more than one empty bucket as its negated
	// length.
	next := int32(0)
	p.ForEachBucket(func(value, count int64) bool {
		idx := e.index(value)
		if gap := int64(idx - next); gap > 1 {
			raw = appendZigZag(raw, -gap)
		} else if gap == 1 {
			raw = appendZigZag(raw, 0)
		}
		raw = appendZigZag(raw, count)
		next = idx + 1
		return true
	})
	if next == 0 {
		raw = appendZigZag(raw, 0) // an empty histogram: one empty bucket
	}
	binary.BigEndian.PutUint32(raw[4:], uint32(len(raw)-v2HeaderSize))
	e.raw = raw

	e.z.Reset()
	if e.zw == nil {
		e.zw, _ = zlib.NewWriterLevel(&e.z, zlib.BestCompression) // the level is valid
	} else {
		e.zw.Reset(&e.z)
	}
	_, _ = e.zw.Write(raw) // to a bytes.Buffer: cannot fail
	_ = e.zw.Close()
	bin := binary.BigEndian.AppendUint32(e.bin[:0], uint32(v2CompressedCookie))
	bin = binary.BigEndian.AppendUint32(bin, uint32(e.z.Len()))
	bin = append(bin, e.z.Bytes()...)
	e.bin = bin
	n := base64.StdEncoding.EncodedLen(len(bin))
	if cap(e.out) < n {
		e.out = make([]byte, n)
	}
	e.out = e.out[:n]
	base64.StdEncoding.Encode(e.out, bin)
	return e.out
}

// index is the flat counts index of the bucket whose lowest value is v.
func (e *Encoder) index(v int64) int32 {
	unit, halfMg := e.geom.unit, e.geom.halfMg
	mask := int64(2<<halfMg-1) << unit // sub-bucket count - 1, in units
	bucket := int32(64-bits.LeadingZeros64(uint64(v|mask))) - unit - (halfMg + 1)
	sub := int32(v >> (int64(bucket) + int64(unit)))
	return (bucket+1)<<halfMg + sub - 1<<halfMg
}

// magnitudes are HdrHistogram's unit and half-sub-bucket-count
// magnitudes for a lowest discernible value and significant digits.
func magnitudes(low int64, digits int) (unit, halfMg int32) {
	single := 2 * math.Pow10(digits)
	halfMg = max(int32(math.Ceil(math.Log2(single))), 1) - 1
	unit = max(int32(math.Floor(math.Log2(float64(max(low, 1))))), 0)
	return unit, halfMg
}

// appendZigZag appends v as HdrHistogram's ZigZag LEB128: 7 bits a byte,
// and the ninth byte, if any, whole.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}
