package reports

import (
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// nsPerMs converts the histograms' nanoseconds to the summaries'
// milliseconds.
const nsPerMs = 1e6

// Distribution is what a Summary is computed from. Both of
// hdrhistogram-go's histograms, Histogram and PackedHistogram, satisfy it.
type Distribution interface {
	TotalCount() int64
	Min() int64
	Max() int64
	Mean() float64
	StdDev() float64
	ValueAtPercentile(percentile float64) int64
	EncodeV2() ([]byte, error)
}

var (
	_ Distribution = (*hdrhistogram.Histogram)(nil)
	_ Distribution = (*hdrhistogram.PackedHistogram)(nil)
)

// NewSummary summarises a histogram of nanoseconds: its count, extremes,
// mean, spread and percentiles in milliseconds, and the histogram itself in
// the compressed V2 encoding.
func NewSummary(d Distribution) (Summary, error) {
	enc, err := d.EncodeV2()
	if err != nil {
		return Summary{}, fmt.Errorf("encode histogram: %w", err)
	}
	return NewSummaryEncoded(d, enc), nil
}

// NewSummaryEncoded is NewSummary for a histogram whose compressed V2
// encoding the caller holds already (it decoded d from enc, say): each
// encoding allocates a compressor of about a megabyte.
func NewSummaryEncoded(d Distribution, enc []byte) Summary {
	s := Summary{Count: d.TotalCount(), Histogram: string(enc)}
	if s.Count == 0 {
		return s
	}
	ms := func(ns int64) float64 { return float64(ns) / nsPerMs }
	s.MinMs = ms(d.Min())
	s.MeanMs = d.Mean() / nsPerMs
	s.StddevMs = d.StdDev() / nsPerMs
	s.P50Ms = ms(d.ValueAtPercentile(50))
	s.P90Ms = ms(d.ValueAtPercentile(90))
	s.P99Ms = ms(d.ValueAtPercentile(99))
	s.P999Ms = ms(d.ValueAtPercentile(99.9))
	s.P9999Ms = ms(d.ValueAtPercentile(99.99))
	s.MaxMs = ms(d.Max())
	return s
}

// NewIntervalLatency summarises one interval's histogram of nanoseconds.
func NewIntervalLatency(d Distribution) (IntervalLatency, error) {
	s, err := NewSummary(d)
	if err != nil {
		return IntervalLatency{}, err
	}
	return s.interval(), nil
}

// NewIntervalLatencyEncoded is NewIntervalLatency for a histogram whose
// compressed V2 encoding the caller holds already (from an Encoder).
func NewIntervalLatencyEncoded(d Distribution, enc []byte) IntervalLatency {
	return NewSummaryEncoded(d, enc).interval()
}

// interval is the part of a summary an interval keeps.
func (s Summary) interval() IntervalLatency {
	return IntervalLatency{Count: s.Count, P50Ms: s.P50Ms, P90Ms: s.P90Ms, P99Ms: s.P99Ms, MaxMs: s.MaxMs, Histogram: s.Histogram}
}

// DecodeHistogram decodes a histogram in the compressed V2 encoding, as a
// Summary's Histogram holds it.
func DecodeHistogram(encoded string) (*hdrhistogram.Histogram, error) {
	if encoded == "" {
		return nil, fmt.Errorf("decode histogram: empty encoding")
	}
	h, err := hdrhistogram.Decode([]byte(encoded))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// Histogram returns a new histogram of the named latency metric, in
// nanoseconds: the corrected one, or with raw the uncorrected one. The
// result does not share storage with r.
func (r *Result) Histogram(name string, raw bool) (*hdrhistogram.Histogram, error) {
	l, ok := r.Latency[name]
	if !ok {
		return nil, fmt.Errorf("histogram %q: %w", name, ErrNoMetric)
	}
	s, kind := l.Summary, "corrected"
	if raw {
		s, kind = l.Raw, "raw"
	}
	h, err := DecodeHistogram(s.Histogram)
	if err != nil {
		return nil, fmt.Errorf("%s histogram %q: %w", kind, name, err)
	}
	return h, nil
}

// histogramOf decodes a summary's histogram for Merge, with an empty
// encoding standing for an empty histogram (nil).
func histogramOf(s Summary) (*hdrhistogram.Histogram, error) {
	if s.Histogram == "" {
		return nil, nil
	}
	return DecodeHistogram(s.Histogram)
}

// checkSummary checks that a summary's histogram decodes and holds Count
// values. An empty encoding is accepted for an empty summary.
func checkSummary(s Summary) error {
	if s.Histogram == "" {
		if s.Count != 0 {
			return fmt.Errorf("count %d without a histogram", s.Count)
		}
		return nil
	}
	// Sparse: a dense histogram of the default range is 190KB to clear
	// and count, for each summary and interval of a result.
	h, err := hdrhistogram.DecodePacked([]byte(s.Histogram))
	if err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	if h.TotalCount() != s.Count {
		return fmt.Errorf("count %d, but the histogram holds %d", s.Count, h.TotalCount())
	}
	return nil
}
