package scenario

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDist(t *testing.T) {
	tests := []struct {
		in     string
		want   string // canonical form
		mean   time.Duration
		max    time.Duration // 0: unbounded
		errMsg string        // substring of the error; "" for none
	}{
		{in: "2s", want: "const(2s)", mean: 2 * time.Second, max: 2 * time.Second},
		{in: "0", want: "const(0s)", mean: 0},
		{in: "const(250ms)", want: "const(250ms)", mean: 250 * time.Millisecond, max: 250 * time.Millisecond},
		{in: " const( 1m30s ) ", want: "const(1m30s)", mean: 90 * time.Second, max: 90 * time.Second},
		{in: "const(value=3s)", want: "const(3s)", mean: 3 * time.Second, max: 3 * time.Second},
		{in: "uniform(1s, 5s)", want: "uniform(1s, 5s)", mean: 3 * time.Second, max: 5 * time.Second},
		{in: "uniform(max=5s, min=1s)", want: "uniform(1s, 5s)", mean: 3 * time.Second, max: 5 * time.Second},
		{in: "uniform(2s, 2s)", want: "uniform(2s, 2s)", mean: 2 * time.Second, max: 2 * time.Second},
		{in: "exp(30s)", want: "exp(30s)", mean: 30 * time.Second},
		{in: "exp(mean=1m)", want: "exp(1m0s)", mean: time.Minute},
		{in: "lognormal(median=8s, p90=30s)", want: "lognormal(median=8s, p90=30s)", mean: 13616 * time.Millisecond},
		{in: "lognormal(8s, 30s)", want: "lognormal(median=8s, p90=30s)", mean: 13616 * time.Millisecond},
		{in: "lognormal(p90=30s, median=8s)", want: "lognormal(median=8s, p90=30s)", mean: 13616 * time.Millisecond},

		{in: "5", errMsg: `"5" is not a duration: want a number with a unit`},
		{in: "", errMsg: `"" is not a duration`},
		{in: "soon", errMsg: `"soon" is not a duration`},
		{in: "-1s", errMsg: "value -1s is negative"},
		{in: "const(-1s)", errMsg: "value -1s is negative"},
		{in: "uniform(5s, 1s)", errMsg: "min 5s exceeds max 1s"},
		{in: "uniform(-1s, 1s)", errMsg: "min -1s is negative"},
		{in: "uniform(1s)", errMsg: "uniform takes 2 arguments (min, max), not 1"},
		{in: "uniform()", errMsg: "uniform takes 2 arguments (min, max), not 0"},
		{in: "uniform(1s, 2s", errMsg: "missing closing parenthesis"},
		{in: "exp(0s)", errMsg: "mean 0s must be above 0"},
		{in: "exp(30)", errMsg: `mean: "30" is not a duration`},
		{in: "expo(30s)", errMsg: `unknown distribution "expo" (want const, uniform, exp or lognormal; did you mean exp?)`},
		{in: "normal(1s, 2s)", errMsg: "did you mean lognormal?"},
		{in: "gamma(1s)", errMsg: `unknown distribution "gamma" (want const, uniform, exp or lognormal)`},
		{in: "lognormal(median=8s, p99=30s)", errMsg: `lognormal has no parameter "p99" (it takes median, p90); did you mean p90?`},
		{in: "lognormal(median=8s, median=9s)", errMsg: "median given twice"},
		{in: "lognormal(median=30s, p90=8s)", errMsg: "p90 8s must exceed median 30s"},
		{in: "lognormal(median=0s, p90=8s)", errMsg: "median 0s must be above 0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDist(tt.in)
			if tt.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMsg) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("err = %v; want ErrSyntax containing %q", err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("String = %q; want %q", got, tt.want)
			}
			if got := d.Mean(); absDur(got-tt.mean) > time.Millisecond {
				t.Errorf("Mean = %v; want %v", got, tt.mean)
			}
			m, bounded := d.Max()
			if bounded != (tt.max != 0 || tt.want == "const(0s)") || m != tt.max {
				t.Errorf("Max = %v, %v; want %v", m, bounded, tt.max)
			}
			if !d.IsSet() {
				t.Error("IsSet = false")
			}
			back, err := ParseDist(d.String())
			if err != nil || back != d {
				t.Errorf("String does not parse back: %v, %v", back, err)
			}
		})
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// TestDistSample checks each family's samples against its definition on
// many draws: the mean, and the quantiles the parameters name.
func TestDistSample(t *testing.T) {
	const n = 200_000
	tests := []struct {
		d         Dist
		quantiles map[float64]time.Duration // quantile -> expected value
		min, max  time.Duration
	}{
		{d: Const(2 * time.Second), quantiles: map[float64]time.Duration{0.5: 2 * time.Second}, min: 2 * time.Second, max: 2 * time.Second},
		{d: Uniform(time.Second, 5*time.Second), quantiles: map[float64]time.Duration{0.25: 2 * time.Second, 0.5: 3 * time.Second}, min: time.Second, max: 5 * time.Second},
		{d: Exp(30 * time.Second), quantiles: map[float64]time.Duration{0.5: time.Duration(math.Round(30 * math.Ln2 * float64(time.Second)))}, max: time.Hour * 24},
		{d: LogNormal(8*time.Second, 30*time.Second), quantiles: map[float64]time.Duration{0.5: 8 * time.Second, 0.9: 30 * time.Second}, max: time.Hour * 24},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			xs := make([]time.Duration, n)
			var sum float64
			for i := range xs {
				xs[i] = tt.d.Sample(r)
				sum += float64(xs[i])
				if xs[i] < tt.min || xs[i] > tt.max {
					t.Fatalf("sample %v outside [%v, %v]", xs[i], tt.min, tt.max)
				}
			}
			slices.Sort(xs)
			mean := time.Duration(sum / n)
			if rel(mean, tt.d.Mean()) > 0.02 {
				t.Errorf("sample mean %v; Mean %v", mean, tt.d.Mean())
			}
			for q, want := range tt.quantiles {
				if got := xs[int(q*n)]; rel(got, want) > 0.02 {
					t.Errorf("quantile %v = %v; want %v", q, got, want)
				}
			}
		})
	}
	if got := (Dist{}).Sample(rand.New(rand.NewPCG(1, 2))); got != 0 {
		t.Errorf("unset Dist sampled %v; want 0", got)
	}
}

func rel(a, b time.Duration) float64 {
	if b == 0 {
		return math.Abs(float64(a))
	}
	return math.Abs(float64(a-b)) / float64(b)
}

func TestSizeDist(t *testing.T) {
	tests := []struct {
		in, want string
		mean     float64
		errMsg   string
	}{
		{in: "200", want: "const(200)", mean: 200},
		{in: "const(200)", want: "const(200)", mean: 200},
		{in: "uniform(300, 1500)", want: "uniform(300, 1500)", mean: 900},
		{in: "lognormal(median=24, p90=120)", want: "lognormal(median=24, p90=120)", mean: 24 * math.Exp(math.Pow(math.Log(5)/z90, 2)/2)},
		{in: "exp(100)", want: "exp(100)", mean: 100},
		{in: "1KiB", errMsg: `"1KiB" is not a size: want a whole number of bytes`},
		{in: "uniform(1.5, 3)", errMsg: `min: "1.5" is not a size`},
		{in: "uniform(300, 100)", errMsg: "min 300 exceeds max 100"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseSize(tt.in)
			if tt.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMsg) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("err = %v; want ErrSyntax containing %q", err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != tt.want || math.Abs(d.Mean()-tt.mean) > 1e-9 {
				t.Errorf("got %s, mean %v; want %s, %v", d, d.Mean(), tt.want, tt.mean)
			}
		})
	}
	// Samples are whole bytes, clamped to [1, MaxMessageSize].
	r := rand.New(rand.NewPCG(3, 4))
	huge := SizeDist{shape{kind: distExp, a: 10 * MaxMessageSize}}
	small := SizeDist{shape{kind: distExp, a: 0.001}}
	for range 1000 {
		if n := huge.Sample(r); n < 1 || n > MaxMessageSize {
			t.Fatalf("huge sample %d", n)
		}
		if n := small.Sample(r); n != 1 {
			t.Fatalf("small sample %d; want 1", n)
		}
	}
	if n := ConstSize(200).Sample(r); n != 200 {
		t.Errorf("ConstSize(200) sampled %d", n)
	}
}

// TestDistYAML checks decoding inside a document: the line and value in
// errors, round trips through MarshalYAML.
func TestDistYAML(t *testing.T) {
	var v struct {
		D Dist     `yaml:"d"`
		S SizeDist `yaml:"s"`
		R Ratio    `yaml:"r"`
	}
	if err := yaml.Unmarshal([]byte("d: exp(30s)\ns: uniform(1, 2)\nr: 80%\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.D != Exp(30*time.Second) || v.S.String() != "uniform(1, 2)" || v.R != 0.8 {
		t.Errorf("decoded %+v", v)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "d: exp(30s)\ns: uniform(1, 2)\nr: 80%\n"; got != want {
		t.Errorf("Marshal = %q; want %q", got, want)
	}
	for in, want := range map[string]string{
		"d: [1s]\n":              "line 1: cannot unmarshal !!seq into a distribution",
		"\nd: uniform(2s, 1s)\n": "line 2: cannot unmarshal `uniform(2s, 1s)` into a distribution: min 2s exceeds max 1s",
		"s: {a: 1}\n":            "line 1: cannot unmarshal !!map into a size distribution",
		"r: lots\n":              "line 1: cannot unmarshal `lots` into a ratio: want a number like 0.8 or a percentage like 80%",
		"r: .nan\n":              "cannot unmarshal `.nan` into a ratio",
	} {
		err := yaml.Unmarshal([]byte(in), &v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v; want %q", in, err, want)
		}
	}
}

func TestRatio(t *testing.T) {
	for in, want := range map[string]Ratio{"80%": 0.8, "0.8": 0.8, " 150 % ": 1.5, "0": 0, "0%": 0, "2.5%": 0.025} {
		got, err := ParseRatio(in)
		if err != nil || math.Abs(float64(got-want)) > 1e-12 {
			t.Errorf("ParseRatio(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "eighty", "Inf", "1/2"} {
		if _, err := ParseRatio(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseRatio(%q): err %v; want ErrSyntax", in, err)
		}
	}
	for r, want := range map[Ratio]string{0.8: "80%", 0.07: "7%", 1.5: "150%", 0: "0%", 0.995: "99.5%"} {
		if got := r.String(); got != want {
			t.Errorf("Ratio(%v).String() = %q; want %q", float64(r), got, want)
		}
	}
}

func TestDistConstructorsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"Const(-1)":         func() { Const(-1) },
		"Uniform(2s, 1s)":   func() { Uniform(2*time.Second, time.Second) },
		"Exp(0)":            func() { Exp(0) },
		"LogNormal(2s, 1s)": func() { LogNormal(2*time.Second, time.Second) },
		"ConstSize(-1)":     func() { ConstSize(-1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
