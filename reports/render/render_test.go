package render

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"html"
	"image/color"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/swarmdesk/swarmdesk/reports"
)

// smokeCharts are the charts of the smoke fixture, in page order: group
// by group.
var smokeCharts = []string{
	// latency
	"latency-over-time",
	"spectrum-ack",
	"spectrum-bot",
	"spectrum-broadcast",
	"spectrum-connect",
	"spectrum-delivery",
	"spectrum-hello",
	"spectrum-menu",
	"spectrum-resume",
	// traffic
	"throughput",
	"connections",
	// waits
	"queue",
	"queue-wait",
	"spectrum-agent_reply",
	"spectrum-first_reply",
	"spectrum-queue_wait",
	"spectrum-session",
	// agents
	"agent-concurrency",
	"reply-by-concurrency",
	// errors
	"errors",
}

// smokeGroups are the groups of smokeCharts, in the same order.
var smokeGroups = []string{
	"latency", "latency", "latency", "latency", "latency", "latency", "latency", "latency", "latency",
	"traffic", "traffic",
	"waits", "waits", "waits", "waits", "waits", "waits",
	"agents", "agents",
	"errors",
}

// loadSmoke reads a fresh copy of the smoke fixture, which the caller may
// change.
func loadSmoke(t testing.TB) *reports.Result {
	t.Helper()
	f, err := os.Open("testdata/smoke.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := reports.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// perturbed is a second run for overlays: the smoke fixture, invalid, with
// an objective failed and some errors.
func perturbed(t testing.TB) *reports.Result {
	r := loadSmoke(t)
	r.Valid = false
	r.InvalidReasons = []string{"generator fell behind: 3% of actions late"}
	for i := range r.Objectives {
		if r.Objectives[i].Expression == "delivery.p99 < 50ms" {
			r.Objectives[i].Value, r.Objectives[i].Pass = 61.5, false
		}
	}
	r.Errors = map[string]int64{"110": 3, "connect": 1}
	for i := range r.Series {
		r.Series[i].MessagesPerS *= 2
		r.Series[i].Connections += 5
	}
	return r
}

func chartNames(cs []Chart) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

func TestChartsSmoke(t *testing.T) {
	charts, err := Charts([]Run{{Label: "smoke", Result: loadSmoke(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := chartNames(charts); !slices.Equal(got, smokeCharts) {
		t.Fatalf("chart names:\n got %q\nwant %q", got, smokeCharts)
	}
	for i, c := range charts {
		t.Run(c.Name, func(t *testing.T) {
			if c.Title == "" {
				t.Error("no title")
			}
			if c.Group != smokeGroups[i] {
				t.Errorf("group %q, want %q", c.Group, smokeGroups[i])
			}
			if c.MIME != "image/svg+xml" {
				t.Fatalf("MIME %q, want image/svg+xml", c.MIME)
			}
			// The plot, and the legend under it when there is one.
			if c.Width != chartWidth || c.Height < plotHeight || c.Height > plotHeight+60 {
				t.Errorf("size %dx%d, want %d wide and %d to %d high", c.Width, c.Height, chartWidth, plotHeight, plotHeight+60)
			}
			svg := parseSVG(t, c.Image)
			if svg.width != strconv.Itoa(c.Width) || svg.height != strconv.Itoa(c.Height) {
				t.Errorf("svg size %sx%s, want %dx%d", svg.width, svg.height, c.Width, c.Height)
			}
			// Non-trivial: the run's data is drawn in its colour, with
			// text, and the frame colour is not used.
			if svg.counts["path"] < 20 || svg.counts["use"] < 20 {
				t.Errorf("%d paths, %d glyphs: want a drawn chart", svg.counts["path"], svg.counts["use"])
			}
			if !svg.colors[hexColor(runColor(0))] {
				t.Errorf("run colour %s not drawn (colours %v)", hexColor(runColor(0)), svg.colors)
			}
			if svg.colors[hexColor(FrameColor)] {
				t.Error("FrameColor used in the chart")
			}
			for _, ref := range svg.refs {
				if !strings.HasPrefix(ref, "#") {
					t.Errorf("reference %q outside the image", ref)
				}
			}
		})
	}
}

// svgDoc is what a test checks of an SVG image.
type svgDoc struct {
	width, height string
	// counts counts elements by name.
	counts map[string]int
	// colors are the fill and stroke colours used.
	colors map[string]bool
	// labels are the aria-labels, the text drawn.
	labels []string
	// refs are the href attributes.
	refs []string
}

// parseSVG parses an image as XML and collects what the tests check.
func parseSVG(t *testing.T, img []byte) svgDoc {
	t.Helper()
	doc := svgDoc{counts: map[string]int{}, colors: map[string]bool{}}
	dec := xml.NewDecoder(bytes.NewReader(img))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse svg: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %v, want svg", tok.Name)
				}
			}
			depth++
			doc.counts[tok.Name.Local]++
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "width":
					if depth == 1 {
						doc.width = a.Value
					}
				case "height":
					if depth == 1 {
						doc.height = a.Value
					}
				case "fill", "stroke":
					doc.colors[a.Value] = true
				case "aria-label":
					doc.labels = append(doc.labels, a.Value)
				case "href":
					doc.refs = append(doc.refs, a.Value)
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Fatalf("svg ends at depth %d", depth)
	}
	return doc
}

func TestChartSelection(t *testing.T) {
	// without drops the named charts from smokeCharts.
	without := func(names ...string) []string {
		return slices.DeleteFunc(slices.Clone(smokeCharts), func(n string) bool { return slices.Contains(names, n) })
	}
	tests := []struct {
		name   string
		change func(*reports.Result)
		want   []string
	}{
		{"smoke", func(*reports.Result) {}, smokeCharts},
		{"no interval latencies", func(r *reports.Result) {
			for i := range r.Series {
				r.Series[i].Latency = nil
			}
		}, without("latency-over-time", "queue-wait")},
		{"no queue wait intervals", func(r *reports.Result) {
			for i := range r.Series {
				delete(r.Series[i].Latency, "queue_wait")
			}
		}, without("queue-wait")},
		{"no agents, no series", func(r *reports.Result) {
			r.Agents = reports.Agents{}
			r.Series = nil
		}, without("latency-over-time", "queue-wait", "agent-concurrency", "reply-by-concurrency")},
		{"empty metrics left out", func(r *reports.Result) {
			for name, l := range r.Latency {
				if name != "delivery" && name != "session" {
					l.Count, l.Raw.Count = 0, 0
					r.Latency[name] = l
				}
			}
		}, without("spectrum-ack", "spectrum-bot", "spectrum-broadcast", "spectrum-connect", "spectrum-hello", "spectrum-menu",
			"spectrum-resume", "spectrum-agent_reply", "spectrum-first_reply", "spectrum-queue_wait")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := loadSmoke(t)
			tt.change(r)
			rs, err := prepare([]Run{{Label: "x", Result: r}})
			if err != nil {
				t.Fatal(err)
			}
			specs, err := chartSpecs(rs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range specs {
				got = append(got, s.name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("charts:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestChartLegends(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		// wantLegend lists the charts that have a legend.
		wantLegend func(chart string) bool
	}{
		{"one run", []string{"baseline"}, func(chart string) bool {
			// Only charts with several series per run need one.
			return strings.HasPrefix(chart, "spectrum-") || slices.Contains(
				[]string{"throughput", "latency-over-time", "queue-wait", "reply-by-concurrency"}, chart)
		}},
		{"two runs", []string{"baseline", "tuned"}, func(string) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs []run
			for i, l := range tt.labels {
				r := loadSmoke(t)
				if i > 0 {
					r = perturbed(t)
				}
				runs = append(runs, run{label: l, r: r})
			}
			specs, err := chartSpecs(runs)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range specs {
				legends := s.legends()
				if !tt.wantLegend(s.name) {
					if len(legends) != 0 {
						t.Errorf("%s: legend %q, want none", s.name, legends)
					}
					continue
				}
				if len(legends) == 0 {
					t.Errorf("%s: no legend", s.name)
				}
				if len(tt.labels) < 2 {
					continue
				}
				for _, l := range tt.labels {
					if !slices.ContainsFunc(legends, func(e string) bool { return strings.HasPrefix(e, l) }) {
						t.Errorf("%s: legend %q does not name run %q", s.name, legends, l)
					}
				}
			}
		})
	}
}

func TestSpectrum(t *testing.T) {
	r := loadSmoke(t)
	s, err := spectrumSpec([]run{{label: "smoke", r: r}}, "delivery")
	if err != nil {
		t.Fatal(err)
	}
	// 197 values: flat past 99.9%, so the axis ends there.
	if s.xMin != 0 || s.xMax != 3 {
		t.Errorf("x range [%g, %g], want [0, 3]", s.xMin, s.xMax)
	}
	if len(s.lines) != 2 {
		t.Fatalf("%d lines, want corrected and raw", len(s.lines))
	}
	for i, want := range []struct {
		legend string
		dashed bool
		sum    reports.Summary
	}{{"corrected", false, r.Latency["delivery"].Summary}, {"raw", true, r.Latency["delivery"].Raw}} {
		l := s.lines[i]
		if l.legend != want.legend || (l.dashes != nil) != want.dashed {
			t.Errorf("line %d: legend %q dashed %v, want %q %v", i, l.legend, l.dashes != nil, want.legend, want.dashed)
		}
		if l.color != s.lines[0].color {
			t.Errorf("line %d: colour %v, want the run's %v", i, l.color, s.lines[0].color)
		}
		last := l.pts[len(l.pts)-1]
		if last.X != 3 || last.Y != want.sum.MaxMs {
			t.Errorf("%s: last point %v, want (3, max %g)", want.legend, last, want.sum.MaxMs)
		}
		// x = 1 is the 90th percentile, x = 2 the 99th.
		for _, p := range []struct{ x, want float64 }{{1, want.sum.P90Ms}, {2, want.sum.P99Ms}} {
			got := l.pts[int(p.x*spectrumSteps)]
			if got.X != p.x || got.Y != p.want {
				t.Errorf("%s: point %v, want (%g, %g)", want.legend, got, p.x, p.want)
			}
		}
		if !slices.IsSortedFunc(l.pts, func(a, b plotter.XY) int { return cmp.Compare(a.Y, b.Y) }) {
			t.Errorf("%s: spectrum not monotonic", want.legend)
		}
	}
	var labels []string
	for _, tick := range (ninesTicks{}).Ticks(0, 5) {
		if tick.Label != "" {
			labels = append(labels, tick.Label)
		}
	}
	if want := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"}; !slices.Equal(labels, want) {
		t.Errorf("tick labels %q, want %q", labels, want)
	}
}

var (
	figureRE = regexp.MustCompile(`<figure class="chart" id="chart-([^"]+)">\s*<figcaption>[^<]*</figcaption>\s*<img src="data:([^;"]+);base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)"`)
	// externalRE finds any attribute or CSS that would fetch something.
	externalRE = regexp.MustCompile(`(?i)(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import`)
)

func TestHTML(t *testing.T) {
	hostile := `<script>alert("x")</script>`
	runs := []Run{
		{Label: hostile, Result: loadSmoke(t)},
		{Label: "b&w", Result: perturbed(t)},
	}
	var buf bytes.Buffer
	if err := HTML(&buf, runs); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	charts, err := Charts(runs)
	if err != nil {
		t.Fatal(err)
	}

	if n := strings.Count(page, `<figure class="chart"`); n != len(charts) {
		t.Errorf("%d chart figures, want %d", n, len(charts))
	}
	figs := figureRE.FindAllStringSubmatch(page, -1)
	if len(figs) != len(charts) {
		t.Fatalf("%d figures with an embedded image, want %d", len(figs), len(charts))
	}
	for i, f := range figs {
		c := charts[i]
		if f[1] != c.Name || html.UnescapeString(f[2]) != c.MIME || f[4] != strconv.Itoa(c.Width) || f[5] != strconv.Itoa(c.Height) {
			t.Errorf("figure %d: id %q, %s, %sx%s; want %q, %s, %dx%d", i, f[1], f[2], f[4], f[5], c.Name, c.MIME, c.Width, c.Height)
		}
		img, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil {
			t.Fatalf("figure %s: %v", f[1], err)
		}
		// The page draws exactly what Charts returns: same bytes, which
		// also shows that drawing is deterministic.
		if !bytes.Equal(img, c.Image) {
			t.Errorf("figure %s: image differs from Charts'", f[1])
		}
		// Overlaid runs: the legend names both.
		labels := parseSVG(t, img).labels
		for _, run := range runs {
			if !slices.ContainsFunc(labels, func(l string) bool { return strings.HasPrefix(l, run.Label) }) {
				t.Errorf("figure %s: no legend for run %q among %q", f[1], run.Label, labels)
			}
		}
	}

	for _, bad := range []string{"<script", "http://", "https://", "<link", "<iframe", "<object"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if m := externalRE.FindString(page); m != "" {
		t.Errorf("page fetches something: %q", m)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("hostile label not escaped")
	}
	if !strings.Contains(page, "b&amp;w") {
		t.Error("label b&w not escaped")
	}

	// FrameColor styles the charts' frames and nothing else.
	frame := hexColor(FrameColor)
	if n := strings.Count(strings.ToLower(page), frame); n != 1 {
		t.Errorf("FrameColor %s appears %d times, want once", frame, n)
	}
	if !strings.Contains(page, "figure.chart{margin:0;padding:8px 10px 6px;border:1px solid "+frame+";") {
		t.Error("no frame rule for figure.chart")
	}
	// No alarm colour: the frame is a quiet grey-blue.
	if r, g, b := int(FrameColor.R), int(FrameColor.G), int(FrameColor.B); max(r, g, b)-min(r, g, b) > 24 || min(r, g, b) < 0xb0 {
		t.Errorf("FrameColor %s is not a light grey", frame)
	}

	for _, want := range []string{
		// the objectives side by side, verdict and value with its unit
		`<td class="fail">FAIL 61.5ms</td>`, `<td class="pass">PASS 7.18ms</td>`,
		`<td class="pass">9 pass</td>`, `<td class="fail">8 pass, 1 fail</td>`,
		"invalid: generator fell behind: 3% of actions late",
		"<figcaption>Latency by percentile: delivery</figcaption>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Sections in order: contents, runs, objectives, summary, charts, and
	// the chart groups in the order of ChartGroups.
	order := []string{`id="contents"`, `id="runs"`, `id="objectives"`, `id="summary"`, `id="charts"`}
	for _, g := range ChartGroups {
		order = append(order, `id="charts-`+g.ID+`"`)
	}
	last := -1
	for _, id := range order {
		i := strings.Index(page, id)
		if i <= last {
			t.Errorf("section %s missing or out of order", id)
		}
		last = i
	}
	// Each chart stands in its group's grid.
	for _, g := range ChartGroups {
		start := strings.Index(page, `<section class="group" id="charts-`+g.ID+`">`)
		end := start + strings.Index(page[start:], "</section>")
		for _, c := range charts {
			if in := strings.Contains(page[start:end], `id="chart-`+c.Name+`"`); in != (c.Group == g.ID) {
				t.Errorf("chart %s (group %s) in group %s: %v", c.Name, c.Group, g.ID, in)
			}
		}
	}
	checkContents(t, page)
}

var (
	contentsRE = regexp.MustCompile(`(?s)<nav class="contents" id="contents">(.*?)</nav>`)
	hrefRE     = regexp.MustCompile(`href="#([^"]+)"`)
	idRE       = regexp.MustCompile(` id="([^"]+)"`)
)

// checkContents checks the page's contents list: every link leads to an
// element of the page, every section and chart group is listed, and the
// links are in page order.
func checkContents(t *testing.T, page string) {
	t.Helper()
	nav := contentsRE.FindStringSubmatch(page)
	if nav == nil {
		t.Fatal("no contents list")
	}
	pos := map[string]int{}
	for _, m := range idRE.FindAllStringSubmatchIndex(page, -1) {
		id := page[m[2]:m[3]]
		if _, dup := pos[id]; dup {
			t.Errorf("id %q used twice", id)
		}
		pos[id] = m[0]
	}
	var links []string
	for _, m := range hrefRE.FindAllStringSubmatch(nav[1], -1) {
		links = append(links, m[1])
	}
	last := -1
	for _, l := range links {
		p, ok := pos[l]
		if !ok {
			t.Errorf("contents link #%s leads nowhere", l)
			continue
		}
		if p < last {
			t.Errorf("contents link #%s out of page order", l)
		}
		last = p
	}
	for id := range pos {
		if (strings.HasPrefix(id, "charts-") || slices.Contains([]string{"runs", "objectives", "summary", "charts", "summary-latency"}, id)) &&
			!slices.Contains(links, id) {
			t.Errorf("section %s not in the contents (links %q)", id, links)
		}
	}
}

func TestMarkdown(t *testing.T) {
	runs := []Run{
		{Label: "base|line", Result: loadSmoke(t)},
		{Label: "tuned", Result: perturbed(t)},
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, runs); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"# swarmdesk report: base\\|line, tuned\n",
		// objectives of both runs, side by side
		"| Objective | base\\|line | tuned |\n",
		"| delivery.p99 < 50ms | ✅ PASS 7.18ms | ❌ FAIL 61.5ms |\n",
		"| lost == 0 | ✅ PASS 0 | ✅ PASS 0 |\n",
		"| ❌ 8 pass, 1 fail | ❌ invalid: generator fell behind: 3% of actions late |\n",
		// latency rows of both runs, at a human scale
		"| Metric | Run | Count | p50 | p90 | p99 | p99.9 | max | raw p99 | raw max |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		"| delivery | base\\|line | 197 | 0.894ms | 1.36ms | 7.18ms | 10.2ms | 10.2ms | 0.708ms | 4.49ms |\n",
		"### Waiting for people\n",
		"| queue_wait | tuned | 29 | 3.43ms | 2.27s | 11.3s | 11.3s | 11.3s | 11.3s | 11.3s |\n",
		// accounting, errors, resources, agents
		"| base\\|line | 341 | 197 | 0 | 0 | 0 | 0 | 0 |\n",
		"| 110 | 0 | **3** |\n",
		"| ❌ invalid: generator fell behind: 3% of actions late |\n",
		"| 3 | 15.2% | 15.2% |\n",
		"| 2 | tuned | 31 |",
		// the condensed time series
		"## Time series\n",
		"| 414 | 0.208 | 0.208 | 5 | 0 | 0 | 1.38ms |\n",
		"| 414 | 0.417 | 0.208 | 10 | 0 | 0 | 1.38ms |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, bad := range []string{"<img", "![", "data:image"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown contains %q", bad)
		}
	}
}

func TestSeriesCondensed(t *testing.T) {
	r := loadSmoke(t)
	long := slices.Clone(r.Series)
	for len(long) < 100 {
		long = append(long, r.Series...)
	}
	r.Series = long
	var buf bytes.Buffer
	if err := Markdown(&buf, []Run{{Label: "long", Result: r}}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	i := strings.Index(md, "## Time series")
	if i < 0 {
		t.Fatal("no time series")
	}
	rows := 0
	for _, line := range strings.Split(md[i:], "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| End") {
			rows++
		}
	}
	if rows != maxSeriesRows {
		t.Errorf("%d time series rows, want %d", rows, maxSeriesRows)
	}
}

func TestNoRuns(t *testing.T) {
	for _, runs := range [][]Run{nil, {}, {{Label: "nil result"}}} {
		if _, err := Charts(runs); err == nil {
			t.Errorf("Charts(%v): no error", runs)
		}
		if err := HTML(&bytes.Buffer{}, runs); err == nil {
			t.Errorf("HTML(%v): no error", runs)
		}
		if err := Markdown(&bytes.Buffer{}, runs); err == nil {
			t.Errorf("Markdown(%v): no error", runs)
		}
	}
}

func TestBadHistogram(t *testing.T) {
	r := loadSmoke(t)
	l := r.Latency["delivery"]
	l.Histogram = "HISTFAAAA-broken"
	r.Latency["delivery"] = l
	_, err := Charts([]Run{{Result: r}})
	if err == nil || !strings.HasPrefix(err.Error(), `render chart spectrum-delivery: run "run 1": corrected histogram "delivery": decode histogram:`) {
		t.Errorf("error %v, want one naming the chart and the run", err)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtSig(0, 3), "0"},
		{fmtSig(0.000511, 3), "0.000511"},
		{fmtSig(0.8939, 3), "0.894"},
		{fmtSig(25, 3), "25.0"},
		{fmtSig(225486.2, 3), "225,486"},
		{fmtCount(1255664), "1,255,664"},
		{fmtCount(-1234), "-1,234"},
		{fmtCount(999), "999"},
		{fmtBytes(900), "900 B"},
		{fmtBytes(41943040), "40.0 MiB"},
		{fmtPercent(0.011641305953612055), "1.16%"},
		{fmtSeconds(414.04), "414 s (6m54s)"},
		{objectiveUnit("delivery.p99 < 50ms"), "ms"},
		{objectiveUnit("queue_wait.mean < 1m"), "ms"},
		{objectiveUnit("abandoned.ratio < 5%"), "ratio"},
		{objectiveUnit("lost == 0"), ""},
		{objectiveUnit("errors == 0"), ""},
		{ninesLabel(4), "99.99%"},
		{mdEscape("queue_wait < 50ms | <b>x</b> &amp; _y_"), `queue_wait < 50ms \| &lt;b>x&lt;/b> &amp;amp; \_y\_`},
		{hexColor(color.RGBA{0xc2, 0x18, 0x5b, 0xff}), "#c2185b"},
		{truncate("abcdef", 4), "abc…"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSampleIndexes(t *testing.T) {
	tests := []struct {
		n, max int
		want   []int
	}{
		{0, 20, []int{}},
		{3, 20, []int{0, 1, 2}},
		{20, 20, nil},
		{21, 5, []int{0, 5, 10, 15, 20}},
		{687, 20, nil},
	}
	for _, tt := range tests {
		got := sampleIndexes(tt.n, tt.max)
		if tt.want != nil && !slices.Equal(got, tt.want) {
			t.Errorf("sampleIndexes(%d, %d) = %v, want %v", tt.n, tt.max, got, tt.want)
		}
		if len(got) != min(tt.n, tt.max) || (tt.n > 0 && (got[0] != 0 || got[len(got)-1] != tt.n-1)) || !slices.IsSorted(got) {
			t.Errorf("sampleIndexes(%d, %d) = %v: want %d sorted indexes from first to last", tt.n, tt.max, got, min(tt.n, tt.max))
		}
	}
}

func BenchmarkHTML(b *testing.B) {
	runs := []Run{{Label: "smoke", Result: loadSmoke(b)}}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := HTML(&buf, runs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func TestGroupedTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{0, 80000, []string{"0", "40,000", "80,000"}},
		{0, 52, []string{"0", "25", "50"}},
		{0, 1.2, []string{"0.0", "0.5", "1.0"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tick := range (groupedTicks{}).Ticks(tt.lo, tt.hi) {
			if tick.Label != "" {
				got = append(got, tick.Label)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ticks of [%g, %g]: %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}
