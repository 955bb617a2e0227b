package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/reports"
)

// The page's content is built once as sections of tables, which HTML and
// Markdown then lay out in their own way, so both show the same figures.

// section is one headed part of the report.
type section struct {
	id, title string
	blocks    []block
}

// block is a table under an optional subheading, or a note when the table
// would be empty.
type block struct {
	title string
	note  string
	table *table
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
	t := newTable("Run", "Scenario", "#Seed", "Start", "#Duration", "Target", "Tool version", "Status")
	for _, r := range runs {
		status := cell{text: "valid", kind: pass}
		if !r.r.Valid {
			status = cell{text: "invalid: " + strings.Join(r.r.InvalidReasons, "; "), kind: fail}
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
			cell{text: r.r.Start.UTC().Format(time.RFC3339)},
			cell{text: fmtSeconds(r.r.DurationS)},
			cell{text: r.r.Target}, cell{text: version}, status,
		)
	}
	return t
}

func objectivesBlock(runs []run) block {
	t := newTable("Run", "Objective", "#Value", "Result")
	for _, r := range runs {
		for _, o := range r.r.Objectives {
			verdict := cell{text: "PASS", kind: pass}
			if !o.Pass {
				verdict = cell{text: "FAIL", kind: fail}
			}
			t.addCells(cell{text: r.label}, cell{text: o.Expression}, cell{text: fmtObjective(o.Expression, o.Value)}, verdict)
		}
	}
	if len(t.rows) == 0 {
		return block{note: "No objectives were evaluated."}
	}
	return block{table: t}
}

func summaryBlocks(runs []run) []block {
	bs := []block{
		latencyBlock(runs),
		{title: "Messages", table: messagesTable(runs)},
		{title: "Sessions", table: sessionsTable(runs)},
		{title: "Actions (generator schedule)", table: actionsTable(runs)},
		errorsBlock(runs),
		{title: "Resources", table: resourcesTable(runs)},
		{title: "Agents", table: agentsTable(runs)},
	}
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

func latencyBlock(runs []run) block {
	t := newTable("Metric", "Run", "Measure", "#Count", "#p50 (ms)", "#p90 (ms)", "#p99 (ms)", "#p99.9 (ms)", "#max (ms)")
	for _, name := range latencyMetrics(runs) {
		for _, r := range runs {
			l := r.r.Latency[name]
			for _, m := range []struct {
				kind string
				s    reports.Summary
			}{{"corrected", l.Summary}, {"raw", l.Raw}} {
				row := []string{name, r.label, m.kind, fmtCount(m.s.Count)}
				if m.s.Count == 0 {
					row = append(row, dash, dash, dash, dash, dash)
				} else {
					row = append(row, fmtMs(m.s.P50Ms), fmtMs(m.s.P90Ms), fmtMs(m.s.P99Ms), fmtMs(m.s.P999Ms), fmtMs(m.s.MaxMs))
				}
				t.add(row...)
			}
		}
	}
	b := block{title: "Latency (corrected: from the intended start; raw: from the actual start)", table: t}
	if len(t.rows) == 0 {
		b.table, b.note = nil, "No latencies were recorded."
	}
	return b
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
	t := newTable("Run", "#Sent", "#Delivered", "#Lost", "#Duplicated", "#Reordered", "#Unacked")
	for _, r := range runs {
		m := r.r.Messages
		t.addCells(cell{text: r.label}, cell{text: fmtCount(m.Sent)}, cell{text: fmtCount(m.Delivered)},
			zeroCell(m.Lost), zeroCell(m.Duplicated), zeroCell(m.Reordered), zeroCell(m.Unacked))
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
	t := newTable("Run", "#Started", "#Late", "#Dropped", "#Late bound (ms)", "#Lag p50 (ms)", "#Lag p99 (ms)", "#Lag max (ms)")
	for _, r := range runs {
		a := r.r.Actions
		lag := []string{dash, dash, dash}
		if a.Lag.Count > 0 {
			lag = []string{fmtMs(a.Lag.P50Ms), fmtMs(a.Lag.P99Ms), fmtMs(a.Lag.MaxMs)}
		}
		t.addCells(cell{text: r.label}, cell{text: fmtCount(a.Started)}, zeroCell(a.Late), zeroCell(a.Dropped),
			cell{text: fmtMs(a.LateBoundMs)}, cell{text: lag[0]}, cell{text: lag[1]}, cell{text: lag[2]})
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
		return block{title: "Errors", note: "No errors."}
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
	return block{title: "Errors by code", table: t}
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
	return block{title: "Agent time by concurrent chats (share of online time)", table: t}, true
}

func replyBlock(runs []run) (block, bool) {
	t := newTable("#Chats", "Run", "#Replies", "#p50 (ms)", "#p90 (ms)", "#p99 (ms)")
	for _, chats := range replyLevels(runs) {
		for _, r := range runs {
			for _, lv := range r.r.Agents.Reply {
				if lv.Chats == chats && lv.Count > 0 {
					t.add(strconv.Itoa(chats), r.label, fmtCount(lv.Count), fmtMs(lv.P50Ms), fmtMs(lv.P90Ms), fmtMs(lv.P99Ms))
				}
			}
		}
	}
	if len(t.rows) == 0 {
		return block{}, false
	}
	return block{title: "Agent reply latency by concurrent chats", table: t}, true
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
	bs := []block{{title: "Find max", table: sum}}
	if len(steps.rows) > 0 {
		bs = append(bs, block{title: "Find max steps", table: steps})
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
	return block{title: "Simulation", table: t}, true
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
	for _, r := range runs {
		title := r.label
		if len(r.r.Series) > maxSeriesRows {
			title += fmt.Sprintf(" (%d of %d intervals)", maxSeriesRows, len(r.r.Series))
		}
		if len(r.r.Series) == 0 {
			bs = append(bs, block{title: title, note: "No time series was recorded."})
			continue
		}
		t := newTable("#End (s)", "#Messages/s", "#Deliveries/s", "#Connections", "#Queue length", "#Errors", "#Delivery p99 (ms)")
		for _, i := range sampleIndexes(len(r.r.Series), maxSeriesRows) {
			p := r.r.Series[i]
			p99 := dash
			if l, ok := p.Latency["delivery"]; ok && l.Count > 0 {
				p99 = fmtMs(l.P99Ms)
			}
			t.addCells(cell{text: fmtSig(p.EndS, 3)}, cell{text: fmtSig(p.MessagesPerS, 3)}, cell{text: fmtSig(p.DeliveriesPerS, 3)},
				cell{text: fmtCount(p.Connections)}, cell{text: fmtCount(p.QueueLength)}, zeroCell(p.Errors), cell{text: p99})
		}
		bs = append(bs, block{title: title, table: t})
	}
	return bs
}
