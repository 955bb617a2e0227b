package compare

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// JSON writes the report as an indented JSON document.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("compare: write JSON: %w", err)
	}
	return nil
}

// statJSON is the JSON form of a Stat: an infinite bound is null.
type statJSON struct {
	Center float64  `json:"center"`
	Lo     *float64 `json:"lo"`
	Hi     *float64 `json:"hi"`
	N      int      `json:"n"`
}

// MarshalJSON writes s with infinite bounds as null, which JSON has no
// number for.
func (s Stat) MarshalJSON() ([]byte, error) {
	finite := func(v float64) *float64 {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(statJSON{Center: s.Center, Lo: finite(s.Lo), Hi: finite(s.Hi), N: s.N})
}

// UnmarshalJSON reads what MarshalJSON writes, a null bound as infinite.
func (s *Stat) UnmarshalJSON(data []byte) error {
	var j statJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = Stat{Center: j.Center, Lo: math.Inf(-1), Hi: math.Inf(1), N: j.N}
	if j.Lo != nil {
		s.Lo = *j.Lo
	}
	if j.Hi != nil {
		s.Hi = *j.Hi
	}
	return nil
}

// Markdown writes the report for a GitHub job summary or a pull request:
// a heading, the verdict, the two sides, a table of every row (regressions
// marked ❌, improvements ✅) and the warnings.
func (r *Report) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("## bench compare: %s\n\n", oneLine(r.Base.Scenario))
	p("%s\n\n", r.verdictLine())
	if len(r.Mixed) > 0 {
		p("> ⚠️ **The two sides are not alike**: read the verdict as a comparison of these too.\n")
		for _, m := range r.Mixed {
			p("> - %s\n", oneLine(m))
		}
		p("\n")
	}
	p("- base: %s\n", side(r.Base))
	p("- new: %s\n\n", side(r.New))
	p("Medians with %s%% confidence intervals; Mann–Whitney U test, α = %g (~: no difference beyond noise); "+
		"minimum change %s%%%s. Counts are not tested: a count that was 0 in every base run and is above 0 "+
		"in a new run is a regression.\n\n",
		pct(r.Confidence), r.Alpha, pct(r.MinChange), r.thresholdList())

	p("| metric | base | new | change | p | verdict |\n")
	p("|---|--:|--:|--:|--:|---|\n")
	for _, row := range r.Rows {
		p("| `%s` | %s | %s | %s | %s | %s |\n",
			cell(row.Metric), cell(statCell(row, row.Base)), cell(statCell(row, row.New)),
			changeCell(row), pCell(row), cell(verdictCell(row)))
	}
	if len(r.Warnings) > 0 {
		p("\n### Warnings\n\n")
		for _, wr := range r.Warnings {
			p("- %s\n", oneLine(wr))
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("compare: write Markdown: %w", err)
	}
	return nil
}

// verdictLine is the report's verdict in one bold-led line.
func (r *Report) verdictLine() string {
	rows := func(pick func(Row) bool) []string {
		var l []string
		for _, row := range r.Rows {
			if pick(row) {
				l = append(l, "`"+row.Metric+"`")
			}
		}
		return l
	}
	verdict := func(v string) func(Row) bool { return func(row Row) bool { return row.Verdict == v } }
	suggests := func(v string) func(Row) bool { return func(row Row) bool { return row.Suggests == v } }
	worse, better := rows(verdict(VerdictRegression)), rows(verdict(VerdictImprovement))
	var b strings.Builder
	switch r.Verdict {
	case VerdictRegression:
		fmt.Fprintf(&b, "❌ **regression**: %s worse beyond noise: %s", metrics(len(worse)), strings.Join(worse, ", "))
	case VerdictInconclusive:
		fmt.Fprintf(&b, "⚠️ **inconclusive**: %s", r.Reason)
		if l := rows(suggests(VerdictRegression)); len(l) > 0 {
			fmt.Fprintf(&b, ". Per interval (weak evidence), worse: %s", strings.Join(l, ", "))
		}
		if l := rows(suggests(VerdictImprovement)); len(l) > 0 {
			fmt.Fprintf(&b, ". Per interval (weak evidence), better: %s", strings.Join(l, ", "))
		}
		return b.String()
	default:
		b.WriteString("✅ **no regression**")
		if len(better) > 0 {
			fmt.Fprintf(&b, "; %s better beyond noise: %s", metrics(len(better)), strings.Join(better, ", "))
		}
	}
	if l := rows(verdict(VerdictInconclusive)); len(l) > 0 {
		fmt.Fprintf(&b, "; %s not judged (too few samples): %s", metrics(len(l)), strings.Join(l, ", "))
	}
	return b.String()
}

// metrics says "1 metric" or "n metrics".
func metrics(n int) string {
	if n == 1 {
		return "1 metric"
	}
	return fmt.Sprintf("%d metrics", n)
}

// thresholdList lists the rows whose threshold is not the minimum change.
func (r *Report) thresholdList() string {
	var l []string
	for _, row := range r.Rows {
		if row.Samples != SamplesCounts && row.Threshold != r.MinChange {
			l = append(l, fmt.Sprintf("%s %s%%", row.Metric, pct(row.Threshold)))
		}
	}
	if len(l) == 0 {
		return ""
	}
	return " (" + strings.Join(l, ", ") + ")"
}

// side describes one side in a line.
func side(s SideInfo) string {
	b := fmt.Sprintf("`%s`: %s of `%s`", oneLine(s.Label), plural(s.Runs, "run"), oneLine(s.Scenario))
	switch len(s.Seeds) {
	case 0:
	case 1:
		b += fmt.Sprintf(", seed %d", s.Seeds[0])
	default:
		b += fmt.Sprintf(", %d seeds", len(s.Seeds))
	}
	if len(s.ToolVersions) > 0 {
		b += ", " + oneLine(strings.Join(s.ToolVersions, " and "))
	}
	return b + ", " + span(s)
}

// span gives the time span of a side's runs.
func span(s SideInfo) string {
	if s.Start.IsZero() {
		return "time unknown"
	}
	const layout = "2006-01-02 15:04:05"
	end := s.End.Format(layout)
	if s.End.Format("2006-01-02") == s.Start.Format("2006-01-02") {
		end = s.End.Format("15:04:05")
	}
	return s.Start.Format(layout) + "–" + end + " UTC"
}

// seedList writes seeds for a warning.
func seedList(seeds []uint64) string {
	return strings.Trim(fmt.Sprint(seeds), "[]")
}

// plural says "1 run" or "n runs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// statCell writes one side of a row: the median, its interval and the
// sample size; for a count, the total.
func statCell(row Row, s Stat) string {
	if row.Samples == SamplesCounts {
		if s.Center == 0 {
			return fmt.Sprintf("0 (%s)", plural(s.N, "run"))
		}
		if s.Hi != s.Center {
			return fmt.Sprintf("%g in total (%s, at most %g in one)", s.Center, plural(s.N, "run"), s.Hi)
		}
		return fmt.Sprintf("%g in total (%s)", s.Center, plural(s.N, "run"))
	}
	n := plural(s.N, strings.TrimSuffix(row.Samples, "s"))
	if s.N == 0 {
		return "— (" + n + ")"
	}
	return fmt.Sprintf("%s ± %s (%s)", value(s.Center, row.Unit), spread(s), n)
}

// spread gives a confidence interval as benchstat does: the larger distance
// of a bound from the centre, relative to it.
func spread(s Stat) string {
	switch {
	case math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0):
		return "∞"
	case s.Center <= 0:
		return "?"
	}
	v := 100 * max(s.Hi/s.Center-1, 1-s.Lo/s.Center)
	if v < 1 {
		return fmt.Sprintf("%.1f%%", v)
	}
	return fmt.Sprintf("%.0f%%", v)
}

// value writes v in unit, to about three significant digits.
func value(v float64, unit string) string {
	switch unit {
	case "bytes":
		const k = 1024
		switch a := math.Abs(v); {
		case a >= k*k*k:
			return fmt.Sprintf("%.2f GiB", v/(k*k*k))
		case a >= k*k:
			return fmt.Sprintf("%.1f MiB", v/(k*k))
		case a >= k:
			return fmt.Sprintf("%.1f KiB", v/k)
		}
		return fmt.Sprintf("%.0f B", v)
	case "count", "runs":
		return fmt.Sprintf("%g", v)
	}
	decimals := 0
	if a := math.Abs(v); a > 0 {
		decimals = max(0, 2-int(math.Floor(math.Log10(a))))
	}
	return strconv.FormatFloat(v, 'f', decimals, 64) + " " + unit
}

// changeCell writes a row's change: "~" where the test sees none, "—"
// where a relative change is undefined.
func changeCell(row Row) string {
	switch {
	case row.Verdict == VerdictNotSignificant, row.Suggests == VerdictNotSignificant:
		return "~"
	case row.Base.N == 0 || row.New.N == 0, row.Base.Center == 0:
		return "—"
	}
	if math.Abs(row.Change) < 0.0005 {
		return "0.0%"
	}
	return fmt.Sprintf("%+.1f%%", 100*row.Change)
}

// pCell writes a row's p-value.
func pCell(row Row) string {
	switch {
	case row.Samples == SamplesCounts, row.Base.N == 0 || row.New.N == 0:
		return "—"
	case row.P < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", row.P)
}

// verdictCell writes a row's verdict, marked, with its note.
func verdictCell(row Row) string {
	v := row.Verdict
	switch row.Verdict {
	case VerdictRegression:
		v = "❌ regression"
	case VerdictImprovement:
		v = "✅ improvement"
	case VerdictNotSignificant:
		v = "~"
	case VerdictUnderThreshold:
		v = fmt.Sprintf("under %s%% threshold", pct(row.Threshold))
	case VerdictInconclusive:
		v = "⚠️ inconclusive"
		if row.Suggests != "" {
			v += ", suggests " + row.Suggests
		}
	}
	if row.Note != "" {
		v += " (" + row.Note + ")"
	}
	return v
}

// pct writes a fraction as a percentage without a sign: 0.05 as "5".
func pct(f float64) string {
	return fmt.Sprintf("%.4g", 100*f)
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

// oneLine folds text onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
