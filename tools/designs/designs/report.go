package designs

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/swarmdesk/swarmdesk/reports"
)

// Markers delimit the comparison's section in RESULTS.md: Splice replaces
// what is between them, and the results suite keeps it when it renders
// the rest of the file.
const (
	BeginMarker = "<!-- compare-designs:begin -->"
	EndMarker   = "<!-- compare-designs:end -->"
)

// row is one line of the table: a figure of every design.
type row struct {
	id, label string
	unit      string
	higher    bool // higher is better
	value     func(Result) (float64, bool)
	format    func(float64) string
}

// rows returns the table's rows for doc's sizes.
func rows(doc *Document) []row {
	var rs []row
	for i, n := range doc.Sizes {
		rs = append(rs, row{
			id: fmt.Sprintf("memory-%d", n), label: fmt.Sprintf("server memory per idle connection, %s connections (RSS growth over them)", thousands(float64(n))),
			unit: "B", value: func(r Result) (float64, bool) {
				if r.Idle == nil || i >= len(r.Idle.Points) {
					return 0, false
				}
				return r.Idle.Points[i].BytesPerConn, true
			}, format: bytesFmt,
		})
	}
	rs = append(rs,
		row{id: "memory-slope", label: "server memory per additional idle connection (slope over the sizes)", unit: "B",
			value: func(r Result) (float64, bool) { return idle(r, func(i *Idle) float64 { return i.SlopeBytesPerConn }) }, format: bytesFmt},
		row{id: "requests", label: "server requests per idle client per hour (pings, or HTTP polls)", unit: "",
			value: func(r Result) (float64, bool) {
				return idle(r, func(i *Idle) float64 { return i.RequestsPerClientHour })
			},
			format: func(v float64) string { return thousands(v) }},
		row{id: "broadcast", label: fmt.Sprintf("one broadcast to every idle customer (%s): until the last has it", thousands(float64(doc.Sizes[len(doc.Sizes)-1]))), unit: "ms",
			value: func(r Result) (float64, bool) { return idle(r, func(i *Idle) float64 { return i.BroadcastAllMs }) }, format: msFmt},
		row{id: "broadcast-half", label: "the same broadcast: until half have it", unit: "ms",
			value: func(r Result) (float64, bool) { return idle(r, func(i *Idle) float64 { return i.BroadcastHalfMs }) }, format: msFmt},
		row{id: "cpu", label: "server CPU seconds per 1,000 delivered chat messages (all the run's work: connects, bot, routing, keep-alive)", unit: "s",
			value:  func(r Result) (float64, bool) { return load(r, func(l *Load) float64 { return l.CPUPer1000 }) },
			format: func(v float64) string { return fmt.Sprintf("%.3f", v) }},
		row{id: "p50", label: "delivery latency p50", unit: "ms",
			value: func(r Result) (float64, bool) { return load(r, func(l *Load) float64 { return l.P50Ms }) }, format: msFmt},
		row{id: "p99", label: "delivery latency p99", unit: "ms",
			value: func(r Result) (float64, bool) { return load(r, func(l *Load) float64 { return l.P99Ms }) }, format: msFmt},
		row{id: "p999", label: "delivery latency p99.9", unit: "ms",
			value: func(r Result) (float64, bool) { return load(r, func(l *Load) float64 { return l.P999Ms }) }, format: msFmt},
		row{id: "raw-p99", label: "delivery latency p99 from the real send (not corrected for the generator's lateness)", unit: "ms",
			value: func(r Result) (float64, bool) { return load(r, func(l *Load) float64 { return l.RawP99Ms }) }, format: msFmt},
		row{id: "wire", label: "bytes on the wire per delivered chat message (all the server's socket reads and writes over the run, both ways, HTTP headers included)", unit: "B",
			value: func(r Result) (float64, bool) { return load(r, func(l *Load) float64 { return l.BytesPerDelivered }) }, format: bytesFmt},
		row{id: "find-max", label: "highest sustainable load: customers arriving per second, every objective met (--find-max)", higher: true,
			value: func(r Result) (float64, bool) {
				if r.FindMax == nil || r.FindMax.Best == 0 {
					return 0, false
				}
				return r.FindMax.Best, true
			}, format: func(v float64) string { return fmt.Sprintf("%g/s", v) }},
	)
	return rs
}

func idle(r Result, f func(*Idle) float64) (float64, bool) {
	if r.Idle == nil {
		return 0, false
	}
	return f(r.Idle), true
}

func load(r Result, f func(*Load) float64) (float64, bool) {
	if r.Load == nil || r.Load.Delivered == 0 {
		return 0, false
	}
	return f(r.Load), true
}

// level is the relative margin within which two figures are level: gnet is
// ahead on a row only when its figure beats every other by more.
const level = 0.05

// Verdict is gnet's standing on one row.
type Verdict struct {
	Row   string
	Label string
	// Ahead is whether gnet beat every other design by more than 5%;
	// Best the design with the best figure (gnet when ahead or level).
	Ahead bool
	Level bool
	Best  string
	// Ratio is gnet's figure over the best one's (for lower-is-better
	// rows; the inverse for higher-is-better ones): how far behind.
	Ratio float64
}

// Verdicts returns gnet's standing on every row where gnet and another
// design were measured.
func Verdicts(doc *Document) []Verdict {
	var out []Verdict
	gi := -1
	for i, r := range doc.Results {
		if r.Design == "gnet" {
			gi = i
		}
	}
	if gi < 0 {
		return nil
	}
	for _, rw := range rows(doc) {
		g, ok := rw.value(doc.Results[gi])
		if !ok {
			continue
		}
		v := Verdict{Row: rw.id, Label: rw.label, Ahead: true, Best: "gnet"}
		bestVal := g
		others := 0
		for i, r := range doc.Results {
			x, ok := rw.value(r)
			if i == gi || !ok {
				continue
			}
			others++
			better := x < bestVal
			if rw.higher {
				better = x > bestVal
			}
			if better {
				bestVal, v.Best = x, r.Design
			}
			// gnet is ahead only by a clear margin over every other.
			margin := x > g*(1+level)
			if rw.higher {
				margin = x < g*(1-level)
			}
			if !margin {
				v.Ahead = false
			}
		}
		if others == 0 {
			continue
		}
		if !v.Ahead {
			switch {
			case v.Best == "gnet":
				v.Level = true
			case rw.higher:
				v.Ratio = bestVal / g
				v.Level = v.Ratio <= 1+level
			default:
				if bestVal > 0 {
					v.Ratio = g / bestVal
				}
				v.Level = v.Ratio <= 1+level
			}
		}
		out = append(out, v)
	}
	return out
}

// why explains, per row, the mechanism that lets another design match or
// beat gnet there. It is printed under a row where gnet is not ahead.
var why = map[string]string{
	"requests": "How often an idle client asks is set by its keep-alive, not by the server's design: a long connection's client pings when it has sent nothing for a heartbeat (refserver's 15 s: 240 an hour), while a long poll is held up to its wait (bench's 25 s: 144 an hour) and answered empty. A long connection with a 25 s heartbeat would ask as seldom; short polling asks every second.",
	"cpu":      "Likely cause, not yet profiled: every frame gnet writes from outside its event loop (a delivery produced on another connection's loop, or by the desk) goes through the loop's task queue and wakes it through an eventfd, a write and a read system call, before the write itself; netstd's writer goroutine is woken by the Go scheduler without one. At a few hundred busy connections those wake-ups cost more than the goroutines do; gnet's advantage is memory per connection, as the idle rows show.",
	"wire":     "The figure counts all the server's read and write system calls: gnet's eventfd wake-ups (8 bytes each) are among them, and bench's once-a-second scrape of /metrics is in every design's. The frames themselves are the same protocol on both TCP designs.",
	"p50":      "At this load a delivery is a wake-up and a write on each side whatever multiplexes the sockets; the designs differ by tens of microseconds.",
	"p99":      "The corrected tails of both TCP designs are bench's own lateness, not the server's: the raw p99, from the real send, is under 1 ms on every design (the row below), and the generator's action lag p99 was about 12 ms when its clients were TCP links (gnet client loops) against about 1 ms with its HTTP driver (goroutines). The polling rows are ahead on bench's side; bench's TCP driver is what to fix.",
	"p999":     "As for p99: the TCP designs' corrected tail is bench's TCP driver's lateness.",
	"raw-p99":  "At a few hundred connections a delivery is a wake-up and a write either way; gnet adds the eventfd hop (see CPU) for frames queued from outside the loop.",
	"find-max": "The knee here is the 2-core machine shared by bench and the server, at a few hundred connections, where the designs carried the same load within the search's step: they part at tens of thousands of connections, where the memory rows show the gap, and which one process cannot open under this machine's limit of 20,000 descriptors.",
}

// Markdown writes the comparison: the table, gnet's standing and why,
// and the commands.
func Markdown(w io.Writer, doc *Document, command string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Measured %s%s by `%s` (tools/designs). Each design serves the same desk core; bench speaks to the gnet and netstd designs over long TCP connections and to poll over the protocol's HTTP binding (refserver/wire/PROTOCOL.md). The server is a child process per phase: its memory, CPU and socket bytes (`/proc/PID/io`) are its own.\n\n",
		doc.Start.Format("2006-01-02"), commits(doc), command)
	fmt.Fprintf(&b, "- Idle: %s idle customers (hello, then only the client's keep-alive), the server's RSS over its RSS before any connection, divided by the connections; sized to the open-file limit (%d): a polling client may hold two HTTP connections, so the largest size is under half of it. Requests counted at the largest size over %s (clients that connected together keep alive in step, so a window that is not a multiple of the keep-alive period is off by one period's requests), then one broadcast timed from its post to its arrival at the last customer.\n",
		joinSizes(doc.Sizes), doc.FDLimit, windows(doc))
	fmt.Fprintf(&b, "- Load: `bench run designs --rate %g` against each (equal offered load: the same scenario and seed, in real time, so a poll interval or a heartbeat is the client's real one), latency corrected for coordinated omission; CPU and bytes are the server's over the run.\n", doc.Rate)
	b.WriteString("- Highest load: `bench run designs --find-max` against each, from the same start and with the same step budget; the scenario's objectives: nothing lost, duplicated, reordered or unacked, no error or disconnect, delivery and ack p99 under 2 s.\n\n")

	b.WriteString("| | ")
	for _, r := range doc.Results {
		fmt.Fprintf(&b, "%s | ", r.Design)
	}
	b.WriteString("\n|---|")
	for range doc.Results {
		b.WriteString("---:|")
	}
	b.WriteString("\n| design | ")
	for _, r := range doc.Results {
		fmt.Fprintf(&b, "%s | ", r.Text)
	}
	b.WriteString("\n")
	for _, rw := range rows(doc) {
		fmt.Fprintf(&b, "| %s | ", rw.label)
		for _, r := range doc.Results {
			if v, ok := rw.value(r); ok {
				b.WriteString(rw.format(v))
			} else {
				b.WriteString("—")
			}
			b.WriteString(" | ")
		}
		b.WriteString("\n")
	}
	b.WriteString("| correctness at the load: lost / duplicated / reordered / unacked | ")
	for _, r := range doc.Results {
		if r.Load == nil {
			b.WriteString("— | ")
			continue
		}
		pass := "objectives met"
		if !r.Load.Pass {
			pass = "**objectives failed**"
		}
		fmt.Fprintf(&b, "%d / %d / %d / %d, %s | ", r.Load.Lost, r.Load.Duplicated, r.Load.Reordered, r.Load.Unacked, pass)
	}
	b.WriteString("\n\n")

	vs := Verdicts(doc)
	var ahead []string
	var notAhead []Verdict
	for _, v := range vs {
		if v.Ahead {
			ahead = append(ahead, v.Label)
		} else {
			notAhead = append(notAhead, v)
		}
	}
	if len(vs) > 0 {
		fmt.Fprintf(&b, "**gnet is ahead** (better than every other design by more than %.0f%%) on %d of %d rows", level*100, len(ahead), len(vs))
		if len(ahead) > 0 {
			fmt.Fprintf(&b, ": %s", strings.Join(ahead, "; "))
		}
		b.WriteString(".\n\n")
	}
	if len(notAhead) > 0 {
		b.WriteString("**Where gnet is not ahead, and why:**\n\n")
		for _, v := range notAhead {
			switch {
			case v.Best == "gnet":
				fmt.Fprintf(&b, "- %s: gnet is best but within %.0f%% of another design: level.", v.Label, level*100)
			case v.Level:
				fmt.Fprintf(&b, "- %s: %s is best, gnet within %.0f%% (%.2f×): level.", v.Label, v.Best, level*100, v.Ratio)
			default:
				fmt.Fprintf(&b, "- %s: **%s is ahead**; gnet's figure is %.2f× the best.", v.Label, v.Best, v.Ratio)
			}
			if w, ok := why[v.Row]; ok {
				b.WriteString(" " + w)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("Commands of the bench runs, as they ran (addresses are the phase's server):\n\n```sh\n")
	for _, r := range doc.Results {
		for _, c := range []*[]string{cmdOf(r.Load), cmdOfFM(r.FindMax)} {
			if c != nil {
				b.WriteString(strings.Join(*c, " ") + "\n")
			}
		}
	}
	b.WriteString("```\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("write the comparison: %w", err)
	}
	return nil
}

func cmdOf(l *Load) *[]string {
	if l == nil {
		return nil
	}
	return &l.Command
}

func cmdOfFM(f *FindMax) *[]string {
	if f == nil {
		return nil
	}
	return &f.Command
}

// Splice replaces the comparison's section of the file at path (between
// BeginMarker and EndMarker) with block, or appends the section when the
// file has none.
func Splice(path, title, block string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("splice into %s: %w", path, err)
	}
	section := BeginMarker + "\n" + block + EndMarker
	s := string(old)
	i, j := strings.Index(s, BeginMarker), strings.Index(s, EndMarker)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + section + s[j+len(EndMarker):]
	case i >= 0 || j >= 0:
		return fmt.Errorf("splice into %s: only one of the markers %s and %s", path, BeginMarker, EndMarker)
	default:
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += "\n## " + title + "\n\n" + section + "\n"
	}
	return reports.WriteAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	})
}

// commits says which commit each design was measured at.
func commits(doc *Document) string {
	var parts []string
	same := true
	for _, r := range doc.Results {
		c := r.Commit
		if c == "" {
			c = "not recorded"
		} else {
			c = "`" + c + "`"
		}
		parts = append(parts, r.Design+" "+c)
		same = same && r.Commit == doc.Results[0].Commit
	}
	switch {
	case len(parts) == 0:
		return ""
	case same && doc.Results[0].Commit != "":
		return " at commit `" + doc.Results[0].Commit + "`"
	case same:
		return ""
	}
	return " (commits: " + strings.Join(parts, ", ") + ")"
}

// windows says over how long each design's idle requests were counted.
func windows(doc *Document) string {
	var parts []string
	same := true
	for i, r := range doc.Results {
		if r.Idle == nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f s", r.Design, r.Idle.WindowS))
		if i > 0 && doc.Results[0].Idle != nil && math.Round(r.Idle.WindowS) != math.Round(doc.Results[0].Idle.WindowS) {
			same = false
		}
	}
	if same && len(parts) > 0 {
		return fmt.Sprintf("%.0f s", doc.Results[0].Idle.WindowS)
	}
	return strings.Join(parts, ", ")
}

func joinSizes(sizes []int) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = thousands(float64(n))
	}
	return strings.Join(parts, ", ")
}

func bytesFmt(v float64) string { return thousands(v) + " B" }

func msFmt(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.0f µs", v*1000)
	case v < 100:
		return fmt.Sprintf("%.2f ms", v)
	}
	return thousands(v) + " ms"
}

// thousands formats v rounded, with comma separators.
func thousands(v float64) string { return english.Sprintf("%d", int64(math.Round(v))) }

var english = message.NewPrinter(language.English)
