package suite

import (
	"fmt"
	"math"
	"strings"
)

// Target is one row of DESIGN.md §7 against the figures: what was
// measured and the verdict, both computed from the figures.
type Target struct {
	// What and Target are DESIGN.md §7's words.
	What, Target string
	// Measured is the figure, formatted, or why there is none.
	Measured string
	// Verdict is "met", "**not met: N× over**" (or under, for a floor),
	// or "—" when nothing was measured.
	Verdict string
}

// Limits of DESIGN.md §7, in the figures' units.
const (
	idleConnLimitB    = 1024 // refserver bytes per idle connection
	fanoutCPULimit    = 0.5  // server CPU-s per 1M deliveries
	halfLoadP99LimitS = 1e-3 // delivery p99 at half the max load, strict
	benchMemLimitB    = 1024 // bench bytes per simulated idle customer
	routingFloor      = 1e6  // routing decisions per second per core
	botFloor          = 200e3
	simWallLimitS     = 60  // ten million sessions
	syncShareFloor    = 0.5 // durability=sync throughput over none's
)

// atMost is the verdict of a figure against a ceiling: met when worst is
// at most limit (below it, when strict).
func atMost(worst, limit float64, strict bool) string {
	if worst < limit || !strict && worst == limit {
		return "met"
	}
	return "**not met: " + timesOver(worst/limit) + " over**"
}

// ratioX formats a ratio of CPU times with 3 significant figures: 1.63×.
func ratioX(r float64) string { return sig3(r) + "×" }

// atLeast is the verdict of a figure against a floor.
func atLeast(worst, floor float64) string {
	if worst >= floor {
		return "met"
	}
	if worst <= 0 {
		return "**not met**"
	}
	return "**not met: " + timesOver(floor/worst) + " under**"
}

// notRun is a row's Measured for an entry that did not run.
func notRun(r *Report, ids ...string) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, id+" "+r.Entry(id).Status())
	}
	return strings.Join(parts, "; ")
}

// targets computes the §7 table.
func targets(r *Report) []Target {
	f := &r.Figures
	var out []Target
	// add adds a row measured by measure from the entries ids; measure
	// returns "" when the figures it needs are missing.
	add := func(what, target string, measure func() (string, string), ids ...string) {
		t := Target{What: what, Target: target, Verdict: "—"}
		ran := false
		for _, id := range ids {
			ran = ran || r.Entry(id).Ran
		}
		switch m, v := measure(); {
		case m != "":
			t.Measured, t.Verdict = m, v
		case ran:
			t.Measured = "not in the output of " + strings.Join(ids, ", ")
		default:
			t.Measured = notRun(r, ids...)
		}
		out = append(out, t)
	}
	perBenchmark := func(bs Benchmarks, unit string, format func(float64) string) string {
		var parts []string
		for _, b := range bs {
			if m, ok := b.Metric(unit); ok {
				name := b.Name
				if i := strings.IndexByte(name, '/'); i >= 0 {
					name = name[i+1:]
				}
				parts = append(parts, format(m.Median)+" ("+name+")")
			}
		}
		return strings.Join(parts, "; ")
	}
	process := f.Fanout.Find("transport/gnet", "BroadcastProcess")

	add("refserver (gnet) memory per idle customer connection, protocol state included", "≤ 1 KiB",
		func() (string, string) {
			_, hi, _, _, ok := process.Extremes("rss-B/idle-conn")
			if !ok {
				return "", ""
			}
			return perBenchmark(process, "rss-B/idle-conn", bytesB), atMost(hi.Median, idleConnLimitB, false)
		}, "fanout")

	add("fanout: server CPU per 1M deliveries (broadcast to connected customers)", "≤ 0.5 CPU-s",
		func() (string, string) {
			_, hi, _, _, ok := process.Extremes("server-cpu-s/1M-deliveries")
			if !ok {
				return "", ""
			}
			return perBenchmark(process, "server-cpu-s/1M-deliveries", cpuS), atMost(hi.Median, fanoutCPULimit, false)
		}, "fanout")

	add("delivery p99 at half the maximum sustainable load, loopback", "< 1 ms",
		func() (string, string) {
			h := f.HalfLoad
			if h == nil {
				return "", ""
			}
			d := h.Lat("delivery")
			if d.Count == 0 {
				return "no deliveries recorded", "—"
			}
			m := fmt.Sprintf("p99 %s (raw %s), p50 %s, at rate %s/s", durMs(d.P99Ms), durMs(d.Raw.P99Ms), durMs(d.P50Ms), load(h.Rate))
			if f.FindMax != nil {
				m += fmt.Sprintf(" (find-max best %s/s)", load(f.FindMax.Best()))
			}
			return m, atMost(d.P99Ms/1e3, halfLoadP99LimitS, true)
		}, "half-load")

	add("bench memory per simulated idle customer", "≤ 1 KiB",
		func() (string, string) {
			c := f.Connections
			if c == nil {
				return "", ""
			}
			g := c.Generator
			return fmt.Sprintf("%s per customer, %s customers held (peak RSS %s)", bytesB(g.BytesPerConnection), count(g.Connections), mib(float64(g.PeakRSSBytes))),
				atMost(g.BytesPerConnection, benchMemLimitB, false)
		}, "connections")

	add("bench CPU per message compared with the server's", "find-max steps: lower than the server's; connections: no higher than a bare client/server pair's beside it (floor)",
		func() (string, string) {
			var parts, over []string
			measured, judged := false, false
			// connections against the floor: on loopback the dialler pays
			// for both halves of the TCP handshake, so the bound is the
			// bare pair's ratio, not 1.
			var conn []string
			bench, floorRatio := 0.0, 0.0
			if c := f.Connections; c == nil {
				conn = append(conn, notRun(r, "connections"))
			} else if c.GeneratorCPURatio() > 0 {
				bench = c.GeneratorCPURatio()
				conn = append(conn, fmt.Sprintf("bench %s (%s against %s)", ratioX(bench), cpuS(c.Generator.CPUSeconds), cpuS(c.Server.CPUSeconds)))
				measured = true
			}
			if fl := f.Floor; fl == nil {
				conn = append(conn, notRun(r, "floor"))
			} else if fl.CPURatio > 0 {
				floorRatio = fl.CPURatio
				conn = append(conn, fmt.Sprintf("a bare client/server pair beside it %s (%s against %s)", ratioX(floorRatio), cpuS(fl.Client.CPUS), cpuS(fl.Server.CPUS)))
				measured = true
			}
			if bench > 0 && floorRatio > 0 {
				judged = true
				if bench > floorRatio {
					over = append(over, "connections "+timesOver(bench/floorRatio)+" over the bare pair's")
				}
			}
			if len(conn) > 0 {
				connPart := strings.Join(conn, ", ")
				if bench > 0 {
					connPart = "connections: " + connPart
				}
				parts = append(parts, connPart)
			}
			if fm := f.FindMax; fm == nil {
				parts = append(parts, notRun(r, "find-max"))
			} else if lo, hi, has := fm.CPURatios(); has {
				parts = append(parts, fmt.Sprintf("find-max steps: generator over server CPU %s", rangeOf(timesOver, lo, hi, len(fm.Steps))))
				measured, judged = true, true
				// The server's CPU is the limit: the ratio must stay under 1.
				if hi >= 1 {
					over = append(over, "find-max "+timesOver(hi)+" over")
				}
			}
			switch {
			case !measured:
				return "", ""
			case !judged:
				return strings.Join(parts, "; "), "—"
			case len(over) > 0:
				return strings.Join(parts, "; "), "**not met: " + strings.Join(over, "; ") + "**"
			}
			return strings.Join(parts, "; "), "met"
		}, "connections", "floor", "find-max")

	add("routing decision with 10,000 agents", "≥ 1M per second per core",
		func() (string, string) {
			single := f.Micro.Find("routing", "RouteRelease10k/")
			multi := f.Micro.Find("routing", "Route10kMultiGroup/")
			var parts []string
			worst, ok := math.Inf(1), false
			for _, g := range []struct {
				name string
				bs   Benchmarks
			}{{"one group", single}, {"agents in 3 of 10 groups", multi}} {
				lo, hi, _, _, has := g.bs.Extremes("decisions/s")
				if !has {
					continue
				}
				parts = append(parts, fmt.Sprintf("%s: %s decisions/s over %d policies", g.name, rangeOf(si, lo.Median, hi.Median, len(g.bs)), len(g.bs)))
				worst, ok = math.Min(worst, lo.Median), true
			}
			if !ok {
				return "", ""
			}
			return strings.Join(parts, "; "), atLeast(worst, routingFloor)
		}, "micro")

	add("bot answer on the sample knowledge base", "≥ 200k per second per core",
		func() (string, string) {
			asks := f.Micro.Find("bot", "Ask")
			for _, b := range asks {
				if b.Name != "Ask" {
					continue
				}
				m, ok := b.Metric("answers/s")
				if !ok {
					continue
				}
				t, _ := b.Metric("sec/op")
				return fmt.Sprintf("%s answers/s (%s per answer)", spanWith(m, si), durS(t.Median)), atLeast(m.Median, botFloor)
			}
			return "", ""
		}, "micro")

	add("bench sim, 10M sessions", "≤ 60 s wall, memory bounded by concurrent sessions",
		func() (string, string) {
			t := f.TenMillion
			if t == nil {
				return "", ""
			}
			return fmt.Sprintf("%s sessions in %s wall; peak RSS %s", count(t.Sim.Sessions), durS(t.Sim.WallS), mib(float64(t.Generator.PeakRSSBytes))),
				atMost(t.Sim.WallS, simWallLimitS, false)
		}, "ten-million")

	add("durability=sync throughput with group commit, against none", "≥ 50%",
		func() (string, string) {
			d := f.Durability
			if d == nil {
				return "", ""
			}
			none, okNone := d.Mode("none")
			synced, okSync := d.Mode("sync")
			if !okNone || !okSync || synced.Ratio.Runs == 0 {
				return "", ""
			}
			m := fmt.Sprintf("%s (sync %s msgs/s, none %s", pct(synced.Ratio.Median), count(int64(math.Round(synced.Throughput.Median))), count(int64(math.Round(none.Throughput.Median))))
			if d.Rounds > 1 {
				m += fmt.Sprintf(", medians of %d runs each; any run against any %s", d.Rounds, rangeOf(pct, synced.Ratio.Min, synced.Ratio.Max, d.Rounds))
			}
			return m + ")", atLeast(synced.Ratio.Median, syncShareFloor)
		}, "durability")
	return out
}
