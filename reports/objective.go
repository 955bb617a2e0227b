package reports

import (
	"fmt"
	"math"
	"strings"
)

// Verdict is the objective's outcome in a word: "PASS", "FAIL", or "NO
// DATA" for one that could not be judged (which fails too).
func (o Objective) Verdict() string {
	switch {
	case o.Insufficient != "":
		return "NO DATA"
	case o.Pass:
		return "PASS"
	}
	return "FAIL"
}

// Measured says what was measured, for people: the value in its unit at a
// human scale ("12.3ms", "43.8s", "4.1%", "0.52/s"), or why there is none.
func (o Objective) Measured() string {
	if o.Insufficient != "" {
		if o.Samples > 0 && o.Unit != "" {
			return FormatValue(o.Value, o.Unit) + ", " + o.Insufficient
		}
		return o.Insufficient
	}
	return FormatValue(o.Value, o.Unit)
}

// FormatValue writes v, in unit (an Objective's Unit), at a human scale:
// milliseconds under a second, seconds under a minute, then minutes and
// seconds; ratios as percentages; rates per second.
func FormatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return FormatMs(v)
	case "ratio":
		return trimFloat(v*100, 3) + "%"
	case "per_s":
		return trimFloat(v, 3) + "/s"
	case "count":
		return trimFloat(v, 12)
	case "chats":
		return trimFloat(v, 3) + " chats"
	}
	return trimFloat(v, 6)
}

// FormatMs writes a duration given in milliseconds at a human scale:
// "0.42ms", "12.3ms", "43.8s", "2m05s", "1h02m".
func FormatMs(ms float64) string {
	switch a := math.Abs(ms); {
	case a < 1000:
		return trimFloat(ms, 3) + "ms"
	case a < 60_000:
		return trimFloat(ms/1000, 3) + "s"
	case a < 3_600_000:
		m := math.Floor(ms / 60_000)
		return fmt.Sprintf("%.0fm%02.0fs", m, math.Floor((ms-m*60_000)/1000))
	}
	h := math.Floor(ms / 3_600_000)
	return fmt.Sprintf("%.0fh%02.0fm", h, math.Floor((ms-h*3_600_000)/60_000))
}

// trimFloat writes v with at most sig significant digits, without an
// exponent for everyday magnitudes and without trailing zeros.
func trimFloat(v float64, sig int) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	digits := sig - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	if digits < 0 {
		digits = 0
	}
	s := fmt.Sprintf("%.*f", digits, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
