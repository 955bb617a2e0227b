package compare

import (
	"errors"
	"maps"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in   string
		key  string
		v    float64
		fail bool
	}{
		{in: "delivery.p99=10%", key: "delivery.p99", v: 0.1},
		{in: "delivery.p99=0.1", key: "delivery.p99", v: 0.1},
		{in: " server.peak_rss_bytes = 2.5 % ", key: "server.peak_rss_bytes", v: 0.025},
		{in: "delivery=0", key: "delivery", v: 0},
		{in: "delivery=150%", key: "delivery", v: 1.5},
		{in: "delivery.p99", fail: true},
		{in: "=10%", fail: true},
		{in: "delivery.p99=", fail: true},
		{in: "delivery.p99=%", fail: true},
		{in: "delivery.p99=-5%", fail: true},
		{in: "delivery.p99=ten", fail: true},
		{in: "delivery.p99=NaN", fail: true},
		{in: "delivery.p99=Inf", fail: true},
		{in: "delivery p99=10%", fail: true},
		{in: "delivery.p99=10%=2", fail: true},
	}
	for _, tt := range tests {
		key, v, err := ParseThreshold(tt.in)
		switch {
		case tt.fail:
			if !errors.Is(err, ErrThreshold) {
				t.Errorf("ParseThreshold(%q) = %q, %v, %v; want ErrThreshold", tt.in, key, v, err)
			}
		case err != nil:
			t.Errorf("ParseThreshold(%q): %v", tt.in, err)
		case key != tt.key || math.Abs(v-tt.v) > 1e-12:
			t.Errorf("ParseThreshold(%q) = %q, %v; want %q, %v", tt.in, key, v, tt.key, tt.v)
		}
	}
}

func TestLoadThresholds(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "thresholds")
	writeText(t, good, `# delivery tails are noisy on shared runners
delivery.p99 = 10%

server.peak_rss_bytes=0.02   # memory is steady
  delivery = 3%
`)
	got, err := LoadThresholds(good)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"delivery.p99": 0.1, "server.peak_rss_bytes": 0.02, "delivery": 0.03}
	if !maps.EqualFunc(got, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }) {
		t.Errorf("got %v, want %v", got, want)
	}

	tests := []struct {
		name, text, want string
	}{
		{"bad value", "delivery.p99=10%\n# fine\n\ndelivery.p90=lots\n", ":4: compare: bad threshold"},
		{"no value", "delivery.p99\n", ":1: compare: bad threshold"},
		{"duplicate", "delivery.p99=10%\ndelivery.p99=20%\n", ":2: compare: bad threshold: delivery.p99 given again (first on line 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			writeText(t, path, tt.text)
			_, err := LoadThresholds(path)
			if !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), path+tt.want) {
				t.Errorf("error %v, want %s%s", err, path, tt.want)
			}
		})
	}
	if _, err := LoadThresholds(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: error %v", err)
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"delivery.p99=10%", "x=0.1", "=", "a=1e309", "a= 5 %", "a=-0", "a=0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, v, err := ParseThreshold(s)
		if err != nil {
			return
		}
		if key == "" || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("ParseThreshold(%q) = %q, %v", s, key, v)
		}
		// What parsed parses again to the same.
		key2, v2, err := ParseThreshold(key + "=" + strconv.FormatFloat(v, 'g', -1, 64))
		if err != nil || key2 != key || v2 != v {
			t.Fatalf("ParseThreshold(%q) = %q, %v; again: %q, %v, %v", s, key, v, key2, v2, err)
		}
	})
}
