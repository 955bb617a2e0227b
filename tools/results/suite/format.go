package suite

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
)

// funcs are the template's number formatters. Every figure in RESULTS.md
// goes through one of them, so that a figure's shape (its unit, its
// separators) depends on its magnitude only, never on the prose around it.
var funcs = template.FuncMap{
	"sig":     func(v any) string { return sig3(num(v)) },
	"count":   func(v any) string { return count(int64(math.Round(num(v)))) },
	"dur":     func(v any) string { return durS(num(v)) },
	"ms":      func(v any) string { return durMs(num(v)) },
	"si":      func(v any) string { return si(num(v)) },
	"pct":     func(v any) string { return pct(num(v)) },
	"bytes":   func(v any) string { return bytesB(num(v)) },
	"mib":     func(v any) string { return mib(num(v)) },
	"gib":     func(v any) string { return sig3(num(v)/(1<<30)) + " GiB" },
	"cpu":     func(v any) string { return cpuS(num(v)) },
	"times":   func(v any) string { return timesOver(num(v)) },
	"ratio":   func(v any) string { return ratioX(num(v)) },
	"metric":  metricValue,
	"span":    span,
	"median":  median,
	"spanAs":  spanAs,
	"load":    func(v any) string { return load(num(v)) },
	"prob":    func(v any) string { return sigMax(num(v), 4) },
	"secs":    func(v any) string { return sigMax(num(v), 3) + " s" },
	"frac":    func(v any) string { return sigMax(num(v), 3) },
	"list":    func(s ...string) []string { return s },
	"faults":  faultKeys,
	"join":    strings.Join,
	"cell":    cell,
	"verdict": verdictWord,
}

// num converts a template value of any numeric kind to float64.
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint64:
		return float64(x)
	case uint32:
		return float64(x)
	case uint:
		return float64(x)
	}
	panic(fmt.Sprintf("template: %v (%T) is not a number", v, v))
}

// sig3 formats x with 3 significant figures, and values of 1,000 or more
// as whole numbers with thousands separators.
func sig3(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x == 0:
		return "0"
	case math.Abs(x) >= 999.5:
		return count(int64(math.Round(x)))
	}
	dec := max(2-int(math.Floor(math.Log10(math.Abs(x)))), 0)
	s := strconv.FormatFloat(x, 'f', dec, 64)
	// Rounding can carry into a new digit (9.996 → "10.00"): one decimal
	// fewer keeps 3 significant figures.
	if dec > 0 && len(strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(s, "-"), ".", ""), "0")) > 3 {
		s = strconv.FormatFloat(x, 'f', dec-1, 64)
	}
	return s
}

// sigMax is sig3 with at most decimals decimals: for figures logged with
// that many, so that no precision is invented.
func sigMax(x float64, decimals int) string {
	s := sig3(x)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > decimals {
		s = strconv.FormatFloat(x, 'f', decimals, 64)
	}
	return s
}

// load formats a load given to a command (a rate, a population): up to 4
// significant figures, no padding, separators from 1,000.
func load(x float64) string {
	if x == 0 || math.Abs(x) >= 999.5 {
		return count(int64(math.Round(x)))
	}
	p := math.Pow(10, float64(3-int(math.Floor(math.Log10(math.Abs(x))))))
	return strconv.FormatFloat(math.Round(x*p)/p, 'f', -1, 64)
}

// count formats an integer with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// durS formats seconds as ns, µs, ms or s, with 3 significant figures.
func durS(s float64) string {
	a := math.Abs(s)
	switch {
	case s == 0:
		return "0 s"
	case a < 999.5e-9:
		return sig3(s*1e9) + " ns"
	case a < 999.5e-6:
		return sig3(s*1e6) + " µs"
	case a < 0.9995:
		return sig3(s*1e3) + " ms"
	}
	return sig3(s) + " s"
}

// durMs formats milliseconds as durS does.
func durMs(ms float64) string { return durS(ms / 1e3) }

// si formats x with 3 significant figures and a k, M or G suffix.
func si(x float64) string {
	a := math.Abs(x)
	switch {
	case a >= 999.5e6:
		return sig3(x/1e9) + "G"
	case a >= 999.5e3:
		return sig3(x/1e6) + "M"
	case a >= 999.5:
		return sig3(x/1e3) + "k"
	}
	return sig3(x)
}

// pct formats a share (0.895) as a percentage with one decimal (89.5%).
func pct(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 1, 64) + "%"
}

// bytesB formats a byte count as whole bytes with separators.
func bytesB(b float64) string { return count(int64(math.Round(b))) + " B" }

// mib formats a byte count in MiB with 3 significant figures.
func mib(b float64) string { return sig3(b/(1<<20)) + " MiB" }

// cpuS formats CPU seconds.
func cpuS(s float64) string { return sig3(s) + " CPU-s" }

// metricValue formats a benchmark value in its (benchfmt-tidied) unit:
// times per op as durations, bytes per second in decimal units, other
// units after an SI-scaled number.
func metricValue(v float64, unit string) string {
	switch unit {
	case "sec/op":
		return durS(v)
	case "B/op":
		return bytesB(v)
	case "allocs/op":
		if v == math.Trunc(v) {
			return count(int64(v))
		}
		return sig3(v)
	case "B/s":
		s := si(v)
		if n := len(s); n > 0 && strings.ContainsAny(s[n-1:], "kMG") {
			return s[:n-1] + " " + strings.ToUpper(s[n-1:]) + "B/s"
		}
		return s + " B/s"
	}
	if strings.HasPrefix(unit, "B/") || strings.HasPrefix(unit, "rss-B/") {
		return bytesB(v) + strings.TrimPrefix(strings.TrimPrefix(unit, "rss-"), "B")
	}
	return si(v) + " " + unit
}

// span formats a metric's median (— for a metric no run reported) with its range over the runs, when there
// was more than one run: "350 ns [340 ns–362 ns]".
func span(m Metric) string {
	if m.Runs == 0 {
		return "—"
	}
	return spanWith(m, func(v float64) string { return metricValue(v, m.Unit) })
}

// median formats a metric's median alone (— for a metric no run
// reported).
func median(m Metric) string {
	if m.Runs == 0 {
		return "—"
	}
	return metricValue(m.Median, m.Unit)
}

// faultKinds are the fault proxy's counts of injected faults, in the
// order RESULTS.md lists them.
var faultKinds = []string{"Stalls", "Dropped", "Duplicated", "Swapped", "Delayed"}

// faultKeys returns the kinds of fault the proxy injected, by its counts.
func faultKeys(counts map[string]int64) []string {
	var out []string
	for _, k := range faultKinds {
		if counts[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}

// spanAs is span with the values formatted as kind: "si" (a rate,
// SI-scaled), "cpu" (CPU-seconds), "bytes", "dur" (seconds), "sig" (3
// significant figures) or "pct" (a share as a percentage).
func spanAs(kind string, m Metric) string {
	if m.Runs == 0 {
		return "—"
	}
	f := map[string]func(float64) string{"si": si, "cpu": cpuS, "bytes": bytesB, "dur": durS, "sig": sig3, "pct": pct}[kind]
	if f == nil {
		panic("template: spanAs: unknown kind " + kind)
	}
	return spanWith(m, f)
}

// spanWith is span with the values formatted by f.
func spanWith(m Metric, f func(float64) string) string {
	s := f(m.Median)
	if m.Runs > 1 {
		s += " [" + f(m.Min) + "–" + f(m.Max) + "]"
	}
	return s
}

// rangeOf formats lo–hi with f, or a single value when there is one.
func rangeOf(f func(float64) string, lo, hi float64, n int) string {
	if n <= 1 {
		return f(lo)
	}
	return f(lo) + "–" + f(hi)
}

// timesOver formats a ratio such as 3.1× (two significant figures below
// 10, whole numbers above).
func timesOver(r float64) string {
	if r >= 9.95 {
		return count(int64(math.Round(r))) + "×"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "×"
}

// verdictWord is "pass" for a test status PASS, "skip" for SKIP, and
// "**FAIL**" otherwise.
func verdictWord(status string) string {
	switch status {
	case "PASS":
		return "pass"
	case "SKIP":
		return "skip"
	}
	return "**FAIL**"
}

// cell makes free text (a test's error, an objective) safe in a Markdown
// table cell: one line, pipes escaped.
func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

// shellQuote renders a command line as it would be typed in a shell.
func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
