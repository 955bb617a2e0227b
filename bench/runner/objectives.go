package runner

import (
	"fmt"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Evaluate evaluates the scenario's objectives against res, each with the
// value it compares in the result document's unit and the data it rests
// on. An objective whose metric saw no data, or too little to mean anything
// (a p99 of fewer than 100 values, "lost == 0" with no message sent), is
// not judged: it fails, saying so. A verdict needs data.
func Evaluate(sc *scenario.Scenario, res *reports.Result) []reports.Objective {
	out := make([]reports.Objective, 0, len(sc.Objectives))
	for _, o := range sc.Objectives {
		out = append(out, Judge(o, res))
	}
	return out
}

// Judge evaluates one objective against res.
func Judge(o scenario.Objective, res *reports.Result) reports.Objective {
	expr := o.Expr
	if expr == "" {
		expr = o.String()
	}
	r := reports.Objective{Expression: expr}
	m, ok := scenario.LookupMetric(o.Metric)
	if !ok {
		r.Insufficient = fmt.Sprintf("no metric %q in the result", o.Metric)
		return r
	}
	e := measure(o, m, res)
	r.Unit, r.Samples, r.MinSamples = e.unit, e.samples, e.need
	switch {
	case !e.ok:
		r.Insufficient = e.why
		return r
	case e.samples < e.need && e.samples == 0:
		r.Insufficient = "no data: " + e.what + " is 0"
		return r
	case e.samples < e.need:
		r.Value = e.value
		r.Insufficient = fmt.Sprintf("too few samples: %d %s, and %s needs %d", e.samples, e.what, statName(o), e.need)
		return r
	}
	r.Value = e.value
	r.Pass = o.Met(e.value)
	return r
}

// evidence is an objective's value and the data it rests on.
type evidence struct {
	value   float64
	unit    string
	samples int64  // values or events the value rests on
	need    int64  // the fewest that mean anything
	what    string // what samples counts ("delivery values", "messages sent")
	ok      bool   // false: the result cannot give the value at all
	why     string // when !ok
}

// measure takes the statistic o compares from res, with its evidence.
func measure(o scenario.Objective, m scenario.Metric, res *reports.Result) evidence {
	switch m.Kind {
	case scenario.Latency:
		return latencyEvidence(o, res)
	case scenario.Gauge:
		e := evidence{unit: "chats", samples: res.Sessions.ToHuman, need: 1, what: "sessions handed to agents", ok: true}
		switch o.Metric {
		case "max_concurrent":
			e.value = float64(res.Agents.MaxConcurrent)
		case "mean_concurrent":
			e.value = res.Agents.MeanConcurrent
		default:
			return evidence{why: fmt.Sprintf("no gauge %q in the result", o.Metric)}
		}
		return e
	}
	n, ok := counter(o.Metric, res)
	if !ok {
		return evidence{why: fmt.Sprintf("no counter %q in the result", o.Metric)}
	}
	e := counterEvidence(o.Metric, res)
	e.ok, e.need, e.unit, e.value = true, 1, "count", float64(n)
	switch o.Stat.Kind {
	case scenario.StatRate:
		s := res.ScenarioSeconds()
		if s <= 0 {
			return evidence{why: "no scenario time played, so no rate"}
		}
		e.unit, e.value = "per_s", float64(n)/s
	case scenario.StatRatio:
		base, _ := counter(m.Base, res)
		e.unit, e.samples = "ratio", base
		if base > 0 {
			e.value = float64(n) / float64(base)
		}
	}
	return e
}

// counterEvidence says what a counter's count means anything over: "lost
// == 0" says something only once messages were sent, "errors == 0" once
// clients reached the server.
func counterEvidence(name string, res *reports.Result) evidence {
	switch name {
	case "delivered", "lost", "duplicated", "reordered", "unacked", "cut_off":
		return evidence{samples: res.Messages.Sent, what: "messages sent"}
	case "late", "dropped":
		return evidence{samples: res.Actions.Started + res.Actions.Dropped, what: "generator actions"}
	case "bot_resolved", "to_human", "abandoned", "completed":
		return evidence{samples: res.Sessions.Started, what: "sessions started"}
	}
	// errors, disconnects, reconnects, sessions, sent: clients that said
	// hello and were answered.
	return evidence{samples: res.Latency["hello"].Count, what: "sessions established (hello answered)"}
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
	case "cut_off":
		return res.Messages.CutOff, true
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

// minPercentileSamples is the fewest values any percentile is judged on.
const minPercentileSamples = 10

// latencyEvidence returns a latency statistic in milliseconds (count and
// rate as numbers) with the values it rests on: a percentile needs a value
// beyond it (100 values for a p99), a mean 10, a minimum or maximum one.
func latencyEvidence(o scenario.Objective, res *reports.Result) evidence {
	var s reports.Summary
	if o.Metric == "lag" {
		s = res.Actions.Lag
	} else {
		s = res.Latency[o.Metric].Summary // none recorded: empty
	}
	e := evidence{unit: "ms", samples: s.Count, need: 1, what: o.Metric + " values", ok: true}
	switch o.Stat.Kind {
	case scenario.StatCount:
		e.unit, e.value, e.need = "count", float64(s.Count), 0
		return e
	case scenario.StatRate:
		sec := res.ScenarioSeconds()
		if sec <= 0 {
			return evidence{why: "no scenario time played, so no rate"}
		}
		e.unit, e.value, e.need = "per_s", float64(s.Count)/sec, 0
		return e
	case scenario.StatMin:
		e.value = s.MinMs
	case scenario.StatMax:
		e.value = s.MaxMs
	case scenario.StatMean:
		e.value, e.need = s.MeanMs, minPercentileSamples
	case scenario.StatPercentile:
		e.need = max(minPercentileSamples, reports.PercentileSamples(o.Stat.Percentile, 1))
		e.value = percentileMs(s, o.Stat.Percentile)
	default:
		return evidence{why: fmt.Sprintf("statistic %s does not apply to a latency", o.Stat)}
	}
	return e
}

// percentileMs returns percentile p of s in milliseconds, from its
// histogram where it has one.
func percentileMs(s reports.Summary, p float64) float64 {
	if s.Count == 0 {
		return 0
	}
	if s.Histogram != "" {
		if h, err := reports.DecodeHistogram(s.Histogram); err == nil {
			return float64(h.ValueAtPercentile(p)) / 1e6
		}
	}
	switch p {
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

// statName says what o's statistic is, for a message ("a p99").
func statName(o scenario.Objective) string {
	if st := o.Stat.String(); st != "" {
		return "a " + st
	}
	return "the value"
}
