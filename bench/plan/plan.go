// Package plan is bench plan: from a scenario (the forecast: arrivals,
// bot deflection, message rates, handle times, as behaviour) and service
// objectives, it answers how many agents each skill group needs, how many
// chats an agent can carry at once while still meeting the reply
// objective, and how many server nodes carry the peak, and explains the
// arithmetic behind each number.
//
// Agents and concurrency come from bench sim. Every staffing is simulated
// with several seeds (the same seeds at every staffing and concurrency, so
// that neighbouring points differ by the staffing and not by the draw),
// and a staffing meets the answer objective when the mean of its seeds'
// answered shares does. For each concurrency, in increasing order, a
// search finds the fewest agents that meet it, no more than the lower
// concurrency needed (or it says where and why more), and the spread over
// the seeds says how sure that number is. Server nodes come from the
// per-node capacity a bench run --find-max result measured.
package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/swarmdesk/swarmdesk/bench/progress"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/bench/sim"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Objectives are the service levels a plan must meet.
type Objectives struct {
	// AnswerShare of the customers who ask for a person must be answered
	// (assigned) within AnswerWithin; those who abandon count as not
	// answered. Default 80% within 20s, the contact-centre convention.
	AnswerShare  float64
	AnswerWithin time.Duration
	// ReplyP90 bounds the 90th percentile of the agent reply latency the
	// customer sees (from the customer's message to the agent's reply).
	// Default 60s.
	ReplyP90 time.Duration
}

// Options configure a plan.
type Options struct {
	// Scenario is the forecast: an embedded scenario's name or a file.
	Scenario string
	// Overrides change its common fields (a larger --rate, say).
	Overrides scenario.Overrides
	// Objectives are the service levels.
	Objectives Objectives
	// Concurrency are the chats per agent to try. Default 1, 2, 3, 4, 5,
	// 6, 8, 10, 12, 15, 20.
	Concurrency []int
	// Seeds is how many seeds every staffing is simulated with: the
	// scenario's seed and the ones after it. Default 3, the fewest that
	// give a spread; each is a whole simulation.
	Seeds int
	// Resolution is how close the search gets to the fewest agents, as a
	// share of them (at least one agent), or half the seeds' spread in
	// agents when that is wider: a finer answer than the spread means
	// nothing. Default 2%.
	Resolution float64
	// MaxAgents bounds the staffing search. Default 20 times the
	// scenario's agents.
	MaxAgents int
	// Capacity is a bench run --find-max result: the load one server node
	// carried while meeting its objectives. Nil: no node count.
	Capacity *reports.Result
	// Headroom is the share of a node's capacity kept free. Default 30%.
	Headroom float64
	// Progress shows how the plan is getting on: a status line with an
	// estimate of the time left, and a notice per concurrency done. Nil
	// shows nothing.
	Progress *progress.Line
}

// Level is the outcome at one concurrency.
type Level struct {
	// Chats is the most chats each agent carries at once.
	Chats int `json:"chats"`
	// Agents is the fewest agents found meeting the answer objective at
	// Chats (the mean over the seeds); 0 when even MaxAgents did not.
	// With Bounded, it is the staffing tried, an upper bound.
	Agents int `json:"agents"`
	// Below is the most agents found not to meet the answer objective:
	// the fewest that do lie in (Below, Agents]. 0 with Bounded.
	Below int `json:"below"`
	// Bounded says that the search stopped at the first staffing tried,
	// the lower concurrency's, because the reply objective was already
	// missed there (fewer agents only carry more chats each, slower).
	Bounded bool `json:"bounded,omitempty"`
	// Answered is the mean over the seeds of the share of customers asking
	// for a person answered within the objective, at Agents;
	// AnsweredMin and AnsweredMax its range over the seeds, and
	// AnsweredCI95 the half-width of its 95% confidence interval (t
	// distribution over the seeds; 0 with one seed).
	Answered     float64 `json:"answered"`
	AnsweredMin  float64 `json:"answered_min"`
	AnsweredMax  float64 `json:"answered_max"`
	AnsweredCI95 float64 `json:"answered_ci95"`
	// Margin is how many agents Agents is uncertain by: AnsweredCI95 over
	// the slope of the answered share against agents near Agents, plus
	// the staffings the search left untried below Agents. -1 when the
	// slope could not be measured.
	Margin int `json:"margin"`
	// ReplyP90Ms is the agent reply latency's p90 at Agents, simulated ms,
	// the mean over the seeds; ReplyP90MaxMs the highest seed's.
	ReplyP90Ms    float64 `json:"reply_p90_ms"`
	ReplyP90MaxMs float64 `json:"reply_p90_max_ms"`
	// MeanChats is the time-weighted mean of chats per online agent, the
	// mean over the seeds.
	MeanChats float64 `json:"mean_chats"`
	// ReplyMeets says whether ReplyP90Ms meets the reply objective.
	ReplyMeets bool `json:"reply_meets"`
	// ReplyByChats is the reply latency p90 (ms) by the agent's
	// concurrency at the moment of the reply, the mean over the seeds that
	// have replies at that concurrency: the curve behind the answer.
	ReplyByChats map[int]float64 `json:"reply_p90_ms_by_chats"`
	// Monotone is false when this concurrency needs more agents than the
	// lower one did; Note then says by how much and what was measured.
	Monotone bool   `json:"monotone"`
	Note     string `json:"note,omitempty"`
	// Runs is the number of simulations the staffing search took.
	Runs int `json:"runs"`
}

// Plan is bench plan's answer.
type Plan struct {
	// Scenario is the forecast's name.
	Scenario string `json:"scenario"`
	// AnswerShare, AnswerWithinS and ReplyP90S are the objectives.
	AnswerShare   float64 `json:"answer_share"`
	AnswerWithinS float64 `json:"answer_within_s"`
	ReplyP90S     float64 `json:"reply_p90_s"`
	// Seeds are the seeds every staffing was simulated with.
	Seeds []uint64 `json:"seeds"`
	// Levels are the concurrencies tried, in increasing order.
	Levels []Level `json:"levels"`
	// Monotone says whether the staffing never rises with the concurrency.
	Monotone bool `json:"monotone"`
	// Chats is the recommended concurrency: the lowest meeting both
	// objectives whose staffing is within the spread of the fewest agents
	// any such concurrency needs; 0 if none meets both.
	Chats int `json:"chats"`
	// Agents is the staffing at Chats; Groups shares it among the skill
	// groups as the scenario's pools are shared.
	Agents int            `json:"agents"`
	Groups map[string]int `json:"groups"`
	// Nodes is the server nodes for the peak, from Capacity; 0 without.
	Nodes int `json:"nodes,omitempty"`
	// Explain says, line by line, where each number comes from.
	Explain []string `json:"explain"`
	// Simulations is how many simulations the plan took.
	Simulations int `json:"simulations"`
}

// ErrPlan marks a plan that cannot be made from its inputs.
var ErrPlan = errors.New("plan: cannot plan")

func (o *Options) defaults(sc *scenario.Scenario) {
	if o.Objectives.AnswerShare <= 0 {
		o.Objectives.AnswerShare = 0.8
	}
	if o.Objectives.AnswerWithin <= 0 {
		o.Objectives.AnswerWithin = 20 * time.Second
	}
	if o.Objectives.ReplyP90 <= 0 {
		o.Objectives.ReplyP90 = 60 * time.Second
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = []int{1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20}
	}
	o.Concurrency = slices.Compact(slices.Sorted(slices.Values(o.Concurrency)))
	if o.Seeds <= 0 {
		o.Seeds = 3
	}
	if o.Resolution <= 0 {
		o.Resolution = 0.02
	}
	if o.MaxAgents <= 0 {
		o.MaxAgents = 20 * max(sc.AgentCount(), 1)
	}
	if o.Headroom <= 0 || o.Headroom >= 1 {
		o.Headroom = 0.3
	}
}

// Make makes the plan.
func Make(ctx context.Context, opts Options) (*Plan, error) {
	return makePlan(ctx, opts, nil)
}

// makePlan makes the plan with measure, or bench sim when nil.
func makePlan(ctx context.Context, opts Options, measure measureFunc) (*Plan, error) {
	base, err := scenario.LoadWith(opts.Scenario, opts.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", sim.ErrScenario, err)
	}
	if len(base.Agents.Groups) == 0 {
		return nil, fmt.Errorf("%w: %s has no agents to size", ErrPlan, base.Name)
	}
	opts.defaults(base)
	ob := opts.Objectives
	p := &Plan{Scenario: base.Name, AnswerShare: ob.AnswerShare, AnswerWithinS: ob.AnswerWithin.Seconds(), ReplyP90S: ob.ReplyP90.Seconds(), Monotone: true}
	for i := range opts.Seeds {
		p.Seeds = append(p.Seeds, base.Seed+uint64(i))
	}
	s := &search{ctx: ctx, measure: measure, base: base, opts: opts, seeds: p.Seeds, started: time.Now(), kappa: initialKappa}
	if s.measure == nil {
		s.measure = s.simulate
	}
	// The concurrencies in increasing order, each bounded by the one
	// before: a higher concurrency should never need more agents, and when
	// it does, that is measured and said rather than hidden by noise.
	var prev *Level
	replyMissed := false
	for i, chats := range opts.Concurrency {
		s.level = i
		lv, err := s.searchLevel(chats, prev, replyMissed)
		if err != nil {
			return nil, err
		}
		p.Levels = append(p.Levels, lv)
		p.Monotone = p.Monotone && lv.Monotone
		if lv.Agents > 0 {
			prev = &p.Levels[len(p.Levels)-1]
			replyMissed = replyMissed || !lv.ReplyMeets
		}
		s.notice(lv)
	}
	p.Simulations = s.runs
	p.recommend()
	p.explain(base, opts)
	if p.Chats > 0 {
		sc, err := staffed(base, p.Chats, p.Agents)
		if err != nil {
			return nil, err
		}
		p.Groups = map[string]int{}
		for _, g := range sc.Agents.Groups {
			p.Groups[g.Group] += g.Count
		}
	}
	if opts.Capacity != nil {
		if err := p.nodes(base, opts.Capacity, opts.Headroom); err != nil {
			return nil, err
		}
	} else {
		p.Explain = append(p.Explain, "server nodes: not sized; they need one node's capacity, a bench run --find-max result given as --capacity")
	}
	if opts.Progress != nil {
		opts.Progress.Done(fmt.Sprintf("plan: %d concurrencies, %d simulations in %s", len(p.Levels), p.Simulations, progress.Duration(time.Since(s.started))))
	}
	return p, nil
}

// staffed returns base with every pool at chats per agent and n agents in
// all, shared among the pools as base shares them.
func staffed(base *scenario.Scenario, chats, n int) (*scenario.Scenario, error) {
	sc := base.Clone()
	for i := range sc.Agents.Groups {
		if err := sc.Set(fmt.Sprintf("agents.groups[%d].max_chats", i), strconv.Itoa(chats)); err != nil {
			return nil, fmt.Errorf("%w: %w", sim.ErrScenario, err)
		}
	}
	if err := sc.Apply(scenario.Overrides{Agents: &n}); err != nil {
		return nil, fmt.Errorf("%w: %w", sim.ErrScenario, err)
	}
	return sc, nil
}

// point is one staffing at one concurrency, simulated with every seed.
type point struct {
	agents    int
	shares    []float64 // answered share by seed
	replies   []float64 // agent reply p90 (ms) by seed
	meanChats []float64 // by seed
	byChats   []map[int]float64
}

// mean is the mean answered share over the seeds.
func (pt *point) mean() float64 { return mean(pt.shares) }

// initialKappa is the slope the first search steps by before it has
// measured one: an answered share of 0.5 points per 1% more agents, about
// what peak-hour shows (70.7% at 150 agents and 74.0% at 160, 4 chats).
const initialKappa = 0.5

// sample is what one simulation tells the plan.
type sample struct {
	share     float64         // answered in time
	replyMs   float64         // agent reply p90
	meanChats float64         // chats per online agent, time-weighted
	byChats   map[int]float64 // agent reply p90 by the agent's chats then
}

// measureFunc simulates a staffing with one seed.
type measureFunc func(ctx context.Context, chats, n int, seed uint64) (sample, error)

// simulate is the plan's measureFunc: bench sim on the staffed scenario.
func (s *search) simulate(ctx context.Context, chats, n int, seed uint64) (sample, error) {
	sc, err := staffed(s.base, chats, n)
	if err != nil {
		return sample{}, err
	}
	sc.Seed = seed
	res, err := sim.Simulate(ctx, sc, sim.Options{TotalsOnly: true})
	if err != nil {
		return sample{}, fmt.Errorf("plan: %d chats, %d agents, seed %d: %w", chats, n, seed, err)
	}
	if err := ctx.Err(); err != nil {
		return sample{}, err // an interrupted simulation measured nothing
	}
	a, err := answered(res, s.opts.Objectives.AnswerWithin)
	if err != nil {
		return sample{}, err
	}
	m := sample{share: a, replyMs: res.Latency["agent_reply"].P90Ms, meanChats: res.Agents.MeanConcurrent, byChats: map[int]float64{}}
	for _, r := range res.Agents.Reply {
		if r.Count > 0 {
			m.byChats[r.Chats] = r.P90Ms
		}
	}
	return m, nil
}

// search runs the staffing searches of a plan and keeps its progress.
type search struct {
	ctx     context.Context
	measure measureFunc
	base    *scenario.Scenario
	opts    Options
	seeds   []uint64
	started time.Time
	level   int // index of the concurrency searched
	runs    int // simulations so far
	// runsDone are the simulations of the concurrencies finished, for the
	// estimate of those left.
	runsDone []int
	// found are the levels whose staffing was found, for the next guess.
	found []Level
	// kappa is the slope of the answered share against agents, in share
	// per share of agents: the mean of the levels found (kappas), or
	// initialKappa before any. It sets how far to step from a first
	// point, and bounds the slope a few noisy points measure.
	kappa  float64
	kappas []float64
}

// estimate is the share of the plan done, counting the concurrencies left
// at the mean simulations of those done after the first (which starts
// from no trend and takes the most), or four staffings of every seed
// before then.
func (s *search) estimate() float64 {
	per := 4.0 * float64(len(s.seeds))
	if len(s.runsDone) > 1 {
		per = mean(intsToFloats(s.runsDone[1:]))
	}
	done := float64(s.runs)
	thisLevel := done - float64(sum(s.runsDone))
	left := float64(len(s.opts.Concurrency)-s.level)*per - thisLevel
	return done / (done + max(left, per/4))
}

// status draws the status line.
func (s *search) status(chats, lo, hi int) {
	if s.opts.Progress == nil {
		return
	}
	el := time.Since(s.started)
	bracket := fmt.Sprintf("agents %d..", lo+1)
	if hi > 0 {
		bracket += strconv.Itoa(hi)
	}
	s.opts.Progress.Status(progress.Join("plan "+progress.Duration(el),
		fmt.Sprintf("%d/%d: %d chats", s.level+1, len(s.opts.Concurrency), chats),
		bracket, fmt.Sprintf("%d sims", s.runs), progress.Estimate(el, s.estimate())))
}

// notice writes a concurrency's outcome above the status line.
func (s *search) notice(lv Level) {
	s.runsDone = append(s.runsDone, lv.Runs)
	if s.opts.Progress == nil {
		return
	}
	fmt.Fprintf(s.opts.Progress, "plan: %s\n", lv.summary(s.opts.Objectives))
}

// eval simulates each staffing in ns at chats per agent with every seed,
// on every core at once (each simulation is deterministic, so the result
// does not depend on the order they finish in).
func (s *search) eval(chats int, ns []int) ([]*point, error) {
	pts := make([]*point, len(ns))
	for i, n := range ns {
		k := len(s.seeds)
		pts[i] = &point{agents: n, shares: make([]float64, k), replies: make([]float64, k), meanChats: make([]float64, k), byChats: make([]map[int]float64, k)}
	}
	g, gctx := errgroup.WithContext(s.ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, n := range ns {
		for j, seed := range s.seeds {
			g.Go(func() error {
				m, err := s.measure(gctx, chats, n, seed)
				if err != nil {
					return err
				}
				pt := pts[i]
				pt.shares[j], pt.replies[j], pt.meanChats[j], pt.byChats[j] = m.share, m.replyMs, m.meanChats, m.byChats
				return nil
			})
		}
	}
	err := g.Wait()
	s.runs += len(ns) * len(s.seeds)
	if err != nil {
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("plan: %w", ctxErr)
		}
		return nil, err
	}
	return pts, nil
}

// searchLevel finds the fewest agents meeting the answer objective at
// chats per agent, no more than prev's (the lower concurrency's) unless
// that staffing is measured to fall short here, and measures the reply
// latency there. After a lower concurrency missed the reply objective, it
// first tries prev's staffing: if the reply objective is missed there too,
// the search stops (fewer agents would only carry more chats each).
func (s *search) searchLevel(chats int, prev *Level, replyMissed bool) (Level, error) {
	ob := s.opts.Objectives
	lv := Level{Chats: chats, Monotone: true, Margin: -1}
	runs0 := s.runs
	pts := map[int]*point{}
	floor := len(s.base.Agents.Groups) - 1 // fewer than one agent a pool is no staffing
	capN := s.opts.MaxAgents
	if prev != nil {
		capN = min(prev.Agents, capN)
	}
	guess := min(max(s.guess(chats), floor+1), capN)
	evaluate := func(ns ...int) error {
		var todo []int
		for _, n := range ns {
			if pts[n] == nil && !slices.Contains(todo, n) {
				todo = append(todo, n)
			}
		}
		got, err := s.eval(chats, todo)
		for _, pt := range got {
			pts[pt.agents] = pt
		}
		return err
	}
	// bracket returns the fewest agents found meeting the objective (0:
	// none yet) and the most below it found not to (floor: none).
	bracket := func() (lo, hi int) {
		lo = floor
		for n, pt := range pts {
			if pt.mean() >= ob.AnswerShare && (hi == 0 || n < hi) {
				hi = n
			}
		}
		for n, pt := range pts {
			if pt.mean() < ob.AnswerShare && n > lo && (hi == 0 || n < hi) {
				lo = n
			}
		}
		return lo, hi
	}
	// The search stops within Resolution of the agents, or half the
	// seeds' spread in agents once that is known: a finer bracket than
	// the spread would be bought with simulations and mean nothing.
	tol := func(ref int) int {
		t := s.opts.Resolution * float64(ref)
		if _, hi := bracket(); hi > 0 {
			if k := slope(pts, hi, s.kappa); k > 0 {
				t = max(t, ci95(pts[hi].shares)/k/2)
			}
		}
		return max(1, int(math.Round(t)))
	}

	if prev != nil && replyMissed {
		s.status(chats, floor, capN)
		if err := evaluate(capN); err != nil {
			return lv, err
		}
		if pt := pts[capN]; pt.mean() >= ob.AnswerShare && mean(pt.replies) > float64(ob.ReplyP90)/1e6 {
			lv.fill(pt, 0, ob)
			lv.Bounded = true
			lv.Runs = s.runs - runs0
			return lv, nil
		}
	}
	width := 0 // the bracket's width before the last evaluation
	for {
		lo, hi := bracket()
		if hi > 0 && hi-lo <= tol(hi) {
			break
		}
		if hi == 0 && lo >= capN {
			if prev == nil || capN >= s.opts.MaxAgents {
				lv.Runs = s.runs - runs0
				return lv, nil // even the most agents do not answer in time
			}
			// prev's staffing falls short here: search above it.
			lv.Monotone = false
			lv.Note = s.shortfall(prev, pts[capN])
			capN = s.opts.MaxAgents
			continue
		}
		s.status(chats, lo, hi)
		var cands []int
		if hi > 0 && width > 0 && hi-lo > width/2 {
			// The last step did not halve the bracket: bisect.
			mid := (lo + hi + 1) / 2
			cands = []int{mid}
		} else {
			cands = s.candidates(pts, lo, hi, capN, guess, tol(max(hi, lo+1, guess)))
		}
		if hi > 0 {
			width = hi - lo
		}
		if err := evaluate(cands...); err != nil {
			return lv, err
		}
	}
	lo, hi := bracket()
	lv.fill(pts[hi], lo, ob)
	if k := slope(pts, hi, s.kappa); k > 0 {
		lv.Margin = int(math.Ceil(lv.AnsweredCI95/k)) + max(hi-lo-1, 0)
		s.kappas = append(s.kappas, k*float64(hi))
		s.kappa = mean(s.kappas)
	}
	lv.Runs = s.runs - runs0
	s.found = append(s.found, lv)
	return lv, nil
}

// fill sets the level's figures from the point at its staffing.
func (lv *Level) fill(pt *point, below int, ob Objectives) {
	lv.Agents, lv.Below = pt.agents, below
	lv.Answered = pt.mean()
	lv.AnsweredMin, lv.AnsweredMax = slices.Min(pt.shares), slices.Max(pt.shares)
	lv.AnsweredCI95 = ci95(pt.shares)
	lv.ReplyP90Ms, lv.ReplyP90MaxMs = mean(pt.replies), slices.Max(pt.replies)
	lv.MeanChats = mean(pt.meanChats)
	lv.ReplyMeets = lv.ReplyP90Ms <= float64(ob.ReplyP90)/1e6
	lv.ReplyByChats = map[int]float64{}
	count := map[int]int{}
	for _, m := range pt.byChats {
		for c, v := range m {
			lv.ReplyByChats[c] += v
			count[c]++
		}
	}
	for c, n := range count {
		lv.ReplyByChats[c] /= float64(n)
	}
}

// shortfall says how prev's staffing falls short at a higher concurrency,
// and whether that is more than the spread over the seeds.
func (s *search) shortfall(prev *Level, pt *point) string {
	m, ci := pt.mean(), ci95(pt.shares)
	both := math.Hypot(ci, prev.AnsweredCI95)
	why := fmt.Sprintf("more than the spread over the seeds (±%.1f points): the agents carry %.2f chats on average against %.2f, and the reply p90 is %.1fs against %.1fs, so each chat holds its place longer",
		100*both, mean(pt.meanChats), prev.MeanChats, mean(pt.replies)/1000, prev.ReplyP90Ms/1000)
	if prev.Answered-m <= both {
		why = fmt.Sprintf("within the spread over the seeds (±%.1f points): the draw, not a measured rise", 100*both)
	}
	return fmt.Sprintf("needs more agents than %d chats per agent: %d agents answer %.1f%% here (seeds %.1f–%.1f%%) against %.1f%% there, %s",
		prev.Chats, pt.agents, 100*m, 100*slices.Min(pt.shares), 100*slices.Max(pt.shares), 100*prev.Answered, why)
}

// guess is where the search at chats starts: the staffings found so far,
// extended as a power of the concurrency (agents ∝ chats^b, b from the
// last two found, -0.8 from one); before any, the scenario's own chat
// places shared out at chats each.
func (s *search) guess(chats int) int {
	switch n := len(s.found); n {
	case 0:
		places := 0
		for _, g := range s.base.Agents.Groups {
			places += g.Count * max(g.MaxChats, 1)
		}
		return int(math.Ceil(float64(max(places, 1)) / float64(chats)))
	case 1:
		a := s.found[0]
		return int(math.Ceil(float64(a.Agents) * math.Pow(float64(chats)/float64(a.Chats), -0.8)))
	default:
		a, b := s.found[n-2], s.found[n-1]
		e := math.Log(float64(b.Agents)/float64(a.Agents)) / math.Log(float64(b.Chats)/float64(a.Chats))
		e = min(max(e, -1), 0)
		return int(math.Ceil(float64(b.Agents) * math.Pow(float64(chats)/float64(b.Chats), e)))
	}
}

// candidates are the staffings to simulate next: a pair tol apart around
// where the answered share is expected to cross the objective, so that
// one batch can close the bracket; interpolated between the bracket's ends
// when both are measured, extrapolated along the slope (at most halving or
// doubling) when one is, the guess before any.
func (s *search) candidates(pts map[int]*point, lo, hi, capN, guess, tol int) []int {
	target := s.opts.Objectives.AnswerShare
	var r float64
	switch {
	case len(pts) == 0:
		r = float64(guess)
	case hi > 0 && pts[lo] != nil:
		flo, fhi := pts[lo].mean(), pts[hi].mean()
		r = float64(lo) + (target-flo)/(fhi-flo)*float64(hi-lo)
	case hi > 0:
		k := slope(pts, hi, s.kappa)
		r = max(float64(hi)-(pts[hi].mean()-target)/k, float64(hi)/2)
	default:
		k := slope(pts, lo, s.kappa)
		r = min(float64(lo)+(target-pts[lo].mean())/k, 2*float64(lo))
	}
	top := capN
	if hi > 0 {
		top = hi - 1
	}
	clamp := func(n int) int { return min(max(n, lo+1), top) }
	up := clamp(int(math.Ceil(r + float64(tol)/2)))
	down := clamp(up - tol)
	var out []int
	for _, n := range []int{up, down} {
		if pts[n] == nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []int{clamp((lo + max(hi, lo+2) + 1) / 2)}
	}
	return out
}

// slope is the answered share gained per agent near n: the least-squares
// slope over the measured staffings within 25% of n, kept within a third
// and three times prior (a share per share of agents, the slope of the
// levels before) so that a few noisy points cannot make it vanish or
// soar; prior alone when those points do not rise.
func slope(pts map[int]*point, n int, prior float64) float64 {
	var xs, ys []float64
	for m, pt := range pts {
		if math.Abs(float64(m-n)) <= 0.25*float64(n) {
			xs, ys = append(xs, float64(m)), append(ys, pt.mean())
		}
	}
	at := prior / float64(max(n, 1))
	if len(xs) >= 2 {
		mx, my := mean(xs), mean(ys)
		var sxy, sxx float64
		for i := range xs {
			sxy += (xs[i] - mx) * (ys[i] - my)
			sxx += (xs[i] - mx) * (xs[i] - mx)
		}
		if sxx > 0 && sxy > 0 {
			if prior <= 0 {
				return sxy / sxx
			}
			return min(max(sxy/sxx, at/3), 3*at)
		}
	}
	return at
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

func intsToFloats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// ci95 is the half-width of the 95% confidence interval of the mean of
// xs, by Student's t: 0 for fewer than two values.
func ci95(xs []float64) float64 {
	n := len(xs)
	if n < 2 {
		return 0
	}
	m := mean(xs)
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	sd := math.Sqrt(ss / float64(n-1))
	return tQuantile975(n-1) * sd / math.Sqrt(float64(n))
}

// tQuantile975 is the 97.5th percentile of Student's t with df degrees of
// freedom.
func tQuantile975(df int) float64 {
	table := []float64{0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086}
	if df < len(table) {
		return table[df]
	}
	return 1.96 + 2.4/float64(df) // within 0.5% of the exact value beyond 20
}

// answered returns the share of customers who asked for a person and were
// assigned within d: the queue waits up to d over every wait plus every
// abandonment.
func answered(res *reports.Result, d time.Duration) (float64, error) {
	qw := res.Latency["queue_wait"]
	total := float64(qw.Count + res.Sessions.Abandoned)
	if total == 0 {
		return 1, nil
	}
	if qw.Count == 0 {
		return 0, nil
	}
	h, err := reports.DecodeHistogram(qw.Histogram)
	if err != nil {
		return 0, fmt.Errorf("plan: queue wait histogram: %w", err)
	}
	var within int64
	for _, b := range h.Distribution() {
		if b.To <= int64(d) {
			within += b.Count
		}
	}
	return float64(within) / total, nil
}

// recommend picks the concurrency: among those meeting both objectives,
// the lowest whose staffing is within the spread of the fewest agents any
// of them needs. A higher concurrency that saves fewer agents than the
// spread gains nothing measurable, and costs longer chats.
func (p *Plan) recommend() {
	var best *Level
	for i := range p.Levels {
		lv := &p.Levels[i]
		if lv.Agents > 0 && lv.ReplyMeets && !lv.Bounded && (best == nil || lv.Agents < best.Agents) {
			best = lv
		}
	}
	if best == nil {
		return
	}
	for _, lv := range p.Levels {
		if lv.Agents > 0 && lv.ReplyMeets && !lv.Bounded && float64(lv.Agents-best.Agents) <= math.Hypot(float64(lv.uncertainty()), float64(best.uncertainty())) {
			p.Chats, p.Agents = lv.Chats, lv.Agents
			return
		}
	}
}

// uncertainty is how many agents the level's staffing may be off by: its
// margin, or without one the staffings left untried below it.
func (lv Level) uncertainty() int {
	if lv.Margin >= 0 {
		return lv.Margin
	}
	return max(lv.Agents-lv.Below-1, 0)
}

// nodes sizes the server fleet from a find-max result: the peak load over
// one node's capacity less the headroom.
func (p *Plan) nodes(sc *scenario.Scenario, capRes *reports.Result, headroom float64) error {
	fm := capRes.FindMax
	if fm == nil || fm.Best <= 0 {
		return fmt.Errorf("%w: the capacity result has no find-max best load (run bench run --find-max)", ErrPlan)
	}
	sched := sc.Schedule()
	param := "customers.rate"
	if sched.Arrival == scenario.ArrivalPopulation {
		param = "customers.population"
	}
	if fm.Parameter != param {
		return fmt.Errorf("%w: the capacity was measured over %s and the forecast is in %s", ErrPlan, fm.Parameter, param)
	}
	peak := sched.Peak()
	usable := fm.Best * (1 - headroom)
	p.Nodes = int(math.Ceil(peak / usable))
	p.Explain = append(p.Explain, fmt.Sprintf(
		"server nodes: the forecast peaks at %s = %g; one node met every objective of %q up to %g (bench run --find-max, %s); keeping %.0f%% headroom a node takes %g, so ceil(%g / %g) = %d nodes",
		param, peak, capRes.Scenario, fm.Best, capRes.Target, 100*headroom, usable, peak, usable, p.Nodes))
	return nil
}

// summary is the level in a sentence.
func (lv Level) summary(ob Objectives) string {
	if lv.Agents == 0 {
		return fmt.Sprintf("%d chats per agent: no staffing up to the most tried answers %.0f%% within %v", lv.Chats, 100*ob.AnswerShare, ob.AnswerWithin)
	}
	verdict := "meets"
	if !lv.ReplyMeets {
		verdict = "misses"
	}
	agents := fmt.Sprintf("%d agents", lv.Agents)
	if lv.Bounded {
		agents = fmt.Sprintf("at most %d agents (not searched lower: the reply objective is missed already)", lv.Agents)
	} else if lv.Margin >= 0 {
		agents += fmt.Sprintf(" (±%d)", lv.Margin)
	}
	s := fmt.Sprintf("%d chats per agent: %s answer %.1f%% in time (seeds %.1f–%.1f%%); agents carry %.2f chats on average and the agent reply p90 is %.1fs, which %s the %v objective",
		lv.Chats, agents, 100*lv.Answered, 100*lv.AnsweredMin, 100*lv.AnsweredMax, lv.MeanChats, lv.ReplyP90Ms/1000, verdict, ob.ReplyP90)
	if lv.Note != "" {
		s += "; " + lv.Note
	}
	return s
}

// explain writes the arithmetic of the agents and concurrency.
func (p *Plan) explain(sc *scenario.Scenario, opts Options) {
	ob := opts.Objectives
	p.Explain = append(p.Explain, fmt.Sprintf(
		"method: for each concurrency, bench sim plays %q (%.0f sessions) with every agent pool at that many chats per agent, once per seed (%s, the same at every staffing), and searches for the fewest agents whose mean over the seeds has %.0f%% of the customers asking for a person assigned within %v (abandoners count as not answered), to within %.0f%% of the agents or half the seeds' spread in agents, whichever is wider; %d simulations",
		sc.Name, sc.Schedule().Sessions(), joinSeeds(p.Seeds), 100*ob.AnswerShare, ob.AnswerWithin, 100*opts.Resolution, p.Simulations))
	p.Explain = append(p.Explain, "spread: ± agents is the 95% confidence interval of the mean answered share over the seeds, turned into agents by the share's slope there, plus the staffings the search left untried")
	for _, lv := range p.Levels {
		p.Explain = append(p.Explain, lv.summary(ob))
	}
	if p.Monotone {
		p.Explain = append(p.Explain, "monotone: no concurrency needs more agents than a lower one (each search starts at most at the staffing of the one below)")
	} else {
		var where []string
		for _, lv := range p.Levels {
			if !lv.Monotone {
				where = append(where, strconv.Itoa(lv.Chats))
			}
		}
		p.Explain = append(p.Explain, fmt.Sprintf("not monotone: %s chats per agent need more agents than the concurrency below (see their lines)", strings.Join(where, ", ")))
	}
	if p.Chats == 0 {
		p.Explain = append(p.Explain, "no concurrency tried meets both objectives")
		return
	}
	var fewest Level
	for _, lv := range p.Levels {
		if lv.Agents > 0 && lv.ReplyMeets && !lv.Bounded && (fewest.Agents == 0 || lv.Agents < fewest.Agents) {
			fewest = lv
		}
	}
	if fewest.Chats == p.Chats {
		p.Explain = append(p.Explain, fmt.Sprintf("answer: %d chats per agent needs the fewest agents, %d, of the concurrencies that keep the agent reply p90 within %v", p.Chats, p.Agents, ob.ReplyP90))
		return
	}
	p.Explain = append(p.Explain, fmt.Sprintf("answer: %d chats per agent with %d agents; %d chats per agent needs %d, a saving of %d within the spread (±%d and ±%d), so the lower concurrency, whose chats are shorter",
		p.Chats, p.Agents, fewest.Chats, fewest.Agents, p.Agents-fewest.Agents, p.level(p.Chats).uncertainty(), fewest.uncertainty()))
}

// level returns the level at chats.
func (p *Plan) level(chats int) Level {
	for _, lv := range p.Levels {
		if lv.Chats == chats {
			return lv
		}
	}
	return Level{}
}

func joinSeeds(seeds []uint64) string {
	var s []string
	for _, x := range seeds {
		s = append(s, strconv.FormatUint(x, 10))
	}
	return "seeds " + strings.Join(s, ", ")
}

// Write writes the plan as a table and its explanation.
func Write(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for %s: %.0f%% answered by a person within %gs, agent reply p90 under %gs; %s\n\n", p.Scenario, 100*p.AnswerShare, p.AnswerWithinS, p.ReplyP90S, joinSeeds(p.Seeds))
	b.WriteString("| chats per agent | agents needed | ± agents | answered in time (seeds) | mean chats carried | agent reply p90 s | reply objective |\n|---:|---:|---:|---:|---:|---:|---|\n")
	for _, lv := range p.Levels {
		if lv.Agents == 0 {
			fmt.Fprintf(&b, "| %d | — | — | — | — | — | not reachable |\n", lv.Chats)
			continue
		}
		verdict := "meets"
		if !lv.ReplyMeets {
			verdict = "misses"
		}
		agents, margin := strconv.Itoa(lv.Agents), "—"
		if lv.Bounded {
			agents = "≤ " + agents
		} else if lv.Margin >= 0 {
			margin = strconv.Itoa(lv.Margin)
		}
		if !lv.Monotone {
			agents += " (more than below)"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f%% (%.1f–%.1f%%) | %.2f | %.1f | %s |\n", lv.Chats, agents, margin,
			100*lv.Answered, 100*lv.AnsweredMin, 100*lv.AnsweredMax, lv.MeanChats, lv.ReplyP90Ms/1000, verdict)
	}
	b.WriteString("\n")
	if p.Chats > 0 {
		fmt.Fprintf(&b, "recommended: %d chats per agent, %d agents (±%d)", p.Chats, p.Agents, p.level(p.Chats).uncertainty())
		for _, g := range slices.Sorted(maps.Keys(p.Groups)) {
			fmt.Fprintf(&b, "; %s %d", g, p.Groups[g])
		}
		b.WriteString("\n")
	}
	if p.Nodes > 0 {
		fmt.Fprintf(&b, "server nodes: %d\n", p.Nodes)
	} else {
		b.WriteString("server nodes: not sized (give --capacity, a bench run --find-max result.json)\n")
	}
	b.WriteString("\nhow:\n")
	for _, e := range p.Explain {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
