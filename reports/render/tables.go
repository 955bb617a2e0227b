package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmdesk/swarmdesk/reports"
)

// The page's content is built once as sections of tables, which HTML and
// Markdown then lay out in their own way, so both show the same figures.

// section is one headed part of the report.
type section struct {
	id, title string
	blocks    []block
}

// block is a table under an optional subheading, with an optional note
// before it, or a note alone when the table would be empty. A block with a
// title has an id, the anchor the page's contents link to.
type block struct {
	id, title string
	note      string
	table     *table
}

// table is a table of preformatted cells.
type table struct {
	head []string
	// num marks the columns that hold numbers, aligned right.
	num  []bool
	rows [][]cell
}

// cell is one formatted table cell; kind styles it.
type cell struct {
	text string
	kind cellKind
}

// cellKind says how a cell is styled; the zero kind is a plain cell.
type cellKind int

const (
	// pass and fail mark an objective's verdict or a run's validity.
	pass cellKind = iota + 1
	fail
	// noData marks an objective that could not be judged for want of
	// data, which fails too.
	noData
	// bad marks a figure that should be zero and is not.
	bad
)

// class is the HTML class of a cell kind.
func (k cellKind) class() string {
	switch k {
	case pass:
		return "pass"
	case fail:
		return "fail"
	case noData:
		return "nodata"
	case bad:
		return "bad"
	}
	return ""
}

// newTable returns a table with the given head; a head starting with "#"
// is a numeric column (the "#" is dropped).
func newTable(head ...string) *table {
	t := &table{head: make([]string, len(head)), num: make([]bool, len(head))}
	for i, h := range head {
		if rest, ok := strings.CutPrefix(h, "#"); ok {
			t.num[i], h = true, rest
		}
		t.head[i] = h
	}
	return t
}

// add appends a row of plain cells.
func (t *table) add(texts ...string) {
	row := make([]cell, len(texts))
	for i, s := range texts {
		row[i] = cell{text: s}
	}
	t.rows = append(t.rows, row)
}

// addCells appends a row.
func (t *table) addCells(cells ...cell) {
	t.rows = append(t.rows, cells)
}

// sections builds the report's sections in page order; withSeries adds
// the condensed time series, for reports without charts.
func sections(runs []run, withSeries bool) []section {
	out := []section{
		{id: "runs", title: "Runs", blocks: []block{{table: runsTable(runs)}}},
		{id: "objectives", title: "Objectives", blocks: []block{objectivesBlock(runs)}},
		{id: "summary", title: "Summary", blocks: summaryBlocks(runs)},
	}
	if withSeries {
		out = append(out, section{id: "series", title: "Time series", blocks: seriesBlocks(runs)})
	}
	return out
}

func runsTable(runs []run) *table {
	t := newTable("Run", "Scenario", "#Seed", "Start", "#Wall time", "#Scenario time", "Target", "Machine", "Tool version", "Objectives", "Status")
	for _, r := range runs {
		status := cell{text: "valid", kind: pass}
		if !r.r.Valid {
			status = cell{text: "invalid: " + strings.Join(r.r.InvalidReasons, "; "), kind: fail}
		}
		// Documents older than scenario_s measured duration_s in scenario
		// time, and did not record the wall time.
		wall, played := fmtSeconds(r.r.DurationS), fmtSeconds(r.r.ScenarioSeconds())
		if r.r.ScenarioS == 0 {
			wall = dash
		}
		if r.r.Sim != nil {
			played += " simulated"
		}
		version := r.r.ToolVersion
		if version == "" {
			version = dash
		}
		scenario := r.r.Scenario
		if r.r.Shard.Count > 1 {
			scenario += fmt.Sprintf(" (shard %d of %d)", r.r.Shard.Index, r.r.Shard.Count)
		}
		if r.r.MergedShards > 0 {
			scenario += fmt.Sprintf(" (%d shards merged)", r.r.MergedShards)
		}
		t.addCells(
			cell{text: r.label}, cell{text: scenario},
			cell{text: strconv.FormatUint(r.r.Seed, 10)},
			cell{text: r.r.Start.UTC().Format("2006-01-02 15:04:05Z07:00")},
			cell{text: wall}, cell{text: played},
			cell{text: target(r.r)}, cell{text: machine(r.r.Host)}, cell{text: version},
			objectivesTally(r.r.Objectives), status,
		)
	}
	return t
}

// target names the server a run measured, and how it was spoken to when
// that was not long connections.
func target(r *reports.Result) string {
	if r.Transport == "" || r.Transport == "tcp" {
		return r.Target
	}
	return r.Target + " over " + r.Transport
}

// machine describes the host a run was measured on, or a dash for a
// document older than the field.
func machine(h *reports.Host) string {
	if h == nil {
		return dash
	}
	s := fmt.Sprintf("%s, %d CPUs", h.Name, h.CPUs)
	if h.CPUModel != "" {
		s += ", " + h.CPUModel
	}
	return s
}

// objectivesTally counts a run's objectives by verdict: "9 pass", "7 pass,
// 1 fail, 1 no data", marked as failing when any did not pass.
func objectivesTally(objs []reports.Objective) cell {
	if len(objs) == 0 {
		return cell{text: dash}
	}
	n := map[string]int{}
	for _, o := range objs {
		n[o.Verdict()]++
	}
	var parts []string
	for _, v := range []string{"PASS", "FAIL", "NO DATA"} {
		if n[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v], strings.ToLower(v)))
		}
	}
	c := cell{text: strings.Join(parts, ", "), kind: pass}
	if n["PASS"] < len(objs) {
		c.kind = fail
	}
	return c
}

// objectivesBlock lists the runs' objectives: for one run, each with what
// was measured, the samples it rests on and the verdict; for several, as a
// matrix of objectives by run, each cell the verdict and the value, so that
// the runs compare at a glance.
func objectivesBlock(runs []run) block {
	if len(runs) == 1 {
		t := newTable("Objective", "#Measured", "#Samples", "Verdict")
		for _, o := range runs[0].r.Objectives {
			o = withUnit(o)
			samples := dash
			if o.Samples > 0 || o.MinSamples > 0 {
				samples = fmtCount(o.Samples)
			}
			t.addCells(cell{text: o.Expression}, cell{text: o.Measured()}, cell{text: samples},
				cell{text: o.Verdict(), kind: verdictKind(o)})
		}
		if len(t.rows) == 0 {
			return block{note: "No objectives were evaluated."}
		}
		return block{table: t}
	}
	var exprs []string
	byRun := make([]map[string]reports.Objective, len(runs))
	head := []string{"Objective"}
	for i, r := range runs {
		head = append(head, r.label)
		byRun[i] = map[string]reports.Objective{}
		for _, o := range r.r.Objectives {
			if _, ok := byRun[i][o.Expression]; !ok && !slices.Contains(exprs, o.Expression) {
				exprs = append(exprs, o.Expression)
			}
			byRun[i][o.Expression] = withUnit(o)
		}
	}
	if len(exprs) == 0 {
		return block{note: "No objectives were evaluated."}
	}
	t := newTable(head...)
	for _, e := range exprs {
		row := []cell{{text: e}}
		for i := range runs {
			o, ok := byRun[i][e]
			if !ok {
				row = append(row, cell{text: dash})
				continue
			}
			row = append(row, cell{text: o.Verdict() + " " + o.Measured(), kind: verdictKind(o)})
		}
		t.addCells(row...)
	}
	return block{note: "Each cell: the verdict and what was measured.", table: t}
}

// withUnit gives an objective of a document older than its unit field
// the unit its expression implies, so that its value is shown in it.
func withUnit(o reports.Objective) reports.Objective {
	if o.Unit == "" {
		o.Unit = objectiveUnit(o.Expression)
	}
	return o
}

// verdictKind styles an objective's verdict.
func verdictKind(o reports.Objective) cellKind {
	switch o.Verdict() {
	case "PASS":
		return pass
	case "NO DATA":
		return noData
	}
	return fail
}

func summaryBlocks(runs []run) []block {
	bs := append(latencyBlocks(runs), []block{
		{id: "messages", title: "Messages", table: messagesTable(runs)},
		{id: "sessions", title: "Sessions", table: sessionsTable(runs)},
		{id: "agents", title: "Agents", table: agentsTable(runs)},
		{id: "actions", title: "Actions (generator schedule)", table: actionsTable(runs)},
		errorsBlock(runs),
		{id: "resources", title: "Resources", table: resourcesTable(runs)},
	}...)
	if b, ok := concurrencyBlock(runs); ok {
		bs = append(bs, b)
	}
	if b, ok := replyBlock(runs); ok {
		bs = append(bs, b)
	}
	bs = append(bs, findMaxBlocks(runs)...)
	if b, ok := simBlock(runs); ok {
		bs = append(bs, b)
	}
	return bs
}

// latencyMetrics returns the names of the metrics that recorded a value in
// any run, sorted.
func latencyMetrics(runs []run) []string {
	set := map[string]bool{}
	for _, r := range runs {
		for name, l := range r.r.Latency {
			if l.Count > 0 || l.Raw.Count > 0 {
				set[name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// latencyBlocks are the latency tables: the network's (milliseconds) and
// the people's (seconds and minutes), one row per metric and run with the
// corrected percentiles and, beside them, the raw tail.
func latencyBlocks(runs []run) []block {
	network, human := splitHuman(latencyMetrics(runs))
	if len(network)+len(human) == 0 {
		return []block{{id: "latency", title: "Latency", note: "No latencies were recorded."}}
	}
	var bs []block
	for _, part := range []struct {
		id, title string
		metrics   []string
	}{
		{"latency", "Latency of messages and connections", network},
		{"waits", "Waiting for people", human},
	} {
		if len(part.metrics) == 0 {
			continue
		}
		t := newTable("Metric", "Run", "#Count", "#p50", "#p90", "#p99", "#p99.9", "#max", "#raw p99", "#raw max")
		for _, name := range part.metrics {
			for _, r := range runs {
				l := r.r.Latency[name]
				row := []string{name, r.label, fmtCount(l.Count)}
				for _, m := range []struct {
					s     reports.Summary
					stats []float64
				}{
					{l.Summary, []float64{l.P50Ms, l.P90Ms, l.P99Ms, l.P999Ms, l.MaxMs}},
					{l.Raw, []float64{l.Raw.P99Ms, l.Raw.MaxMs}},
				} {
					for _, v := range m.stats {
						if m.s.Count == 0 {
							row = append(row, dash)
						} else {
							row = append(row, reports.FormatMs(v))
						}
					}
				}
				t.add(row...)
			}
		}
		bs = append(bs, block{id: part.id, title: part.title, table: t})
	}
	bs[0].note = "Corrected: from when the action was meant to start; raw: from when it started."
	return bs
}

// zeroCell formats a count that should be zero, marking it when it is not.
func zeroCell(n int64) cell {
	c := cell{text: fmtCount(n)}
	if n != 0 {
		c.kind = bad
	}
	return c
}

func messagesTable(runs []run) *table {
	t := newTable("Run", "#Sent", "#Delivered", "#Lost", "#Duplicated", "#Reordered", "#Unacked", "#Cut off")
	for _, r := range runs {
		m := r.r.Messages
		t.addCells(cell{text: r.label}, cell{text: fmtCount(m.Sent)}, cell{text: fmtCount(m.Delivered)},
			zeroCell(m.Lost), zeroCell(m.Duplicated), zeroCell(m.Reordered), zeroCell(m.Unacked), cell{text: fmtCount(m.CutOff)})
	}
	return t
}

func sessionsTable(runs []run) *table {
	t := newTable("Run", "#Started", "#Bot resolved", "#To human", "#Abandoned", "#Completed")
	for _, r := range runs {
		s := r.r.Sessions
		t.add(r.label, fmtCount(s.Started), fmtCount(s.BotResolved), fmtCount(s.ToHuman), fmtCount(s.Abandoned), fmtCount(s.Completed))
	}
	return t
}

func actionsTable(runs []run) *table {
	t := newTable("Run", "#Started", "#Late", "#Dropped", "#Late bound", "#Lag p50", "#Lag p99", "#Lag max")
	for _, r := range runs {
		a := r.r.Actions
		lag := []string{dash, dash, dash}
		if a.Lag.Count > 0 {
			lag = []string{reports.FormatMs(a.Lag.P50Ms), reports.FormatMs(a.Lag.P99Ms), reports.FormatMs(a.Lag.MaxMs)}
		}
		t.addCells(cell{text: r.label}, cell{text: fmtCount(a.Started)}, zeroCell(a.Late), zeroCell(a.Dropped),
			cell{text: reports.FormatMs(a.LateBoundMs)}, cell{text: lag[0]}, cell{text: lag[1]}, cell{text: lag[2]})
	}
	return t
}

func errorsBlock(runs []run) block {
	codes := map[string]bool{}
	for _, r := range runs {
		for code, n := range r.r.Errors {
			if n != 0 {
				codes[code] = true
			}
		}
	}
	if len(codes) == 0 {
		return block{id: "errors", title: "Errors", note: "No errors."}
	}
	head := []string{"Code"}
	for _, r := range runs {
		head = append(head, "#"+r.label)
	}
	t := newTable(head...)
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		row := []cell{{text: code}}
		for _, r := range runs {
			row = append(row, zeroCell(r.r.Errors[code]))
		}
		t.addCells(row...)
	}
	return block{id: "errors", title: "Errors by code", table: t}
}

func resourcesTable(runs []run) *table {
	t := newTable("Run", "Process", "Source", "#CPU (s)", "#Peak RSS", "#Connections", "#Bytes/connection")
	for _, r := range runs {
		for _, p := range []struct {
			name string
			res  reports.Resources
		}{{"generator", r.r.Generator}, {"server", r.r.Server}} {
			src := p.res.Source
			if src == "" {
				src = dash
			}
			t.add(r.label, p.name, src, fmtSig(p.res.CPUSeconds, 3), fmtBytes(float64(p.res.PeakRSSBytes)),
				fmtCount(p.res.Connections), fmtBytes(p.res.BytesPerConnection))
		}
	}
	return t
}

func agentsTable(runs []run) *table {
	t := newTable("Run", "#Agents", "#Max concurrent chats", "#Mean concurrent chats")
	for _, r := range runs {
		a := r.r.Agents
		t.add(r.label, fmtCount(a.Count), strconv.Itoa(a.MaxConcurrent), fmtSig(a.MeanConcurrent, 3))
	}
	return t
}

// concurrencyLevels returns the chats levels of every run's concurrency
// distribution, sorted.
func concurrencyLevels(runs []run) []int {
	set := map[int]bool{}
	for _, r := range runs {
		for _, lv := range r.r.Agents.Concurrency {
			set[lv.Chats] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func concurrencyBlock(runs []run) (block, bool) {
	levels := concurrencyLevels(runs)
	if len(levels) == 0 {
		return block{}, false
	}
	head := []string{"#Chats"}
	for _, r := range runs {
		head = append(head, "#"+r.label)
	}
	t := newTable(head...)
	for _, chats := range levels {
		row := []string{strconv.Itoa(chats)}
		for _, r := range runs {
			s := dash
			for _, lv := range r.r.Agents.Concurrency {
				if lv.Chats == chats {
					s = fmtPercent(lv.Share)
				}
			}
			row = append(row, s)
		}
		t.add(row...)
	}
	return block{id: "concurrency", title: "Agent time by concurrent chats (share of online time)", table: t}, true
}

func replyBlock(runs []run) (block, bool) {
	t := newTable("#Chats", "Run", "#Replies", "#p50", "#p90", "#p99")
	for _, chats := range replyLevels(runs) {
		for _, r := range runs {
			for _, lv := range r.r.Agents.Reply {
				if lv.Chats == chats && lv.Count > 0 {
					t.add(strconv.Itoa(chats), r.label, fmtCount(lv.Count), reports.FormatMs(lv.P50Ms), reports.FormatMs(lv.P90Ms), reports.FormatMs(lv.P99Ms))
				}
			}
		}
	}
	if len(t.rows) == 0 {
		return block{}, false
	}
	return block{id: "reply", title: "Agent reply latency by concurrent chats", table: t}, true
}

// replyLevels returns the chats levels at which some run saw a reply,
// sorted.
func replyLevels(runs []run) []int {
	set := map[int]bool{}
	for _, r := range runs {
		for _, lv := range r.r.Agents.Reply {
			if lv.Count > 0 {
				set[lv.Chats] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func findMaxBlocks(runs []run) []block {
	sum := newTable("Run", "Parameter", "#Best", "#Failed", "#Precision", "Stopped")
	steps := newTable("Run", "#Step", "#Load", "Result", "What broke", "Directory")
	for _, r := range runs {
		fm := r.r.FindMax
		if fm == nil {
			continue
		}
		failed := dash
		if fm.Failed != 0 {
			failed = fmtSig(fm.Failed, 4)
		}
		sum.add(r.label, fm.Parameter, fmtSig(fm.Best, 4), failed, fmtPercent(fm.Precision), fm.Stopped)
		for i, s := range fm.Steps {
			verdict := cell{text: "PASS", kind: pass}
			if !s.Pass {
				verdict = cell{text: "FAIL", kind: fail}
			}
			broke := strings.Join(s.Failed, "; ")
			if broke == "" {
				broke = dash
			}
			steps.addCells(cell{text: r.label}, cell{text: strconv.Itoa(i + 1)}, cell{text: fmtSig(s.Load, 4)},
				verdict, cell{text: broke}, cell{text: s.Dir})
		}
	}
	if len(sum.rows) == 0 {
		return nil
	}
	bs := []block{{id: "find-max", title: "Find max", table: sum}}
	if len(steps.rows) > 0 {
		bs = append(bs, block{id: "find-max-steps", title: "Find max steps", table: steps})
	}
	return bs
}

func simBlock(runs []run) (block, bool) {
	t := newTable("Run", "#Simulated (s)", "#Wall (s)", "#Events", "#Events/s", "#Sessions", "#Sessions/s", "#Peak links", "#Peak pending")
	for _, r := range runs {
		s := r.r.Sim
		if s == nil {
			continue
		}
		t.add(r.label, fmtSig(s.SimulatedS, 3), fmtSig(s.WallS, 3), fmtCount(int64(s.Events)), fmtSig(s.EventsPerS, 3),
			fmtCount(s.Sessions), fmtSig(s.SessionsPerS, 3), fmtCount(s.PeakLinks), fmtCount(int64(s.PeakPending)))
	}
	if len(t.rows) == 0 {
		return block{}, false
	}
	return block{id: "simulation", title: "Simulation", table: t}, true
}

// maxSeriesRows is the most rows the condensed time series table has per
// run.
const maxSeriesRows = 20

// sampleIndexes returns up to max indexes into n items, evenly spread,
// always including the first and the last.
func sampleIndexes(n, max int) []int {
	if n <= max {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, 0, max)
	for i := range max {
		j := (i*(n-1) + (max-1)/2) / (max - 1)
		if len(idx) == 0 || idx[len(idx)-1] != j {
			idx = append(idx, j)
		}
	}
	return idx
}

func seriesBlocks(runs []run) []block {
	var bs []block
	for i, r := range runs {
		id, title := fmt.Sprintf("series-%d", i+1), r.label
		if len(r.r.Series) > maxSeriesRows {
			title += fmt.Sprintf(" (%d of %d intervals)", maxSeriesRows, len(r.r.Series))
		}
		if len(r.r.Series) == 0 {
			bs = append(bs, block{id: id, title: title, note: "No time series was recorded."})
			continue
		}
		t := newTable("#End (scenario s)", "#Messages/s", "#Deliveries/s", "#Connections", "#Queue length", "#Errors", "#Delivery p99")
		for _, i := range sampleIndexes(len(r.r.Series), maxSeriesRows) {
			p := r.r.Series[i]
			p99 := dash
			if l, ok := p.Latency["delivery"]; ok && l.Count > 0 {
				p99 = reports.FormatMs(l.P99Ms)
			}
			t.addCells(cell{text: fmtSig(p.EndS, 3)}, cell{text: fmtSig(p.MessagesPerS, 3)}, cell{text: fmtSig(p.DeliveriesPerS, 3)},
				cell{text: fmtCount(p.Connections)}, cell{text: fmtCount(p.QueueLength)}, zeroCell(p.Errors), cell{text: p99})
		}
		bs = append(bs, block{id: id, title: title, table: t})
	}
	return bs
}
