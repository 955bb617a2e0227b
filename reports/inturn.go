package reports

import (
	"fmt"
	"slices"
	"strings"
)

// MergeInTurn merges the results of runs of one scenario played one after
// another (the repeated runs of a find-max step) into one, exactly where it
// counts (histograms, counters), as Merge does for shards played side by
// side; runs played in turn differ in what adds up: scenario time and CPU
// add, memory and connections do not, and the time series follow each
// other. Objectives are left out, to be evaluated again.
func MergeInTurn(runs ...*Result) (*Result, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("merge in turn: no results: %w", ErrMerge)
	}
	shards := make([]*Result, len(runs))
	for i, r := range runs {
		c := *r
		// Each run is the shard i of n of a whole; each drew its own
		// seed, named in its own result.json.
		c.Shard = ShardIndex{Index: i, Count: len(runs)}
		c.Seed = runs[0].Seed
		shards[i] = &c
	}
	m, err := Merge(shards...)
	if err != nil {
		return nil, fmt.Errorf("merge in turn: %w", err)
	}
	m.Valid, m.InvalidReasons = true, nil
	var offset float64
	m.Series = nil
	m.ScenarioS = 0
	for i, r := range runs {
		for _, why := range r.InvalidReasons {
			m.Invalidate(fmt.Sprintf("run %d of %d: %s", i+1, len(runs), why))
		}
		if !r.Valid && len(r.InvalidReasons) == 0 {
			m.Invalidate(fmt.Sprintf("run %d of %d: invalid, no reason given", i+1, len(runs)))
		}
		for _, p := range r.Series {
			p.StartS += offset
			p.EndS += offset
			m.Series = append(m.Series, p)
		}
		offset += r.ScenarioSeconds()
		m.ScenarioS += r.ScenarioSeconds()
		m.Agents.Count = max(m.Agents.Count, r.Agents.Count)
	}
	m.Generator = inTurn(runs, func(r *Result) Resources { return r.Generator })
	m.Server = inTurn(runs, func(r *Result) Resources { return r.Server })
	m.Saturation = mergeSaturation(m, runs, true)
	return m, nil
}

// inTurn combines the resources of runs played one after another: CPU
// time adds up; peak memory and connections are the largest run's.
func inTurn(runs []*Result, get func(*Result) Resources) Resources {
	var out Resources
	var sources []string
	for _, r := range runs {
		res := get(r)
		if res.Source != "" && !slices.Contains(sources, res.Source) {
			sources = append(sources, res.Source)
		}
		out.CPUSeconds += res.CPUSeconds
		out.PeakRSSBytes = max(out.PeakRSSBytes, res.PeakRSSBytes)
		if res.Connections > out.Connections {
			out.Connections, out.BytesPerConnection = res.Connections, res.BytesPerConnection
		}
	}
	out.Source = strings.Join(sources, ", ")
	return out
}
