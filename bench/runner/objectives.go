package runner

import (
	"math"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Evaluate evaluates the scenario's objectives against res, each with the
// value it compares in the result document's unit. An objective whose value
// the result cannot give (an empty histogram's percentile) is evaluated on
// NaN, which fails every comparison.
func Evaluate(sc *scenario.Scenario, res *reports.Result) []reports.Objective {
	out := make([]reports.Objective, 0, len(sc.Objectives))
	for _, o := range sc.Objectives {
		v := Value(o, res)
		out = append(out, reports.Objective{Expression: o.String(), Value: v, Pass: !math.IsNaN(v) && o.Met(v)})
	}
	return out
}

// Value returns the statistic objective o compares, taken from res.
func Value(o scenario.Objective, res *reports.Result) float64 {
	m, ok := scenario.LookupMetric(o.Metric)
	if !ok {
		return math.NaN()
	}
	switch m.Kind {
	case scenario.Latency:
		return latencyValue(o, res)
	case scenario.Gauge:
		switch o.Metric {
		case "max_concurrent":
			return float64(res.Agents.MaxConcurrent)
		case "mean_concurrent":
			return res.Agents.MeanConcurrent
		}
		return math.NaN()
	}
	n, ok := counter(o.Metric, res)
	if !ok {
		return math.NaN()
	}
	switch o.Stat.Kind {
	case scenario.StatRate:
		if res.DurationS <= 0 {
			return math.NaN()
		}
		return float64(n) / res.DurationS
	case scenario.StatRatio:
		base, ok := counter(m.Base, res)
		if !ok {
			return math.NaN()
		}
		if base == 0 {
			return 0
		}
		return float64(n) / float64(base)
	}
	return float64(n)
}

// counter returns the named counter of res.
func counter(name string, res *reports.Result) (int64, bool) {
	switch name {
	case "sent":
		return res.Messages.Sent, true
	case "delivered":
		return res.Messages.Delivered, true
	case "lost":
		return res.Messages.Lost, true
	case "duplicated":
		return res.Messages.Duplicated, true
	case "reordered":
		return res.Messages.Reordered, true
	case "unacked":
		return res.Messages.Unacked, true
	case "errors":
		var n int64
		for _, c := range res.Errors {
			n += c
		}
		return n, true
	case "disconnects", "reconnects":
		rc := res.Reconnects
		if rc == nil {
			return 0, true
		}
		if name == "disconnects" {
			return rc.Dropped, true
		}
		return rc.Resumed, true
	case "sessions":
		return res.Sessions.Started, true
	case "bot_resolved":
		return res.Sessions.BotResolved, true
	case "to_human":
		return res.Sessions.ToHuman, true
	case "abandoned":
		return res.Sessions.Abandoned, true
	case "completed":
		return res.Sessions.Completed, true
	case "late":
		return res.Actions.Late, true
	case "dropped":
		return res.Actions.Dropped, true
	case "actions":
		return res.Actions.Started + res.Actions.Dropped, true
	}
	return 0, false
}

// latencyValue returns a latency statistic in milliseconds (count and rate
// as numbers).
func latencyValue(o scenario.Objective, res *reports.Result) float64 {
	var s reports.Summary
	if o.Metric == "lag" {
		s = res.Actions.Lag
	} else {
		s = res.Latency[o.Metric].Summary // none recorded: empty
	}
	switch o.Stat.Kind {
	case scenario.StatCount:
		return float64(s.Count)
	case scenario.StatRate:
		if res.DurationS <= 0 {
			return math.NaN()
		}
		return float64(s.Count) / res.DurationS
	}
	if s.Count == 0 {
		// No event: nothing exceeded a bound, but nothing met one either.
		// An upper bound on an empty latency holds (no event was slow).
		switch o.Op {
		case scenario.OpLess, scenario.OpLessEqual:
			return 0
		}
		return math.NaN()
	}
	switch o.Stat.Kind {
	case scenario.StatMin:
		return s.MinMs
	case scenario.StatMax:
		return s.MaxMs
	case scenario.StatMean:
		return s.MeanMs
	case scenario.StatPercentile:
		if s.Histogram != "" {
			if h, err := reports.DecodeHistogram(s.Histogram); err == nil {
				return float64(h.ValueAtPercentile(o.Stat.Percentile)) / 1e6
			}
		}
		switch o.Stat.Percentile {
		case 50:
			return s.P50Ms
		case 90:
			return s.P90Ms
		case 99:
			return s.P99Ms
		case 99.9:
			return s.P999Ms
		}
		return s.MaxMs
	}
	return math.NaN()
}
