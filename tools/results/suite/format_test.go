package suite

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"sig3 small", sig3(0.000940), "0.000940"},
		{"sig3 carry", sig3(9.996), "10.0"},
		{"sig3 carry 2", sig3(99.96), "100"},
		{"sig3 carry tiny", sig3(0.0009996), "0.00100"},
		{"sig3 int", sig3(350), "350"},
		{"sig3 thousands", sig3(1302.4), "1,302"},
		{"sig3 negative", sig3(-2.5), "-2.50"},
		{"sig3 zero", sig3(0), "0"},
		{"sig3 nan", sig3(math.NaN()), "—"},
		{"count", count(11257778), "11,257,778"},
		{"count negative", count(-1234), "-1,234"},
		{"count small", count(999), "999"},
		{"ns", durS(14.1e-9), "14.1 ns"},
		{"µs", durS(1.06e-6), "1.06 µs"},
		{"ms", durS(0.0145), "14.5 ms"},
		{"ms edge", durS(0.00099996), "1.00 ms"},
		{"s", durS(2.9), "2.90 s"},
		{"s large", durS(1302), "1,302 s"},
		{"ms from ms", durMs(0.85), "850 µs"},
		{"si k", si(379_000), "379k"},
		{"si M", si(2_860_000), "2.86M"},
		{"si edge", si(999_999), "1.00M"},
		{"si G", si(12.6e9), "12.6G"},
		{"si plain", si(950), "950"},
		{"pct", pct(0.895), "89.5%"},
		{"bytes", bytesB(3188.4), "3,188 B"},
		{"mib", mib(57.8 * (1 << 20)), "57.8 MiB"},
		{"cpu", cpuS(0.47), "0.470 CPU-s"},
		{"times", timesOver(3.14), "3.1×"},
		{"times large", timesOver(22.4), "22×"},
		{"load", load(0.12), "0.12"},
		{"load rounding", load(0.24000000000000002), "0.24"},
		{"load int", load(37), "37"},
		{"load big", load(100000), "100,000"},
		{"sigMax", sigMax(0.0026, 4), "0.0026"},
		{"sigMax keeps", sigMax(0.131, 4), "0.131"},
		{"metric sec/op", metricValue(350e-9, "sec/op"), "350 ns"},
		{"metric B/s", metricValue(12.6e9, "B/s"), "12.6 GB/s"},
		{"metric B/op", metricValue(1313643, "B/op"), "1,313,643 B"},
		{"metric allocs", metricValue(11750, "allocs/op"), "11,750"},
		{"metric allocs fraction", metricValue(0.5, "allocs/op"), "0.500"},
		{"metric rss", metricValue(812.6, "rss-B/idle-conn"), "813 B/idle-conn"},
		{"metric custom", metricValue(3_462_126, "decisions/s"), "3.46M decisions/s"},
		{"span one run", span(Metric{Unit: "sec/op", Median: 1e-6, Min: 1e-6, Max: 1e-6, Runs: 1}), "1.00 µs"},
		{"span runs", span(Metric{Unit: "sec/op", Median: 350e-9, Min: 340e-9, Max: 362e-9, Runs: 3}), "350 ns [340 ns–362 ns]"},
		{"span absent", span(Metric{}), "—"},
		{"spanAs", spanAs("cpu", Metric{Median: 2.5, Min: 2.4, Max: 4.3, Runs: 2}), "2.50 CPU-s [2.40 CPU-s–4.30 CPU-s]"},
		{"cell", cell("a | b\nc"), `a \| b c`},
		{"quote plain", shellQuote([]string{"go", "test", "./refserver/wire", "-count=1"}), "go test ./refserver/wire -count=1"},
		{"quote special", shellQuote([]string{"go", "test", "-run", "^$", "-bench", "a|b", "it's"}), `go test -run '^$' -bench 'a|b' 'it'\''s'`},
		{"verdict", verdictWord("FAIL"), "**FAIL**"},
		{"at most met", atMost(1024, 1024, false), "met"},
		{"at most strict", atMost(1e-3, 1e-3, true), "**not met: 1.0× over**"},
		{"at most over", atMost(15.5e-3, 1e-3, true), "**not met: 16× over**"},
		{"at least met", atLeast(1.1e6, 1e6), "met"},
		{"at least under", atLeast(0.95e6, 1e6), "**not met: 1.1× under**"},
		{"at least zero", atLeast(0, 1e6), "**not met**"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
