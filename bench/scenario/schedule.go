package scenario

import (
	"math"
	"math/rand/v2"
	"time"
)

// Schedule is the planned load of a scenario, computed from its
// configuration apart from running it: the target level (arrival rate or
// population) at every offset of the run, as piecewise-linear segments,
// and the sessions expected in each. Offsets are scenario time from the
// start; rates are per second of scenario time.
type Schedule struct {
	// Arrival is the arrival model the levels are for: a rate of new
	// customers per second (poisson) or a number of connected customers
	// (population).
	Arrival Arrival
	// Base is customers.rate or customers.population: the level of a
	// phase at 100%.
	Base float64
	// Segments are the phases in order, covering the run without gaps.
	Segments []Segment
}

// Segment is one phase of a Schedule: the level moves linearly from From
// at Start to To at End (a spike or steady phase has From == To; a jump
// happens between segments).
type Segment struct {
	// Name is the phase's name.
	Name string
	// Kind is the phase's kind.
	Kind PhaseKind
	// Start and End are the offsets the segment covers, [Start, End).
	Start, End time.Duration
	// From and To are the levels at Start and End.
	From, To float64
	// Sessions is the number of sessions expected to start in the segment.
	Sessions float64
}

// Schedule computes the scenario's planned load. Without phases it is one
// steady segment at the base for the whole duration.
func (s *Scenario) Schedule() Schedule {
	sc := Schedule{Arrival: s.Customers.Arrival, Base: s.base()}
	if len(s.Phases) == 0 {
		sc.Segments = []Segment{{Name: string(PhaseSteady), Kind: PhaseSteady, End: time.Duration(s.Duration), From: sc.Base, To: sc.Base}}
	}
	var at time.Duration
	level := 0.0
	for _, p := range s.Phases {
		seg := Segment{Name: p.Name, Kind: p.Kind, Start: at, End: at + time.Duration(p.Duration), To: float64(p.Target) * sc.Base}
		seg.From = seg.To
		if p.Kind == PhaseRamp {
			seg.From = level
		}
		sc.Segments = append(sc.Segments, seg)
		at, level = seg.End, seg.To
	}
	// Expected sessions: the arrivals of a Poisson schedule; for a
	// population, the customers started to raise it, plus those replacing
	// customers who leave after their script.
	script := s.ScriptTime().Seconds()
	prev := 0.0
	for i := range sc.Segments {
		seg := &sc.Segments[i]
		area := seg.area()
		switch sc.Arrival {
		case ArrivalPoisson:
			seg.Sessions = area
		case ArrivalPopulation:
			seg.Sessions = math.Max(0, seg.From-prev) + math.Max(0, seg.To-seg.From)
			if !s.Customers.Stay && script > 0 {
				seg.Sessions += area / script
			}
		}
		prev = seg.To
	}
	return sc
}

// base is the level of a phase at 100%.
func (s *Scenario) base() float64 {
	if s.Customers.Arrival == ArrivalPopulation {
		return float64(s.Customers.Population)
	}
	return s.Customers.Rate
}

// area is the integral of the segment's level over its time, in
// level·seconds.
func (g Segment) area() float64 { return (g.From + g.To) / 2 * (g.End - g.Start).Seconds() }

// Duration is the length of the schedule.
func (sc Schedule) Duration() time.Duration {
	if len(sc.Segments) == 0 {
		return 0
	}
	return sc.Segments[len(sc.Segments)-1].End
}

// At returns the target level at offset t: the arrival rate per second
// (poisson) or the population; 0 outside the run.
func (sc Schedule) At(t time.Duration) float64 {
	i := sc.Phase(t)
	if i < 0 {
		return 0
	}
	g := sc.Segments[i]
	if g.End == g.Start {
		return g.To
	}
	return g.From + (g.To-g.From)*float64(t-g.Start)/float64(g.End-g.Start)
}

// Phase returns the index of the segment holding offset t, or -1 outside
// the run.
func (sc Schedule) Phase(t time.Duration) int {
	for i, g := range sc.Segments {
		if t >= g.Start && t < g.End {
			return i
		}
	}
	return -1
}

// Peak returns the highest level of the schedule.
func (sc Schedule) Peak() float64 {
	peak := 0.0
	for _, g := range sc.Segments {
		peak = max(peak, g.From, g.To)
	}
	return peak
}

// Sessions returns the number of sessions the scenario is expected to
// start: exact for Poisson arrivals; for a population, estimated with
// session lengths of Scenario.ScriptTime.
func (sc Schedule) Sessions() float64 {
	total := 0.0
	for _, g := range sc.Segments {
		total += g.Sessions
	}
	return total
}

// Cumulative returns the integral of the level from the start to offset
// t, in level·seconds: for Poisson arrivals, the number of arrivals
// expected by t.
func (sc Schedule) Cumulative(t time.Duration) float64 {
	total := 0.0
	for _, g := range sc.Segments {
		if t >= g.End {
			total += g.area()
			continue
		}
		if t > g.Start {
			tau := (t - g.Start).Seconds()
			slope := g.slope()
			total += g.From*tau + slope*tau*tau/2
		}
		break
	}
	return total
}

// slope is the level's change per second in the segment.
func (g Segment) slope() float64 {
	if g.End == g.Start {
		return 0
	}
	return (g.To - g.From) / (g.End - g.Start).Seconds()
}

// TimeOf is the inverse of Cumulative: the offset at which the integral
// of the level reaches x, and false when it never does within the run.
func (sc Schedule) TimeOf(x float64) (time.Duration, bool) {
	if x < 0 || math.IsNaN(x) {
		return 0, false
	}
	for _, g := range sc.Segments {
		area := g.area()
		if x > area {
			x -= area
			continue
		}
		if x <= 0 {
			return g.Start, true
		}
		// Solve From·τ + slope·τ²/2 = x for τ in the segment, in the form
		// that stays accurate when the slope is small.
		b, a := g.From, g.slope()/2
		disc := b*b + 4*a*x
		if disc < 0 {
			disc = 0
		}
		den := b + math.Sqrt(disc)
		if den <= 0 {
			continue // a zero level: nothing arrives here
		}
		tau := 2 * x / den
		t := g.Start + time.Duration(tau*float64(time.Second))
		return min(t, g.End), true
	}
	return 0, false
}

// NextArrival returns the offset of the Poisson arrival after one at t,
// drawn with r: arrivals follow the schedule's rate however it changes (a
// non-homogeneous Poisson process, by inversion of Cumulative); false when
// none comes before the end. Start from t = 0 for the first arrival.
func (sc Schedule) NextArrival(t time.Duration, r *rand.Rand) (time.Duration, bool) {
	next, ok := sc.TimeOf(sc.Cumulative(t) + r.ExpFloat64())
	if ok && next < t {
		next = t
	}
	return next, ok
}

// ScriptTime estimates how long a customer's script takes in scenario
// time: its own waits (think times, background, kill) and, for chat, the
// agent's greeting and typing, weighted by each step's chance and, for
// steps that depend on it, by the chance that an agent serves the
// conversation. Server latency and queue waits are not counted, so it is
// a lower bound.
func (s *Scenario) ScriptTime() time.Duration {
	total := 0.0
	human := 0.0 // probability that an agent serves the conversation
	for i := range s.Customers.Script {
		st := &s.Customers.Script[i]
		p := st.Probability()
		switch st.Kind() {
		case StepThink:
			total += p * float64(st.Think.Mean())
		case StepBackground:
			total += p * float64(st.Background.Mean())
		case StepKill:
			total += p * float64(st.Kill.ReconnectAfter.Mean())
		case StepAsk:
			total += p * (1 - human) * float64(st.Ask.Count-1) * float64(st.Ask.Think.Mean())
		case StepAskPerson:
			total += p * (1 - human) * float64(s.Agents.Greet.Mean())
			human += p * (1 - human)
		case StepChat:
			per := float64(st.Chat.Think.Mean() + s.Agents.Typing.Mean())
			total += p * human * float64(st.Chat.Messages) * per
		case StepOpen:
			human = 0
		}
	}
	return time.Duration(total)
}

// PeakConnections estimates the most connections the scenario holds at
// once: customers' devices at the peak (a population, or by Little's law
// the peak arrival rate times the script time, or every arrival when
// customers stay), plus one per agent and one for the broadcasting admin.
// Runtimes use it to size a run to the file-descriptor limit.
func (s *Scenario) PeakConnections() int {
	sc := s.Schedule()
	var customers float64
	switch {
	case sc.Arrival == ArrivalPopulation:
		customers = sc.Peak()
	case s.Customers.Stay:
		customers = sc.Sessions()
	default:
		customers = sc.Peak() * s.ScriptTime().Seconds()
	}
	n := math.Ceil(customers)*float64(max(s.Customers.Devices, 1)) + float64(s.AgentCount())
	if s.Broadcast.Enabled() {
		n++
	}
	return int(min(n, math.MaxInt32))
}
