package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/scenarios"
)

// FuzzParse checks that Parse never panics on any input; that every
// problem names the file and says what is wrong; and that what it accepts
// is valid, schedules, clones and survives Set.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, name := range scenarios.Names() {
		data, err := scenarios.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("duration: 1m\ncustomers: {rate: 1, script: [connect, {think: 1s, chance: 0.5}, kill, open, close:]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var joined interface{ Unwrap() []error }
			errs := []error{err}
			if errors.As(err, &joined) {
				errs = joined.Unwrap()
			}
			for _, e := range errs {
				var fe *FieldError
				if !errors.As(e, &fe) || fe.Msg == "" || fe.File != "fuzz.yaml" || fe.Line < 0 {
					t.Fatalf("problem %#v", e)
				}
				if !errors.Is(e, ErrSyntax) && !errors.Is(e, ErrUnknownField) && !errors.Is(e, ErrInvalid) {
					t.Fatalf("problem %q matches no sentinel", e)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted a scenario Validate rejects: %v", err)
		}
		sc := s.Schedule()
		if sc.Duration() != time.Duration(s.Duration) || sc.Sessions() < 0 {
			t.Fatalf("schedule %+v for duration %v", sc, s.Duration)
		}
		if x := sc.Cumulative(sc.Duration() / 2); x > 0 {
			if _, ok := sc.TimeOf(x); !ok {
				t.Fatalf("TimeOf(Cumulative(half)) found nothing")
			}
		}
		_ = s.PeakConnections()
		c := s.Clone()
		_ = c.Set("seed", "2")
		_ = c.Set("customers.rate", "3")
		if s.Seed == 2 && c.Seed == 2 && s.Customers.Rate == 3 && c.Customers.Rate == 3 {
			t.Fatal("Set on a clone changed the original")
		}
	})
}

// FuzzParseDist checks that the distribution parser never panics, and
// that what it accepts samples within its bounds and writes back as
// itself.
func FuzzParseDist(f *testing.F) {
	for _, s := range []string{"2s", "const(1s)", "uniform(1s, 5s)", "exp(mean=30s)", "lognormal(median=8s, p90=30s)", "uniform(5s,", "gamma(1s)", "lognormal(p90=1s, median=2s)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDist(in)
		if err != nil {
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "distribution") {
				t.Fatalf("err %v", err)
			}
			return
		}
		r := newRand(1)
		for range 10 {
			v := d.Sample(r)
			if v < 0 {
				t.Fatalf("%s sampled %v", d, v)
			}
			if m, ok := d.Max(); ok && v > m {
				t.Fatalf("%s sampled %v above its max %v", d, v, m)
			}
		}
		back, err := ParseDist(d.String())
		if err != nil {
			t.Fatalf("%q wrote back as %q, which does not parse: %v", in, d, err)
		}
		if back.String() != d.String() {
			t.Fatalf("%q: %q then %q", in, d, back)
		}
	})
}

// FuzzParseObjective checks that the objective parser never panics, that
// errors name a column within the expression, and that what it accepts
// writes back as an equivalent objective.
func FuzzParseObjective(f *testing.F) {
	for _, s := range []string{"delivery.p99 < 50ms", "lost == 0", "abandoned.ratio < 5%", "errors.rate < 0.5/s", "ack.p99.5 <= 1s", "max_concurrent >= 3", "bot.p0 < x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		o, col, why := parseObjective(in)
		if why != "" {
			if col < 1 || col > len(in)+1 {
				t.Fatalf("%q: column %d outside the expression: %s", in, col, why)
			}
			return
		}
		back, err := ParseObjective(o.String())
		if err != nil {
			t.Fatalf("%q wrote back as %q, which does not parse: %v", in, o, err)
		}
		if back.Metric != o.Metric || back.Stat != o.Stat || back.Op != o.Op {
			t.Fatalf("%q: %+v then %+v", in, o, back)
		}
	})
}
