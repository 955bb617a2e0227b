package suite

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// Benchmark is one benchmark of `go test -bench` output, over all its
// runs (-count).
type Benchmark struct {
	// Pkg is the package's import path ("pkg:" line of the output).
	Pkg string
	// Name is the full benchmark name without "Benchmark" and without
	// the GOMAXPROCS suffix: "RouteRelease10k/least-loaded".
	Name string
	// Metrics are its values, one per unit: time per op first, then B/op
	// and allocs/op, then the benchmark's own units in the order it
	// reported them.
	Metrics []Metric
}

// Metric is one unit of a benchmark over its runs.
type Metric struct {
	// Unit is the unit as benchfmt tidies it: "sec/op" (seconds), "B/s"
	// (bytes), "B/op", "allocs/op", or the benchmark's own
	// ("decisions/s").
	Unit string
	// Median, Min and Max are over the runs.
	Median, Min, Max float64
	// Runs is how many runs reported the unit.
	Runs int
}

// Label is the row name of a benchmark: its package's last path element
// and its name, "routing RouteRelease10k/least-loaded".
func (b Benchmark) Label() string {
	return b.Pkg[strings.LastIndexByte(b.Pkg, '/')+1:] + " " + b.Name
}

// Metric returns the benchmark's metric of unit (tidied, as in Metric.Unit).
func (b Benchmark) Metric(unit string) (Metric, bool) {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m, true
		}
	}
	return Metric{}, false
}

// M returns the metric of unit, or a zero Metric (no runs) when the
// benchmark did not report it.
func (b Benchmark) M(unit string) Metric {
	m, _ := b.Metric(unit)
	return m
}

// Other returns the metrics other than time, B/op and allocs/op.
func (b Benchmark) Other() []Metric {
	var out []Metric
	for _, m := range b.Metrics {
		switch m.Unit {
		case "sec/op", "B/op", "allocs/op":
		default:
			out = append(out, m)
		}
	}
	return out
}

// Benchmarks are the benchmarks of one entry, in the order they first
// appeared.
type Benchmarks []Benchmark

// Find returns the benchmarks whose Pkg ends in pkg and whose Name has the
// prefix name.
func (bs Benchmarks) Find(pkg, name string) Benchmarks {
	var out Benchmarks
	for _, b := range bs {
		if strings.HasSuffix(b.Pkg, pkg) && strings.HasPrefix(b.Name, name) {
			out = append(out, b)
		}
	}
	return out
}

// Extremes returns the lowest and highest median of unit among bs, with
// the benchmarks holding them; ok is false when none reports unit.
func (bs Benchmarks) Extremes(unit string) (lo, hi Metric, loB, hiB Benchmark, ok bool) {
	for _, b := range bs {
		m, has := b.Metric(unit)
		if !has {
			continue
		}
		if !ok || m.Median < lo.Median {
			lo, loB = m, b
		}
		if !ok || m.Median > hi.Median {
			hi, hiB = m, b
		}
		ok = true
	}
	return lo, hi, loB, hiB, ok
}

// ParseBenchmarks reads `go test -bench` output (the benchmark format) of
// the file called name and
// summarises each benchmark's runs: medians with benchmath, ranges from
// the sorted sample. Output that is not a benchmark result (PASS, ok
// lines, logs) is skipped, as benchfmt does. It is an error for the
// output to hold no benchmark, or a FAIL line.
func ParseBenchmarks(r io.Reader, name string) (Benchmarks, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	for line := range bytes.Lines(data) {
		if bytes.HasPrefix(line, []byte("FAIL")) || bytes.HasPrefix(line, []byte("--- FAIL")) {
			return nil, fmt.Errorf("a benchmark failed: %s", strings.TrimSpace(string(line)))
		}
	}
	type key struct{ pkg, name string }
	var order []key
	values := map[key]map[string][]float64{}
	units := map[key][]string{}
	rd := benchfmt.NewReader(bytes.NewReader(data), name)
	for rd.Scan() {
		switch rec := rd.Result(); rec := rec.(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			full := string(rec.Name.Full())
			if i := gomaxprocsSuffix(full); i >= 0 {
				full = full[:i]
			}
			k := key{rec.GetConfig("pkg"), full}
			if values[k] == nil {
				values[k] = map[string][]float64{}
				order = append(order, k)
			}
			for _, v := range rec.Values {
				if _, seen := values[k][v.Unit]; !seen {
					units[k] = append(units[k], v.Unit)
				}
				values[k][v.Unit] = append(values[k][v.Unit], v.Value)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no benchmark results")
	}
	out := make(Benchmarks, 0, len(order))
	for _, k := range order {
		b := Benchmark{Pkg: k.pkg, Name: k.name}
		us := units[k]
		rank := func(u string) int {
			switch u {
			case "sec/op":
				return 0
			case "B/op":
				return 1
			case "allocs/op":
				return 2
			}
			return 3
		}
		slices.SortStableFunc(us, func(a, b string) int { return rank(a) - rank(b) })
		for _, u := range us {
			s := benchmath.NewSample(values[k][u], &benchmath.DefaultThresholds)
			sum := benchmath.AssumeNothing.Summary(s, 0.95)
			b.Metrics = append(b.Metrics, Metric{
				Unit:   u,
				Median: sum.Center,
				Min:    s.Values[0],
				Max:    s.Values[len(s.Values)-1],
				Runs:   len(s.Values),
			})
		}
		out = append(out, b)
	}
	return out, nil
}

// gomaxprocsSuffix returns the index of a "-N" suffix of a benchmark name,
// or -1.
func gomaxprocsSuffix(name string) int {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return -1
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return -1
	}
	return i
}
