package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The rules that judge a Saturation (RESULT.md, `saturation`).
const (
	// SaturatedUtilisation is the utilisation of its CPU set at which a
	// process is busy: 90%.
	SaturatedUtilisation = 0.9
	// SaturatedShare is the share of one-second intervals busy at which a
	// process is saturated over a run: 20%. A process busy for a fifth of
	// the run has a fifth of the run's latencies measured on a machine
	// with nothing to spare; the whole-run mean would hide bursts.
	SaturatedShare = 0.2
	// LagDominance is the share of a metric's corrected p99 that the
	// generator's action lag p99 must reach for the lag to dominate that
	// tail: half.
	LagDominance = 0.5
	// LagFloorMs is the corrected p99, in milliseconds, below which no
	// tail is judged: a sub-millisecond tail is within every objective,
	// and a lag of a few hundred microseconds "dominates" a 200 µs
	// connect without bending anything.
	LagFloorMs = 1.0
)

// The sides Saturation.Saturated names.
const (
	SideBench   = "bench"
	SideServer  = "server"
	SideBoth    = "both"
	SideShared  = "shared"
	SideNeither = "neither"
	SideUnknown = "unknown"
)

// lagMetrics are the latencies generator lag can bend: those measured in
// milliseconds on the wire, from an action the generator scheduled. The
// human-scale ones (queue_wait, first_reply, agent_reply, session) are
// seconds to minutes.
var lagMetrics = []string{"connect", "hello", "menu", "bot", "ack", "delivery", "broadcast", "resume"}

// Saturation is how busy bench and the server were on the CPUs each ran
// on over the run's load phase, and whether the generator could have bent
// the figures: a generator that saturated its CPUs, or whose action lag
// makes up most of a latency tail, measures itself. Judge fills in the
// verdicts from the figures.
type Saturation struct {
	// Split says where the processes ran, as the run's header printed it:
	// "bench 0, server 1 (of 0-1)".
	Split string `json:"split"`
	// Pinned reports whether bench placed the processes on their CPUs
	// (sched_setaffinity); false when both ran wherever they were allowed.
	Pinned bool `json:"pinned"`
	// Generator is the bench process's CPU use.
	Generator CPUUse `json:"generator"`
	// Server is the server's; absent when its CPUs are not known (a server
	// at --target).
	Server *CPUUse `json:"server,omitempty"`
	// Shared is the two processes together on the union of their CPU sets,
	// present only when the sets overlap (not pinned): two processes at
	// half each of two shared CPUs leave nothing to spare.
	Shared *CPUUse `json:"shared,omitempty"`
	// Saturated names the side whose CPUs had nothing to spare (the
	// process saturated them, or other processes starved it): "bench",
	// "server", "both", "shared" (neither alone, but together they
	// saturated the CPUs they share), "neither", or "unknown" (bench's
	// did not, and the server's CPUs are not known).
	Saturated string `json:"saturated"`
	// LagDominates lists the latency metrics whose corrected p99 the
	// generator's action lag dominates (lag p99 at least LagDominance of
	// it).
	LagDominates []string `json:"lag_dominates,omitempty"`
	// Verdicts says in words what was found, one warning each; empty when
	// nothing was.
	Verdicts []string `json:"verdicts,omitempty"`
}

// CPUUse is one process's (or two processes') use of a set of CPUs over
// the load phase, sampled once a second.
type CPUUse struct {
	// CPUs is the set, as a Linux cpulist ("0-1,4").
	CPUs string `json:"cpus"`
	// Count is the number of CPUs in it.
	Count int `json:"count"`
	// CPUSeconds is the CPU time (user plus system) used over WallS.
	CPUSeconds float64 `json:"cpu_seconds"`
	// WallS is the wall time measured: the load phase, from the first
	// arrival to the last session settled.
	WallS float64 `json:"wall_s"`
	// Utilisation is CPUSeconds over WallS times Count: 1 is every CPU
	// of the set busy all the time.
	Utilisation float64 `json:"utilisation"`
	// Intervals is the number of one-second intervals sampled.
	Intervals int `json:"intervals"`
	// BusyIntervals counts those at SaturatedUtilisation or more.
	BusyIntervals int `json:"busy_intervals"`
	// PeakUtilisation is the busiest interval's utilisation.
	PeakUtilisation float64 `json:"peak_utilisation"`
	// Saturated is the verdict: BusyIntervals at least SaturatedShare of
	// Intervals, or Utilisation at least SaturatedUtilisation.
	Saturated bool `json:"saturated"`
	// SetCPUSeconds is the time the set's CPUs were busy over WallS,
	// whatever ran on them (this process, the other measured, any other,
	// the kernel), from /proc/stat; 0 when not read.
	SetCPUSeconds float64 `json:"set_cpu_seconds"`
	// SetUtilisation is SetCPUSeconds over WallS times Count.
	SetUtilisation float64 `json:"set_utilisation"`
	// SetBusyIntervals counts the intervals in which the set was busy at
	// SaturatedUtilisation or more.
	SetBusyIntervals int `json:"set_busy_intervals"`
	// Starved is the verdict that the set had nothing to spare while the
	// process was not saturated itself: the set busy by the rule that
	// makes a process saturated, taken by other processes.
	Starved bool `json:"starved"`
}

// judge sets Utilisation and Saturated from the figures.
func (u *CPUUse) judge() {
	u.Utilisation = 0
	if u.Count > 0 && u.WallS > 0 {
		u.Utilisation = u.CPUSeconds / (u.WallS * float64(u.Count))
	}
	u.SetUtilisation = 0
	if u.Count > 0 && u.WallS > 0 {
		u.SetUtilisation = u.SetCPUSeconds / (u.WallS * float64(u.Count))
	}
	busy := func(util float64, intervals int) bool {
		return util >= SaturatedUtilisation ||
			u.Intervals > 0 && float64(intervals) >= SaturatedShare*float64(u.Intervals)
	}
	u.Saturated = busy(u.Utilisation, u.BusyIntervals)
	u.Starved = !u.Saturated && busy(u.SetUtilisation, u.SetBusyIntervals)
}

// Full reports whether the set had nothing to spare: the process
// saturated it, or other processes did (starved).
func (u *CPUUse) Full() bool { return u != nil && (u.Saturated || u.Starved) }

// Describe says how busy u was: "0.43 of 1 CPU (0), busiest second 0.61,
// 2 of 30 seconds at 90% or more". With the set's busy time read, it adds
// "; the CPUs busy 0.98 with every process, 29 seconds at 90% or more".
func (u *CPUUse) Describe() string {
	d := fmt.Sprintf("%.2f of %s (%s), busiest second %.2f, %d of %d seconds at %.0f%% or more",
		u.Utilisation, plural(u.Count, "CPU"), u.CPUs, u.PeakUtilisation, u.BusyIntervals, u.Intervals, 100*SaturatedUtilisation)
	if u.SetCPUSeconds > 0 {
		d += fmt.Sprintf("; the CPUs busy %.2f with every process, %s at %.0f%% or more", u.SetUtilisation, plural(u.SetBusyIntervals, "second"), 100*SaturatedUtilisation)
	}
	return d
}

// Judge fills in s's verdicts from its figures and r's latencies: each
// process's utilisation and whether it saturated, the side that did, the
// metrics whose tail the generator's lag dominates, and the warnings.
func (s *Saturation) Judge(r *Result) {
	s.Generator.judge()
	if s.Server != nil {
		s.Server.judge()
	}
	if s.Shared != nil {
		s.Shared.judge()
	}
	g := s.Generator.Full()
	sv := s.Server.Full()
	switch {
	case g && sv:
		s.Saturated = SideBoth
	case g:
		s.Saturated = SideBench
	case sv:
		s.Saturated = SideServer
	case s.Shared != nil && s.Shared.Saturated:
		s.Saturated = SideShared
	case s.Server == nil:
		s.Saturated = SideUnknown
	default:
		s.Saturated = SideNeither
	}
	s.Verdicts = nil
	shares := ""
	if s.Shared != nil {
		shares = " (the server and bench share them)"
	}
	switch {
	case s.Generator.Saturated:
		s.Verdicts = append(s.Verdicts, "generator saturated: bench used "+s.Generator.Describe()+": the figures may be bench's limit, not the server's")
	case s.Generator.Starved:
		s.Verdicts = append(s.Verdicts, "generator starved: other processes"+shares+" kept bench's CPUs busy: bench used "+s.Generator.Describe()+": the figures may be bench's limit, not the server's")
	}
	switch {
	case s.Server != nil && s.Server.Saturated:
		s.Verdicts = append(s.Verdicts, "server saturated: it used "+s.Server.Describe())
	case s.Server != nil && s.Server.Starved:
		s.Verdicts = append(s.Verdicts, "server starved: other processes"+shares+" kept its CPUs busy: it used "+s.Server.Describe())
	}
	if s.Saturated == SideShared {
		s.Verdicts = append(s.Verdicts, "bench and the server together saturated the CPUs they share: "+s.Shared.Describe()+"; place them apart (bench run --cpus, --server-cpus)")
	}
	s.LagDominates = nil
	lag := r.Actions.Lag
	need := PercentileSamples(99, 1)
	if lag.Count < need {
		return
	}
	for _, name := range lagMetrics {
		l, ok := r.Latency[name]
		if !ok || l.Count < need || l.P99Ms < LagFloorMs || lag.P99Ms < LagDominance*l.P99Ms {
			continue
		}
		s.LagDominates = append(s.LagDominates, name+".p99")
		s.Verdicts = append(s.Verdicts, fmt.Sprintf("generator lag dominates %s.p99: action lag p99 %s is at least half its corrected %s (raw %s): that tail is more bench's than the server's",
			name, FormatMs(lag.P99Ms), FormatMs(l.P99Ms), FormatMs(l.Raw.P99Ms)))
	}
}

// mergeSaturation combines the saturation sections of runs: played one
// after another (inTurn: a find-max step's runs, the same processes on the
// same CPUs), their times, CPU time and intervals add up; played side by
// side (the shards of a run), each generator is a process of its own and
// adds up, while servers on the same CPUs are one server, counted once (the
// largest). Nil when a run has no section. The verdicts are judged again on
// out.
func mergeSaturation(out *Result, runs []*Result, inTurn bool) *Saturation {
	var m *Saturation
	var splits []string
	for _, r := range runs {
		s := r.Saturation
		if s == nil {
			return nil
		}
		if m == nil {
			m = &Saturation{Pinned: true}
		}
		m.Pinned = m.Pinned && s.Pinned
		if !slices.Contains(splits, s.Split) {
			splits = append(splits, s.Split)
		}
	}
	if m == nil {
		return nil
	}
	m.Split = strings.Join(splits, "; ")
	get := func(f func(*Saturation) *CPUUse) []*CPUUse {
		var us []*CPUUse
		for _, r := range runs {
			us = append(us, f(r.Saturation))
		}
		return us
	}
	m.Generator = *mergeCPUUse(get(func(s *Saturation) *CPUUse { return &s.Generator }), inTurn, false)
	m.Server = mergeCPUUse(get(func(s *Saturation) *CPUUse { return s.Server }), inTurn, true)
	m.Shared = mergeCPUUse(get(func(s *Saturation) *CPUUse { return s.Shared }), inTurn, true)
	m.Judge(out)
	return m
}

// mergeCPUUse combines uses of CPUs; nil when any is nil. In turn, or side
// by side with one (by CPUs) counting once the use of the same CPUs, the
// largest, otherwise the processes add up.
func mergeCPUUse(us []*CPUUse, inTurn, one bool) *CPUUse {
	if len(us) == 0 || slices.Contains(us, nil) {
		return nil
	}
	same := !slices.ContainsFunc(us, func(u *CPUUse) bool { return u.CPUs != us[0].CPUs })
	out := &CPUUse{}
	if inTurn {
		out.CPUs = us[0].CPUs
		if !same {
			out.CPUs = joinDistinct(us)
		}
		for _, u := range us {
			out.Count = max(out.Count, u.Count)
			out.CPUSeconds += u.CPUSeconds
			out.SetCPUSeconds += u.SetCPUSeconds
			out.WallS += u.WallS
			out.Intervals += u.Intervals
			out.BusyIntervals += u.BusyIntervals
			out.SetBusyIntervals += u.SetBusyIntervals
			out.PeakUtilisation = max(out.PeakUtilisation, u.PeakUtilisation)
		}
		return out
	}
	if one && same {
		i := 0
		for j, u := range us {
			if u.CPUSeconds > us[i].CPUSeconds {
				i = j
			}
		}
		c := *us[i]
		return &c
	}
	out.CPUs = joinDistinct(us)
	for _, u := range us {
		out.Count += u.Count
		out.CPUSeconds += u.CPUSeconds
		out.SetCPUSeconds += u.SetCPUSeconds
		out.WallS = max(out.WallS, u.WallS)
		out.Intervals += u.Intervals
		out.BusyIntervals += u.BusyIntervals
		out.SetBusyIntervals += u.SetBusyIntervals
		out.PeakUtilisation = max(out.PeakUtilisation, u.PeakUtilisation)
	}
	return out
}

func joinDistinct(us []*CPUUse) string {
	var s []string
	for _, u := range us {
		if !slices.Contains(s, u.CPUs) {
			s = append(s, u.CPUs)
		}
	}
	return strings.Join(s, "; ")
}

// checkSaturation reports the first way s contradicts itself.
func checkSaturation(s *Saturation) error {
	switch s.Saturated {
	case SideBench, SideServer, SideBoth, SideShared, SideNeither, SideUnknown:
	default:
		return fmt.Errorf("saturation.saturated %q: want bench, server, both, shared, neither or unknown", s.Saturated)
	}
	for _, u := range []struct {
		name string
		u    *CPUUse
	}{{"generator", &s.Generator}, {"server", s.Server}, {"shared", s.Shared}} {
		if u.u == nil {
			continue
		}
		if u.u.Count < 0 || u.u.Intervals < 0 || u.u.BusyIntervals < 0 || u.u.BusyIntervals > u.u.Intervals ||
			u.u.SetBusyIntervals < 0 || u.u.SetBusyIntervals > u.u.Intervals ||
			math.IsNaN(u.u.Utilisation) || u.u.Utilisation < 0 {
			return fmt.Errorf("saturation.%s: count %d, %d busy of %d intervals, utilisation %g", u.name, u.u.Count, u.u.BusyIntervals, u.u.Intervals, u.u.Utilisation)
		}
	}
	return nil
}

// plural says n things: "1 CPU", "2 CPUs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
