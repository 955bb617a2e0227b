package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/reports"
)

// checkLogs reads every metric's .hlog of a run in dir with
// hdrhistogram-go's own log reader, adds up the intervals of each tag, and
// checks that they give the percentiles result.json gives, corrected and
// raw. It returns how many metrics it checked.
func checkLogs(t *testing.T, dir string, res *reports.Result) int {
	t.Helper()
	checked := 0
	for _, m := range record.Metrics() {
		want, ok := res.Latency[m.String()]
		if !ok || want.Count == 0 {
			continue
		}
		sums := readLog(t, filepath.Join(dir, record.LogFile(m)))
		for _, c := range []struct {
			tag  string
			want reports.Summary
		}{
			{record.Tag(m, false), want.Summary},
			{record.Tag(m, true), want.Raw},
		} {
			h := sums[c.tag]
			if h == nil {
				t.Errorf("%s: no intervals tagged %s", record.LogFile(m), c.tag)
				continue
			}
			got, err := reports.NewSummary(h)
			if err != nil {
				t.Fatal(err)
			}
			if got.Count != c.want.Count || got.P50Ms != c.want.P50Ms || got.P90Ms != c.want.P90Ms ||
				got.P99Ms != c.want.P99Ms || got.P999Ms != c.want.P999Ms || got.MaxMs != c.want.MaxMs {
				t.Errorf("%s read back from %s: count %d p50 %g p90 %g p99 %g p99.9 %g max %g; result.json: count %d p50 %g p90 %g p99 %g p99.9 %g max %g",
					c.tag, record.LogFile(m), got.Count, got.P50Ms, got.P90Ms, got.P99Ms, got.P999Ms, got.MaxMs,
					c.want.Count, c.want.P50Ms, c.want.P90Ms, c.want.P99Ms, c.want.P999Ms, c.want.MaxMs)
			}
		}
		checked++
	}
	return checked
}

// readLog adds up the intervals of an interval log by tag.
func readLog(t *testing.T, path string) map[string]*hdrhistogram.Histogram {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := hdrhistogram.NewHistogramLogReader(f)
	sums := map[string]*hdrhistogram.Histogram{}
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h == nil {
			return sums
		}
		if sums[h.Tag()] == nil {
			sums[h.Tag()] = h
			continue
		}
		if dropped := sums[h.Tag()].Merge(h); dropped != 0 {
			t.Fatalf("%s: %d values dropped merging intervals", path, dropped)
		}
	}
}
