package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// dash stands for a figure a run does not have.
const dash = "—"

// fmtSig formats v with at least sig significant digits, never in
// exponent notation.
func fmtSig(v float64, sig int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	if v == 0 {
		return "0"
	}
	dec := sig - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	if dec < 0 {
		dec = 0
	}
	return group(strconv.FormatFloat(v, 'f', dec, 64))
}

// fmtCount formats an integer with thousands separators.
func fmtCount(n int64) string {
	return group(strconv.FormatInt(n, 10))
}

// group inserts thousands separators into a decimal number.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return sign + s
	}
	var b strings.Builder
	first := len(intPart) % 3
	if first > 0 {
		b.WriteString(intPart[:first])
	}
	for i := first; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	return sign + b.String() + frac
}

// fmtBytes formats a size in bytes with binary units.
func fmtBytes(v float64) string {
	switch a := math.Abs(v); {
	case a < 1024:
		return fmt.Sprintf("%.0f B", v)
	case a < 1<<20:
		return fmt.Sprintf("%.2f KiB", v/(1<<10))
	case a < 1<<30:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	default:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	}
}

// fmtPercent formats a fraction as a percentage.
func fmtPercent(f float64) string {
	return fmtSig(100*f, 3) + "%"
}

// fmtSeconds formats a duration in seconds, with the duration spelled out
// when it is long enough for that to help.
func fmtSeconds(s float64) string {
	out := fmtSig(s, 3) + " s"
	if s >= 60 {
		out += " (" + time.Duration(s*float64(time.Second)).Round(time.Second).String() + ")"
	}
	return out
}

// objectiveUnit is the unit of an objective's value, for a document older
// than the objective's unit field: the latency statistics are
// milliseconds, ratios are ratios, and the rest is left plain.
func objectiveUnit(expr string) string {
	lhs, _, _ := strings.Cut(strings.TrimSpace(expr), " ")
	_, stat, ok := strings.Cut(lhs, ".")
	switch {
	case !ok:
		return ""
	case stat == "ratio":
		return "ratio"
	case stat == "max" || stat == "min" || stat == "mean" || (strings.HasPrefix(stat, "p") && isDigits(stat[1:])):
		return "ms"
	}
	return ""
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hexColor formats an opaque colour as CSS #rrggbb.
func hexColor(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}
