package runner

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Summary writes a compact table of res: per latency metric its count and
// p50/p99/max, corrected and raw; the message accounting; sessions by
// outcome; the objectives, PASS or FAIL; resources; and validity.
func Summary(w io.Writer, res *reports.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\n%s (seed %d) against %s, %s of scenario time in %s\n\n", res.Scenario, res.Seed, res.Target,
		reports.FormatMs(1000*res.ScenarioSeconds()), reports.FormatMs(1000*res.DurationS))
	fmt.Fprintln(tw, "metric\tcount\tp50\tp99\tmax\traw p50\traw p99\traw max\t")
	ms := reports.FormatMs
	names := make([]string, 0, len(res.Latency))
	for _, m := range record.Metrics() {
		names = append(names, m.String())
	}
	for name := range res.Latency {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		l, ok := res.Latency[name]
		if !ok || l.Count == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, l.Count, ms(l.P50Ms), ms(l.P99Ms), ms(l.MaxMs), ms(l.Raw.P50Ms), ms(l.Raw.P99Ms), ms(l.Raw.MaxMs))
	}
	if lag := res.Actions.Lag; lag.Count > 0 {
		fmt.Fprintf(tw, "lag\t%d\t%s\t%s\t%s\t\t\t\t\n", lag.Count, ms(lag.P50Ms), ms(lag.P99Ms), ms(lag.MaxMs))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	m := res.Messages
	fmt.Fprintf(w, "\nmessages  sent %d  delivered %d  lost %d  duplicated %d  reordered %d  unacked %d",
		m.Sent, m.Delivered, m.Lost, m.Duplicated, m.Reordered, m.Unacked)
	if m.CutOff > 0 {
		fmt.Fprintf(w, "  cut off in flight %d", m.CutOff)
	}
	fmt.Fprintln(w)
	s := res.Sessions
	fmt.Fprintf(w, "sessions  started %d  bot-resolved %d  to human %d  abandoned %d  completed %d\n",
		s.Started, s.BotResolved, s.ToHuman, s.Abandoned, s.Completed)
	fmt.Fprintf(w, "agents    %d, max concurrent chats %d, mean %.2f\n", res.Agents.Count, res.Agents.MaxConcurrent, res.Agents.MeanConcurrent)
	fmt.Fprintf(w, "actions   started %d  late %d  dropped %d\n", res.Actions.Started, res.Actions.Late, res.Actions.Dropped)
	if rc := res.Reconnects; rc != nil {
		fmt.Fprintf(w, "reconnects  connections dropped %d  redials %d (failed %d)  resumed %d\n", rc.Dropped, rc.Attempts, rc.Failed, rc.Resumed)
	}
	if ch := res.Chaos; ch != nil {
		chaosSummary(w, ch)
	}
	if len(res.Errors) > 0 {
		codes := make([]string, 0, len(res.Errors))
		for c := range res.Errors {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		fmt.Fprint(w, "errors   ")
		for _, c := range codes {
			fmt.Fprintf(w, " %s=%d", c, res.Errors[c])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "generator cpu %.2fs  peak rss %.1f MiB  %d connections", res.Generator.CPUSeconds, mib(res.Generator.PeakRSSBytes), res.Generator.Connections)
	if res.Generator.BytesPerConnection > 0 {
		fmt.Fprintf(w, "  %.0f B/connection", res.Generator.BytesPerConnection)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "server    cpu %.2fs  peak rss %.1f MiB  (%s)\n", res.Server.CPUSeconds, mib(res.Server.PeakRSSBytes), res.Server.Source)
	if sat := res.Saturation; sat != nil {
		fmt.Fprintf(w, "cpus      %s\n", sat.Split)
		fmt.Fprintf(w, "  bench   %s\n", sat.Generator.Describe())
		if sat.Server != nil {
			fmt.Fprintf(w, "  server  %s\n", sat.Server.Describe())
		}
		if sat.Shared != nil {
			fmt.Fprintf(w, "  both    %s\n", sat.Shared.Describe())
		}
		for _, v := range sat.Verdicts {
			fmt.Fprintf(w, "WARNING: %s\n", v)
		}
	}
	if len(res.Objectives) > 0 {
		fmt.Fprintln(w, "\nobjectives")
		for _, o := range res.Objectives {
			fmt.Fprintf(w, "  %-7s  %-28s  %s\n", o.Verdict(), o.Expression, o.Measured())
		}
	}
	if res.Valid {
		fmt.Fprintln(w, "\nrun VALID")
	} else {
		fmt.Fprintln(w, "\nrun INVALID:")
		for _, r := range res.InvalidReasons {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if fm := res.FindMax; fm != nil {
		fmt.Fprintf(w, "\nfind-max over %s (stopped: %s)\n", fm.Parameter, fm.Stopped)
		for i, st := range fm.Steps {
			fmt.Fprintf(w, "  step %2d  %-10g %s\n", i+1, st.Load, stepVerdict(st))
		}
		fmt.Fprintf(w, "highest %s meeting every objective: %g", fm.Parameter, fm.Best)
		if fm.Failed > 0 {
			fmt.Fprintf(w, " (the knee is below %g)", fm.Failed)
		}
		fmt.Fprintln(w, "; the figures above are that step's")
		if fm.KneeSaturated != "" {
			fmt.Fprintf(w, "at the knee (%g): %s\n", fm.Failed, kneeSays(fm.KneeSaturated))
		}
	}
	if Passed(res) {
		fmt.Fprintln(w, "result: PASS")
	} else {
		fmt.Fprintln(w, "result: FAIL")
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// chaosSummary writes the kills of a crash test: per kill the messages in
// flight and the two recoveries, the server's and the clients'.
func chaosSummary(w io.Writer, ch *reports.Chaos) {
	fmt.Fprintf(w, "chaos     %s every %gs, durability %s: %d kills, %d messages in flight at them; server restart max %.0fms, clients back max %.0fms",
		ch.Fault, ch.EveryS, ch.Durability, ch.Count, ch.InFlight, 1000*ch.MaxServerRestartS, 1000*ch.MaxClientsResumedS)
	if ch.NotResumed > 0 {
		fmt.Fprintf(w, " (%d kills without every client back)", ch.NotResumed)
	}
	fmt.Fprintln(w)
	for i, k := range ch.Kills {
		fmt.Fprintf(w, "  kill %d at %6.1fs  pid %d -> %d  in flight %d  connections %d  server restart %.0fms", i+1, k.AtS, k.Pid, k.NewPid, k.InFlight, k.Connections, 1000*k.ServerRestartS)
		switch {
		case k.Error != "":
			fmt.Fprintf(w, "  restart failed: %s", k.Error)
		case k.Resumed:
			fmt.Fprintf(w, "  clients back %.0fms", 1000*k.ClientsResumedS)
		default:
			fmt.Fprint(w, "  clients not all back")
		}
		fmt.Fprintln(w)
	}
}
