package render

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/swarmdesk/swarmdesk/reports"
)

const (
	// chartWidth and plotHeight are the size of a chart's plot, without its
	// legend, in CSS pixels, which the SVG draws as points: fonts and lines
	// sized in points then have that size in CSS pixels. Two charts stand
	// side by side on a wide screen.
	chartWidth, plotHeight = 640, 300
	// spectrumSteps is the number of percentiles computed per decade of
	// 1/(1-p) on a spectrum chart.
	spectrumSteps = 50
	// maxLegend is the most characters of a legend entry drawn.
	maxLegend = 40
)

// palette gives each run its colour, in run order: the Okabe-Ito colours
// (distinguishable with colour-blindness), without yellow, which is too
// faint on white. None of them is near FrameColor.
var palette = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0x00, 0x9e, 0x73, 0xff}, // bluish green
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x56, 0xb4, 0xe9, 0xff}, // sky blue
	{0x44, 0x44, 0x44, 0xff}, // dark grey
}

// runColor is the colour of the i-th run.
func runColor(i int) color.RGBA { return palette[i%len(palette)] }

// dashes tells the series of one run apart: the first solid, the second
// dashed, the third dotted.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(4)},
	{vg.Points(1.5), vg.Points(3)},
}

// ChartGroup is a group of related charts, shown together under one
// heading.
type ChartGroup struct {
	// ID is the group's stable id ("latency"), the anchor of its heading.
	ID string
	// Title is the group's heading.
	Title string
	// Note says in a sentence how to read the group's charts.
	Note string
}

// ChartGroups are the groups of the report's charts, in page order: every
// Chart's Group is one of their IDs.
var ChartGroups = []ChartGroup{
	{"latency", "Latency of messages and connections",
		"Corrected latency (from when the action was meant to start) solid, raw (from when it started) dashed; a log axis when the runs are more than 10× apart."},
	{"traffic", "Throughput and connections", "Per interval, against scenario time."},
	{"waits", "Waiting for people: queue, replies and sessions",
		"Human-scale latencies, in scenario time: how long customers wait for an agent, a reply, the end of their conversation."},
	{"agents", "Agents", "How many chats agents carried at once, and what it did to their replies."},
	{"errors", "Errors", "Errors per interval, against scenario time."},
}

// humanMetrics are the latencies that measure people, not the network, in
// scenario time (bench/scenario marks them ScenarioTime): their charts
// stand in the "waits" group, apart from the network's milliseconds.
var humanMetrics = []string{"queue_wait", "first_reply", "agent_reply", "session"}

// chartSpec is a chart's data and labels, before it is drawn.
type chartSpec struct {
	name, title    string
	group          string
	xLabel, yLabel string
	// xTicks and yTicks, when set, replace the default ticks of an axis.
	xTicks, yTicks plot.Ticker
	// xMin and xMax fix the x range when xMax > xMin.
	xMin, xMax float64
	// yLog says the y values are the log10s of what they show, drawn
	// from yMin; otherwise the y axis starts at zero. (gonum's own log
	// scale misplaces a long axis label, shrinking the plot.)
	yLog  bool
	yMin  float64
	lines []lineSpec
	bars  []barSpec
}

// lineSpec is one line of a chart.
type lineSpec struct {
	// legend is the line's legend entry; empty for none.
	legend string
	color  color.RGBA
	dashes []vg.Length
	// glyphs marks each point, for sparse data.
	glyphs bool
	pts    plotter.XYs
}

// barSpec is one run's bars of a grouped bar chart.
type barSpec struct {
	legend string
	color  color.RGBA
	// x and y are the bars' categories and heights.
	x, y []float64
	// offset and width place the bar within its category, in x units.
	offset, width float64
}

// legends returns the chart's legend entries in order.
func (s *chartSpec) legends() []string {
	var out []string
	for _, l := range s.lines {
		if l.legend != "" {
			out = append(out, l.legend)
		}
	}
	for _, b := range s.bars {
		if b.legend != "" {
			out = append(out, b.legend)
		}
	}
	return out
}

// entry names a line of one series of one run, as much as the chart needs
// to tell it apart: the run when there are several, the series when the
// run has several.
func entry(runs []run, i int, series string, nSeries int) string {
	switch {
	case len(runs) > 1 && nSeries > 1:
		return runs[i].label + " " + series
	case len(runs) > 1:
		return runs[i].label
	case nSeries > 1:
		return series
	}
	return ""
}

// Charts draws every chart of the report, in page order: the rule for
// which charts are included is in the package documentation. The same runs
// always give the same charts.
func Charts(runs []Run) ([]Chart, error) {
	rs, err := prepare(runs)
	if err != nil {
		return nil, err
	}
	specs, err := chartSpecs(rs)
	if err != nil {
		return nil, err
	}
	charts := make([]Chart, 0, len(specs))
	for i := range specs {
		img, height, err := drawSVG(&specs[i])
		if err != nil {
			return nil, fmt.Errorf("render chart %s: %w", specs[i].name, err)
		}
		charts = append(charts, Chart{
			Name: specs[i].name, Title: specs[i].title, Group: specs[i].group,
			Image: img, MIME: "image/svg+xml",
			Width: chartWidth, Height: height,
		})
	}
	return charts, nil
}

// chartSpecs builds the data of every chart, in page order: group by
// group, in the order of ChartGroups.
func chartSpecs(runs []run) ([]chartSpec, error) {
	var specs []chartSpec
	// Latency of messages and connections.
	if hasIntervalLatency(runs, "delivery", "ack") {
		s := seriesSpec(runs, "latency-over-time", "Latency p99 per interval", "", []seriesOf{
			{"delivery p99", intervalP("delivery", 99)},
			{"ack p99", intervalP("ack", 99)},
		})
		latencyAxis(&s, "latency p99", farApart(runs, "delivery", "ack"))
		specs = append(specs, s)
	}
	network, human := splitHuman(latencyMetrics(runs))
	for _, metric := range network {
		s, err := spectrumSpec(runs, metric)
		if err != nil {
			return nil, fmt.Errorf("render chart spectrum-%s: %w", metric, err)
		}
		specs = append(specs, s)
	}
	// Throughput and connections.
	specs = append(specs,
		seriesSpec(runs, "throughput", "Throughput over time", "messages or deliveries per second", []seriesOf{
			{"messages/s", func(p reports.Point) (float64, bool) { return p.MessagesPerS, true }},
			{"deliveries/s", func(p reports.Point) (float64, bool) { return p.DeliveriesPerS, true }},
		}),
		seriesSpec(runs, "connections", "Connections over time", "connections", []seriesOf{
			{"connections", func(p reports.Point) (float64, bool) { return float64(p.Connections), true }},
		}),
	)
	// Waiting for people.
	specs = append(specs, seriesSpec(runs, "queue", "Queue length over time", "customers waiting for an agent", []seriesOf{
		{"queue length", func(p reports.Point) (float64, bool) { return float64(p.QueueLength), true }},
	}))
	if hasIntervalLatency(runs, "queue_wait") {
		s := seriesSpec(runs, "queue-wait", "Queue wait per interval", "", []seriesOf{
			{"queue wait p50", intervalP("queue_wait", 50)},
			{"queue wait p90", intervalP("queue_wait", 90)},
		})
		latencyAxis(&s, "queue wait", farApart(runs, "queue_wait"))
		specs = append(specs, s)
	}
	for _, metric := range human {
		s, err := spectrumSpec(runs, metric)
		if err != nil {
			return nil, fmt.Errorf("render chart spectrum-%s: %w", metric, err)
		}
		specs = append(specs, s)
	}
	// Agents.
	if len(concurrencyLevels(runs)) > 0 {
		specs = append(specs, concurrencySpec(runs))
	}
	if len(replyLevels(runs)) > 0 {
		specs = append(specs, replySpec(runs))
	}
	// Errors.
	specs = append(specs, seriesSpec(runs, "errors", "Errors per interval", "errors in the interval", []seriesOf{
		{"errors", func(p reports.Point) (float64, bool) { return float64(p.Errors), true }},
	}))
	for i := range specs {
		specs[i].group = chartGroup(specs[i].name)
	}
	return specs, nil
}

// chartGroup is the id of the group a chart belongs to, by its name.
func chartGroup(name string) string {
	switch name {
	case "latency-over-time":
		return "latency"
	case "throughput", "connections":
		return "traffic"
	case "queue", "queue-wait":
		return "waits"
	case "agent-concurrency", "reply-by-concurrency":
		return "agents"
	case "errors":
		return "errors"
	}
	if metric, ok := strings.CutPrefix(name, "spectrum-"); ok && slices.Contains(humanMetrics, metric) {
		return "waits"
	}
	return "latency"
}

// spectrumSpec is the latency percentile spectrum of one metric, as
// HdrHistogram plots it: x is 1/(1-p) on a log scale, so each further nine
// of the percentile takes the same width.
func spectrumSpec(runs []run, metric string) (chartSpec, error) {
	var maxCount int64
	for _, r := range runs {
		if l, ok := r.r.Latency[metric]; ok {
			maxCount = max(maxCount, l.Count, l.Raw.Count)
		}
	}
	// The spectrum is flat beyond the percentile of the last value, 1/count
	// short of 100%, so the axis stops at the first nine past it.
	nines := int(math.Ceil(math.Log10(float64(maxCount))))
	nines = min(max(nines, 2), 6)
	s := chartSpec{
		name:   "spectrum-" + metric,
		title:  "Latency by percentile: " + metric,
		xLabel: "percentile",
		xTicks: ninesTicks{},
		xMin:   0,
		xMax:   float64(nines),
	}
	for i, r := range runs {
		l, ok := r.r.Latency[metric]
		if !ok {
			continue
		}
		for k, raw := range []bool{false, true} {
			sum := l.Summary
			kind := "corrected"
			if raw {
				sum, kind = l.Raw, "raw"
			}
			if sum.Count == 0 {
				continue
			}
			h, err := r.r.Histogram(metric, raw)
			if err != nil {
				return chartSpec{}, fmt.Errorf("run %q: %w", r.label, err)
			}
			n := nines * spectrumSteps
			pts := make(plotter.XYs, 0, n+1)
			for j := 0; j <= n; j++ {
				x := float64(j) / spectrumSteps
				p := 100 * (1 - math.Pow(10, -x))
				if j == n {
					p = 100
				}
				pts = append(pts, plotter.XY{X: x, Y: float64(h.ValueAtPercentile(p)) / 1e6})
			}
			s.lines = append(s.lines, lineSpec{
				legend: entry(runs, i, kind, 2),
				color:  runColor(i),
				dashes: dashes[k],
				pts:    pts,
			})
		}
	}
	latencyAxis(&s, "latency", farApart(runs, metric))
	return s, nil
}

// ninesTicks labels the spectrum's x axis, where x is log10(1/(1-p)):
// 0%, 90%, 99%, 99.9%, ... at the integers.
type ninesTicks struct{}

// Ticks implements plot.Ticker.
func (ninesTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i := int(math.Ceil(lo)); float64(i) <= hi; i++ {
		ts = append(ts, plot.Tick{Value: float64(i), Label: ninesLabel(i)})
		// Minor ticks at 2..9 times 1/(1-p) within the decade.
		for m := 2; m < 10; m++ {
			if x := float64(i) + math.Log10(float64(m)); x <= hi {
				ts = append(ts, plot.Tick{Value: x})
			}
		}
	}
	return ts
}

// ninesLabel is the percentile at which 1/(1-p) is 10^i.
func ninesLabel(i int) string {
	switch {
	case i <= 0:
		return "0%"
	case i == 1:
		return "90%"
	case i == 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", i-2) + "%"
}

// seriesOf is one value read from each point of a time series; ok false
// skips the point.
type seriesOf struct {
	name  string
	value func(reports.Point) (float64, bool)
}

// intervalP reads the given percentile (50, 90 or 99) of a metric's
// interval latency, skipping intervals where it recorded nothing.
func intervalP(metric string, pct int) func(reports.Point) (float64, bool) {
	return func(p reports.Point) (float64, bool) {
		l, ok := p.Latency[metric]
		if !ok || l.Count == 0 {
			return 0, false
		}
		switch pct {
		case 50:
			return l.P50Ms, true
		case 90:
			return l.P90Ms, true
		default:
			return l.P99Ms, true
		}
	}
}

// hasIntervalLatency reports whether any run recorded any of the metrics
// in any interval.
func hasIntervalLatency(runs []run, metrics ...string) bool {
	for _, r := range runs {
		for _, p := range r.r.Series {
			for _, m := range metrics {
				if l, ok := p.Latency[m]; ok && l.Count > 0 {
					return true
				}
			}
		}
	}
	return false
}

// seriesSpec plots values of the time series against the end of their
// interval, in scenario time (timeAxis): one colour per run, one line
// style per value.
func seriesSpec(runs []run, name, title, yLabel string, of []seriesOf) chartSpec {
	s := chartSpec{name: name, title: title, yLabel: yLabel}
	var maxS float64
	for _, r := range runs {
		for _, p := range r.r.Series {
			if finite(p.EndS) {
				maxS = max(maxS, p.EndS)
			}
		}
	}
	var perUnit float64
	s.xLabel, perUnit = timeAxis(runs, maxS)
	s.xMax = maxS / perUnit
	for i, r := range runs {
		for k, o := range of {
			var pts plotter.XYs
			for _, p := range r.r.Series {
				if v, ok := o.value(p); ok && finite(v) && finite(p.EndS) {
					pts = append(pts, plotter.XY{X: p.EndS / perUnit, Y: v})
				}
			}
			if len(pts) == 0 {
				continue
			}
			s.lines = append(s.lines, lineSpec{
				legend: entry(runs, i, o.name, len(of)),
				color:  runColor(i),
				dashes: dashes[k%len(dashes)],
				glyphs: len(pts) <= 60,
				pts:    pts,
			})
		}
	}
	return s
}

// concurrencySpec is the time-weighted distribution of concurrent chats,
// as bars grouped by run.
func concurrencySpec(runs []run) chartSpec {
	s := chartSpec{
		name: "agent-concurrency", title: "Agent time by concurrent chats",
		xLabel: "concurrent chats", yLabel: "share of agents' online time (%)",
		xTicks: intTicks{},
	}
	levels := concurrencyLevels(runs)
	s.xMin, s.xMax = float64(levels[0])-0.5, float64(levels[len(levels)-1])+0.5
	width := 0.8 / float64(len(runs))
	for i, r := range runs {
		b := barSpec{
			legend: entry(runs, i, "share", 1),
			color:  runColor(i),
			offset: -0.4 + width*(float64(i)+0.5),
			width:  width,
		}
		for _, lv := range r.r.Agents.Concurrency {
			if finite(lv.Share) {
				b.x = append(b.x, float64(lv.Chats))
				b.y = append(b.y, 100*lv.Share)
			}
		}
		s.bars = append(s.bars, b)
	}
	return s
}

// replySpec is agent reply latency against the agent's concurrency.
func replySpec(runs []run) chartSpec {
	s := chartSpec{
		name: "reply-by-concurrency", title: "Agent reply latency by concurrent chats",
		xLabel: "concurrent chats",
		xTicks: intTicks{},
	}
	levels := replyLevels(runs)
	s.xMin, s.xMax = float64(levels[0])-0.5, float64(levels[len(levels)-1])+0.5
	for i, r := range runs {
		var p50, p90 plotter.XYs
		for _, lv := range r.r.Agents.Reply {
			if lv.Count > 0 {
				p50 = append(p50, plotter.XY{X: float64(lv.Chats), Y: lv.P50Ms})
				p90 = append(p90, plotter.XY{X: float64(lv.Chats), Y: lv.P90Ms})
			}
		}
		if len(p50) == 0 {
			continue
		}
		s.lines = append(s.lines,
			lineSpec{legend: entry(runs, i, "p50", 2), color: runColor(i), dashes: dashes[0], glyphs: true, pts: p50},
			lineSpec{legend: entry(runs, i, "p90", 2), color: runColor(i), dashes: dashes[1], glyphs: true, pts: p90},
		)
	}
	latencyAxis(&s, "reply latency", farApart(runs, "agent_reply"))
	return s
}

// intTicks puts ticks on whole numbers, at most about 20 of them.
type intTicks struct{}

// Ticks implements plot.Ticker.
func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, (last-first+19)/20)
	var ts []plot.Tick
	for v := first; v <= last; v++ {
		t := plot.Tick{Value: float64(v)}
		if (v-first)%step == 0 {
			t.Label = strconv.Itoa(v)
		}
		ts = append(ts, t)
	}
	return ts
}

// groupedTicks are gonum's default ticks with thousands separators, and
// without decimals when every label's are zeros.
type groupedTicks struct{}

// Ticks implements plot.Ticker.
func (groupedTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	whole := true
	for _, t := range ts {
		if _, frac, ok := strings.Cut(t.Label, "."); ok && strings.Trim(frac, "0") != "" {
			whole = false
		}
	}
	for i := range ts {
		label := ts[i].Label
		intPart, frac, _ := strings.Cut(strings.TrimPrefix(label, "-"), ".")
		if !isDigits(intPart) || (frac != "" && !isDigits(frac)) {
			continue // an exponent, or empty
		}
		if whole {
			label, _, _ = strings.Cut(label, ".")
		}
		ts[i].Label = group(label)
	}
	return ts
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// truncate shortens s to at most n characters.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// splitHuman splits metric names into the network's and the human-scale
// ones (humanMetrics), keeping their order.
func splitHuman(metrics []string) (network, human []string) {
	for _, m := range metrics {
		if slices.Contains(humanMetrics, m) {
			human = append(human, m)
		} else {
			network = append(network, m)
		}
	}
	return network, human
}

// legendEntry is one entry of a chart's legend.
type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

// drawSVG draws a chart as an SVG image, chartWidth wide, with its legend,
// if any, in columns under the plot, and returns the image and its height.
func drawSVG(s *chartSpec) (img []byte, height int, err error) {
	// gonum/plot panics on some bad input rather than returning an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("draw: %v", p)
		}
	}()
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = s.xLabel, s.yLabel
	p.X.Label.TextStyle.Font = sans(13)
	p.Y.Label.TextStyle.Font = sans(13)
	p.X.Tick.Label.Font = sans(12)
	p.Y.Tick.Label.Font = sans(12)
	p.Y.Tick.Marker = groupedTicks{}
	if s.yTicks != nil {
		p.Y.Tick.Marker = s.yTicks
	}
	if s.xTicks != nil {
		p.X.Tick.Marker = s.xTicks
	}
	p.Add(plotter.NewGrid())

	var entries []legendEntry
	addEntry := func(text string, thumbs ...plot.Thumbnailer) {
		if text != "" {
			entries = append(entries, legendEntry{truncate(text, maxLegend), thumbs})
		}
	}
	for _, b := range s.bars {
		gb := &groupedBars{spec: b}
		p.Add(gb)
		addEntry(b.legend, gb)
	}
	for _, l := range s.lines {
		line, err := plotter.NewLine(l.pts)
		if err != nil {
			return nil, 0, err
		}
		line.Color = l.color
		line.Width = vg.Points(1.5)
		line.Dashes = l.dashes
		p.Add(line)
		thumbs := []plot.Thumbnailer{line}
		if l.glyphs {
			sc, err := plotter.NewScatter(l.pts)
			if err != nil {
				return nil, 0, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: l.color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		addEntry(l.legend, thumbs...)
	}

	if s.xMax > s.xMin {
		p.X.Min, p.X.Max = s.xMin, s.xMax
	}
	if !(p.X.Max > p.X.Min) {
		p.X.Min, p.X.Max = 0, 1
	}
	if s.yLog {
		// The values are log10s: from the floor to the power of ten
		// above the highest, which is labelled.
		p.Y.Min = s.yMin
		p.Y.Max = max(math.Ceil(p.Y.Max+0.05), s.yMin+1)
	} else {
		// Every chart's quantity is zero or more: start the y axis at
		// zero, and give an empty chart a range to draw.
		p.Y.Min = 0
		if p.Y.Max > 0 {
			p.Y.Max *= 1.05 // headroom, so the highest point is not on the frame
		} else {
			p.Y.Max = 1
		}
	}

	const margin = vg.Length(8)
	legend, legendHeight := legendColumns(entries, chartWidth-2*margin)
	height = plotHeight
	if legendHeight > 0 {
		height += int(math.Ceil(float64(legendHeight + margin)))
	}
	c := newSVGCanvas(chartWidth, vg.Length(height))
	dc := draw.Crop(draw.New(c), margin, -margin, margin, -margin)
	if legendHeight > 0 {
		p.Draw(draw.Crop(dc, 0, 0, legendHeight+margin, 0))
		legend(draw.Crop(dc, 0, 0, 0, -(dc.Size().Y - legendHeight)))
	} else {
		p.Draw(dc)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), height, nil
}

// legendColumns lays the entries out in as many columns of equal width as
// fit in width, filled top to bottom, and returns a function drawing them
// into a canvas and the height they take; 0 for no entries.
func legendColumns(entries []legendEntry, width vg.Length) (func(draw.Canvas), vg.Length) {
	if len(entries) == 0 {
		return nil, 0
	}
	newLegend := func() plot.Legend {
		l := plot.NewLegend()
		l.Top, l.Left = true, true
		l.TextStyle.Font = sans(13)
		l.Padding = vg.Points(3)
		return l
	}
	probe := newLegend()
	const gap = vg.Length(24)
	var colWidth vg.Length
	for _, e := range entries {
		colWidth = max(colWidth, probe.ThumbnailWidth+probe.TextStyle.Rectangle(" "+e.text).Max.X+gap)
	}
	cols := max(1, min(len(entries), int(width/colWidth)))
	rows := (len(entries) + cols - 1) / cols
	// Balance the columns: as few as hold the rows.
	cols = (len(entries) + rows - 1) / rows
	legends := make([]plot.Legend, cols)
	for i := range legends {
		legends[i] = newLegend()
	}
	for i, e := range entries {
		legends[i/rows].Add(e.text, e.thumbs...)
	}
	height := legends[0].Rectangle(draw.Canvas{}).Size().Y
	return func(c draw.Canvas) {
		for i := range legends {
			x := vg.Length(i) * colWidth
			legends[i].Draw(draw.Crop(c, x, -(c.Size().X - x - colWidth + gap), 0, 0))
		}
	}, height
}

// sans is the charts' font: Liberation Sans, which gonum/plot carries
// built in, so drawing needs no font from the system.
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// groupedBars draws one run's bars of a grouped bar chart, in data units
// (plotter.BarChart sizes its bars in canvas units instead).
type groupedBars struct{ spec barSpec }

// Plot implements plot.Plotter.
func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, x := range g.spec.x {
		x0 := x + g.spec.offset - g.spec.width/2
		x1 := x0 + g.spec.width
		pts := []vg.Point{
			{X: trX(x0), Y: trY(0)}, {X: trX(x1), Y: trY(0)},
			{X: trX(x1), Y: trY(g.spec.y[i])}, {X: trX(x0), Y: trY(g.spec.y[i])},
		}
		c.FillPolygon(g.spec.color, c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i, x := range g.spec.x {
		xmin = min(xmin, x+g.spec.offset-g.spec.width/2)
		xmax = max(xmax, x+g.spec.offset+g.spec.width/2)
		ymax = max(ymax, g.spec.y[i])
	}
	if len(g.spec.x) == 0 {
		xmin, xmax = 0, 0
	}
	return xmin, xmax, 0, ymax
}

// Thumbnail implements plot.Thumbnailer.
func (g *groupedBars) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(g.spec.color, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}
