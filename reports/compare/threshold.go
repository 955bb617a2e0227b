package compare

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ParseThreshold parses one threshold as a flag gives it: "key=10%" or
// "key=0.1", the key a row ("delivery.p99") or a metric name ("delivery"),
// the value a relative change of at least 0. Spaces around key and value
// are ignored.
func ParseThreshold(s string) (key string, v float64, err error) {
	key, val, ok := strings.Cut(s, "=")
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if !ok || key == "" || val == "" {
		return "", 0, fmt.Errorf("%w %q: want key=value, as in delivery.p99=10%% or delivery.p99=0.1", ErrThreshold, s)
	}
	if strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == '=' || r == '#' }) {
		return "", 0, fmt.Errorf("%w %q: key %q: want a metric such as delivery.p99", ErrThreshold, s, key)
	}
	num, pct := strings.CutSuffix(val, "%")
	v, err = strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return "", 0, fmt.Errorf("%w %q: value %q: want a relative change of at least 0 (10%% or 0.1)", ErrThreshold, s, val)
	}
	if pct {
		v /= 100
	}
	return key, v, nil
}

// LoadThresholds reads a file of thresholds, one ParseThreshold form per
// line; "#" starts a comment and blank lines are ignored. A key given twice
// is an error. Errors name the file and line.
func LoadThresholds(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	defer f.Close()
	out := map[string]float64{}
	lineOf := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, v, err := ParseThreshold(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if first, ok := lineOf[key]; ok {
			return nil, fmt.Errorf("%s:%d: %w: %s given again (first on line %d)", path, n, ErrThreshold, key, first)
		}
		out[key], lineOf[key] = v, n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("compare: read thresholds %s: %w", path, err)
	}
	return out, nil
}
