package reports

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Merge combines the results of the shards of one run into the result of
// the whole run, exactly: histograms are added bucket by bucket and every
// summary is computed again from the sums, counters and generator resources
// are added, the run is valid only if every shard was. The shards must agree
// on scenario, seed and shard count, and each shard must be given exactly
// once (ErrMerge otherwise). The shards' objectives are not carried over:
// evaluate the scenario's objectives again against the merged result.
//
// The merged result covers the earliest start to the latest end, as shard
// {0, 1} with MergedShards set. Time series are aligned by interval number
// (each shard's first interval with the others' first). Server resources
// sampled from the same source by several shards count once (the largest
// sample); different sources add up.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("merge: no results: %w", ErrMerge)
	}
	if err := checkShards(results); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	first := results[0]
	out := &Result{
		Schema: Schema,
		Run: Run{
			Tool:         first.Tool,
			ToolVersion:  first.ToolVersion,
			Scenario:     first.Scenario,
			ScenarioFile: first.ScenarioFile,
			Seed:         first.Seed,
			Start:        first.Start,
			End:          first.End,
			Shard:        ShardIndex{Index: 0, Count: 1},
			MergedShards: len(results),
			Transport:    first.Transport,
			Host:         first.Host,
		},
		Valid:   true,
		Latency: map[string]Latency{},
	}
	var targets []string
	for _, r := range results {
		if r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		// The shards play the same scenario side by side.
		out.ScenarioS = max(out.ScenarioS, r.ScenarioS)
		if !slices.Contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
		if !r.Valid {
			out.Valid = false
			reasons := r.InvalidReasons
			if len(reasons) == 0 {
				reasons = []string{"invalid, no reason given"}
			}
			for _, why := range reasons {
				out.InvalidReasons = append(out.InvalidReasons,
					fmt.Sprintf("shard %d/%d: %s", r.Shard.Index, r.Shard.Count, why))
			}
		}
	}
	out.Target = strings.Join(targets, ", ")
	out.DurationS = out.End.Sub(out.Start).Seconds()

	if err := mergeLatency(out, results); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if err := mergeActions(out, results); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if err := mergeAgents(out, results); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	for _, r := range results {
		m := &out.Messages
		m.Sent += r.Messages.Sent
		m.Delivered += r.Messages.Delivered
		m.Lost += r.Messages.Lost
		m.Duplicated += r.Messages.Duplicated
		m.Reordered += r.Messages.Reordered
		m.Unacked += r.Messages.Unacked
		m.CutOff += r.Messages.CutOff

		s := &out.Sessions
		s.Started += r.Sessions.Started
		s.BotResolved += r.Sessions.BotResolved
		s.ToHuman += r.Sessions.ToHuman
		s.Abandoned += r.Sessions.Abandoned
		s.Completed += r.Sessions.Completed

		if rc := r.Reconnects; rc != nil {
			if out.Reconnects == nil {
				out.Reconnects = &Reconnects{}
			}
			out.Reconnects.Dropped += rc.Dropped
			out.Reconnects.Attempts += rc.Attempts
			out.Reconnects.Failed += rc.Failed
			out.Reconnects.Resumed += rc.Resumed
		}
		for code, n := range r.Errors {
			if out.Errors == nil {
				out.Errors = map[string]int64{}
			}
			out.Errors[code] += n
		}
	}
	out.Generator = mergeResources(results, func(r *Result) Resources { return r.Generator }, false)
	out.Server = mergeResources(results, func(r *Result) Resources { return r.Server }, true)
	out.Saturation = mergeSaturation(out, results, false)
	series, err := mergeSeries(results)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out.Series = series
	return out, nil
}

// checkShards checks that results are the shards of one run, each once.
func checkShards(results []*Result) error {
	first := results[0]
	n := first.Shard.Count
	seen := make([]bool, max(n, 0))
	for _, r := range results {
		switch {
		case r.FindMax != nil:
			return fmt.Errorf("shard %d/%d is a --find-max search, not a shard of one run: %w", r.Shard.Index, r.Shard.Count, ErrMerge)
		case r.Chaos != nil:
			return fmt.Errorf("shard %d/%d is a --chaos run, whose kills are one process's, not a shard of one run: %w", r.Shard.Index, r.Shard.Count, ErrMerge)
		case r.Scenario != first.Scenario:
			return fmt.Errorf("shards disagree on scenario (%q and %q): %w", first.Scenario, r.Scenario, ErrMerge)
		case r.Seed != first.Seed:
			return fmt.Errorf("shards disagree on seed (%d and %d): %w", first.Seed, r.Seed, ErrMerge)
		case r.Shard.Count != n:
			return fmt.Errorf("shards disagree on shard count (%d and %d): %w", n, r.Shard.Count, ErrMerge)
		case r.Shard.Index < 0 || r.Shard.Index >= n:
			return fmt.Errorf("shard %d of %d out of range: %w", r.Shard.Index, n, ErrMerge)
		case seen[r.Shard.Index]:
			return fmt.Errorf("shard %d of %d given twice: %w", r.Shard.Index, n, ErrMerge)
		}
		seen[r.Shard.Index] = true
	}
	var missing []string
	for i, ok := range seen {
		if !ok {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("shards %s of %d missing: %w", strings.Join(missing, ", "), n, ErrMerge)
	}
	return nil
}

// mergeSummaries adds the histograms of summaries and summarises the sum.
// what names them in errors.
func mergeSummaries(what string, summaries []Summary) (Summary, error) {
	var sum *hdrhistogram.Histogram
	for _, s := range summaries {
		h, err := histogramOf(s)
		if err != nil {
			return Summary{}, fmt.Errorf("%s: %w", what, err)
		}
		switch {
		case h == nil:
		case sum == nil:
			sum = h
		default:
			if dropped := sum.Merge(h); dropped != 0 {
				return Summary{}, fmt.Errorf("%s: histogram ranges differ (%d values outside %d..%d ns): %w",
					what, dropped, sum.LowestTrackableValue(), sum.HighestTrackableValue(), ErrMerge)
			}
		}
	}
	if sum == nil {
		return Summary{}, nil
	}
	s, err := NewSummary(sum)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

func mergeLatency(out *Result, results []*Result) error {
	names := map[string]bool{}
	for _, r := range results {
		for name := range r.Latency {
			names[name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		var corrected, raw []Summary
		var l Latency
		for _, r := range results {
			rl, ok := r.Latency[name]
			if !ok {
				continue
			}
			corrected = append(corrected, rl.Summary)
			raw = append(raw, rl.Raw)
			l.OutOfRange += rl.OutOfRange
		}
		var err error
		if l.Summary, err = mergeSummaries("latency."+name, corrected); err != nil {
			return err
		}
		if l.Raw, err = mergeSummaries("latency."+name+".raw", raw); err != nil {
			return err
		}
		out.Latency[name] = l
	}
	return nil
}

func mergeActions(out *Result, results []*Result) error {
	first := results[0].Actions
	a := &out.Actions
	a.LateBoundMs = first.LateBoundMs
	a.MaxLateFraction = first.MaxLateFraction
	lags := make([]Summary, 0, len(results))
	for _, r := range results {
		if r.Actions.LateBoundMs != first.LateBoundMs {
			return fmt.Errorf("shards disagree on actions.late_bound_ms (%g and %g): %w",
				first.LateBoundMs, r.Actions.LateBoundMs, ErrMerge)
		}
		a.Started += r.Actions.Started
		a.Late += r.Actions.Late
		a.Dropped += r.Actions.Dropped
		a.MaxLateFraction = max(a.MaxLateFraction, r.Actions.MaxLateFraction)
		lags = append(lags, r.Actions.Lag)
	}
	var err error
	a.Lag, err = mergeSummaries("actions.lag", lags)
	return err
}

func mergeAgents(out *Result, results []*Result) error {
	a := &out.Agents
	levels := map[int]*ConcurrencyLevel{}
	replies := map[int][]Summary{}
	for _, r := range results {
		a.Count += r.Agents.Count
		a.MaxConcurrent = max(a.MaxConcurrent, r.Agents.MaxConcurrent)
		for _, lv := range r.Agents.Concurrency {
			m := levels[lv.Chats]
			if m == nil {
				m = &ConcurrencyLevel{Chats: lv.Chats}
				levels[lv.Chats] = m
			}
			m.AgentSeconds += lv.AgentSeconds
			m.Peaked += lv.Peaked
		}
		for _, lv := range r.Agents.Reply {
			replies[lv.Chats] = append(replies[lv.Chats], lv.Summary)
		}
	}
	var total, weighted float64
	for _, chats := range slices.Sorted(maps.Keys(levels)) {
		lv := levels[chats]
		total += lv.AgentSeconds
		weighted += float64(chats) * lv.AgentSeconds
		a.Concurrency = append(a.Concurrency, *lv)
	}
	if total > 0 {
		a.MeanConcurrent = weighted / total
		for i := range a.Concurrency {
			a.Concurrency[i].Share = a.Concurrency[i].AgentSeconds / total
		}
	}
	for _, chats := range slices.Sorted(maps.Keys(replies)) {
		s, err := mergeSummaries(fmt.Sprintf("agents.reply_by_concurrency[chats=%d]", chats), replies[chats])
		if err != nil {
			return err
		}
		a.Reply = append(a.Reply, ReplyLevel{Chats: chats, Summary: s})
	}
	return nil
}

// mergeResources adds up the resources of the shards. With bySource,
// samples from one source (one server measured by several shards) count
// once, by their largest figures, and distinct sources add up.
func mergeResources(results []*Result, get func(*Result) Resources, bySource bool) Resources {
	groups := map[string]Resources{}
	var order []string
	for i, r := range results {
		res := get(r)
		key := res.Source
		if !bySource {
			key = fmt.Sprint(i) // every shard its own process
		}
		g, ok := groups[key]
		if !ok {
			order = append(order, key)
			groups[key] = res
			continue
		}
		g.CPUSeconds = max(g.CPUSeconds, res.CPUSeconds)
		g.PeakRSSBytes = max(g.PeakRSSBytes, res.PeakRSSBytes)
		if res.Connections > g.Connections {
			g.Connections, g.BytesPerConnection = res.Connections, res.BytesPerConnection
		}
		groups[key] = g
	}
	var out Resources
	var sources []string
	var weighted float64
	for _, key := range order {
		g := groups[key]
		if g.Source != "" && !slices.Contains(sources, g.Source) {
			sources = append(sources, g.Source)
		}
		out.CPUSeconds += g.CPUSeconds
		out.PeakRSSBytes += g.PeakRSSBytes
		out.Connections += g.Connections
		weighted += g.BytesPerConnection * float64(g.Connections)
	}
	if out.Connections > 0 {
		out.BytesPerConnection = weighted / float64(out.Connections)
	}
	out.Source = strings.Join(sources, ", ")
	return out
}

// mergeSeries adds up the shards' time series interval by interval, and
// merges their interval histograms.
func mergeSeries(results []*Result) ([]Point, error) {
	var out []Point
	hists := []map[string]*hdrhistogram.Histogram{}
	for _, r := range results {
		for i, p := range r.Series {
			if i == len(out) {
				out = append(out, p)
				out[i].Latency = nil
				hists = append(hists, map[string]*hdrhistogram.Histogram{})
			} else {
				o := &out[i]
				o.StartS = min(o.StartS, p.StartS)
				o.EndS = max(o.EndS, p.EndS)
				o.Messages += p.Messages
				o.Deliveries += p.Deliveries
				o.Errors += p.Errors
				o.Connections += p.Connections
				o.QueueLength += p.QueueLength
			}
			for name, il := range p.Latency {
				h, err := histogramOf(Summary{Histogram: il.Histogram})
				if err != nil {
					return nil, fmt.Errorf("series[%d].latency.%s: %w", i, name, err)
				}
				if h == nil {
					continue
				}
				if acc := hists[i][name]; acc == nil {
					hists[i][name] = h
				} else if dropped := acc.Merge(h); dropped != 0 {
					return nil, fmt.Errorf("series[%d].latency.%s: %d values out of range: %w", i, name, dropped, ErrMerge)
				}
			}
		}
	}
	for i := range out {
		out[i].MessagesPerS, out[i].DeliveriesPerS = perSecond(out[i])
		for name, h := range hists[i] {
			il, err := NewIntervalLatency(h)
			if err != nil {
				return nil, fmt.Errorf("series[%d].latency.%s: %w", i, name, err)
			}
			if out[i].Latency == nil {
				out[i].Latency = map[string]IntervalLatency{}
			}
			out[i].Latency[name] = il
		}
	}
	return out, nil
}

// perSecond gives a point's message and delivery rates over its length.
func perSecond(p Point) (messages, deliveries float64) {
	d := p.EndS - p.StartS
	if d <= 0 {
		return 0, 0
	}
	return float64(p.Messages) / d, float64(p.Deliveries) / d
}

// PointRates fills p's per-second rates from its counts and length; the
// recorder uses it so that a shard's rates and a merged run's agree.
func PointRates(p *Point) {
	p.MessagesPerS, p.DeliveriesPerS = perSecond(*p)
}
