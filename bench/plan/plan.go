// Package plan is bench plan: from a scenario (the forecast: arrivals,
// bot deflection, message rates, handle times, as behaviour) and service
// objectives, it answers how many agents each skill group needs, how many
// chats an agent can carry at once while still meeting the reply
// objective, and how many server nodes carry the peak, and explains the
// arithmetic behind each number.
//
// Agents and concurrency come from bench sim: for each candidate
// concurrency it finds, by bisection, the fewest agents that meet the
// answer objective, and reads the agent reply latency at that staffing.
// Server nodes come from the per-node capacity a bench run --find-max
// result measured.
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
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

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
	// MaxAgents bounds the staffing search. Default 20 times the
	// scenario's agents.
	MaxAgents int
	// Capacity is a bench run --find-max result: the load one server node
	// carried while meeting its objectives. Nil: no node count.
	Capacity *reports.Result
	// Headroom is the share of a node's capacity kept free. Default 30%.
	Headroom float64
	// Progress receives a line per simulation; nil discards them.
	Progress io.Writer
}

// Level is the outcome at one concurrency.
type Level struct {
	// Chats is the most chats each agent carries at once.
	Chats int `json:"chats"`
	// Agents is the fewest agents meeting the answer objective at Chats;
	// 0 when even MaxAgents did not.
	Agents int `json:"agents"`
	// Answered is the share of customers asking for a person answered
	// within the objective, at Agents.
	Answered float64 `json:"answered"`
	// ReplyP90Ms is the agent reply latency's p90 at Agents, simulated ms.
	ReplyP90Ms float64 `json:"reply_p90_ms"`
	// MeanChats is the time-weighted mean of chats per online agent.
	MeanChats float64 `json:"mean_chats"`
	// ReplyMeets says whether ReplyP90Ms meets the reply objective.
	ReplyMeets bool `json:"reply_meets"`
	// ReplyByChats is the reply latency p90 (ms) by the agent's
	// concurrency at the moment of the reply: the curve behind the
	// answer.
	ReplyByChats map[int]float64 `json:"reply_p90_ms_by_chats"`
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
	// Levels are the concurrencies tried, in order.
	Levels []Level `json:"levels"`
	// Chats is the highest concurrency meeting both objectives; 0 if
	// none did.
	Chats int `json:"chats"`
	// Agents is the staffing at Chats; Groups shares it among the skill
	// groups as the scenario's pools are shared.
	Agents int            `json:"agents"`
	Groups map[string]int `json:"groups"`
	// Nodes is the server nodes for the peak, from Capacity; 0 without.
	Nodes int `json:"nodes,omitempty"`
	// Explain says, line by line, where each number comes from.
	Explain []string `json:"explain"`
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
	if o.MaxAgents <= 0 {
		o.MaxAgents = 20 * max(sc.AgentCount(), 1)
	}
	if o.Headroom <= 0 || o.Headroom >= 1 {
		o.Headroom = 0.3
	}
}

// Make makes the plan.
func Make(ctx context.Context, opts Options) (*Plan, error) {
	base, err := scenario.LoadWith(opts.Scenario, opts.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", sim.ErrScenario, err)
	}
	if len(base.Agents.Groups) == 0 {
		return nil, fmt.Errorf("%w: %s has no agents to size", ErrPlan, base.Name)
	}
	opts.defaults(base)
	out := opts.Progress
	if out == nil {
		out = io.Discard
	}
	ob := opts.Objectives
	p := &Plan{Scenario: base.Name, AnswerShare: ob.AnswerShare, AnswerWithinS: ob.AnswerWithin.Seconds(), ReplyP90S: ob.ReplyP90.Seconds()}
	// The concurrencies are independent searches: one per core at once.
	// Each simulation is deterministic, so the plan does not depend on the
	// order they finish in.
	p.Levels = make([]Level, len(opts.Concurrency))
	var mu sync.Mutex // serialises progress lines
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, chats := range opts.Concurrency {
		g.Go(func() error {
			lv, err := level(gctx, base, chats, opts, lockedWriter{&mu, out})
			p.Levels[i] = lv
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, lv := range p.Levels {
		if lv.Agents > 0 && lv.ReplyMeets && lv.Chats > p.Chats {
			p.Chats, p.Agents = lv.Chats, lv.Agents
		}
	}
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
	}
	return p, nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
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

// level finds the fewest agents meeting the answer objective at chats per
// agent, by bisection over simulations, and measures the reply latency
// there.
func level(ctx context.Context, base *scenario.Scenario, chats int, opts Options, out io.Writer) (Level, error) {
	lv := Level{Chats: chats}
	minAgents := len(base.Agents.Groups) // one per pool
	run := func(n int) (*reports.Result, float64, error) {
		sc, err := staffed(base, chats, n)
		if err != nil {
			return nil, 0, err
		}
		res, err := sim.Simulate(ctx, sc, sim.Options{})
		if err != nil {
			return nil, 0, err
		}
		lv.Runs++
		a, err := answered(res, opts.Objectives.AnswerWithin)
		if err != nil {
			return nil, 0, err
		}
		fmt.Fprintf(out, "plan: %d chats per agent, %d agents: %.1f%% answered within %v, agent reply p90 %.1fs\n",
			chats, n, 100*a, opts.Objectives.AnswerWithin, res.Latency["agent_reply"].P90Ms/1000)
		return res, a, nil
	}
	// Bisection between a failing lo and a passing hi.
	lo, hi := minAgents-1, opts.MaxAgents
	var best *reports.Result
	var bestShare float64
	if res, a, err := run(hi); err != nil {
		return lv, err
	} else if a < opts.Objectives.AnswerShare {
		return lv, nil // even the most agents do not answer in time
	} else {
		best, bestShare = res, a
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		res, a, err := run(mid)
		if err != nil {
			return lv, err
		}
		if a >= opts.Objectives.AnswerShare {
			hi, best, bestShare = mid, res, a
		} else {
			lo = mid
		}
	}
	lv.Agents, lv.Answered = hi, bestShare
	lv.ReplyP90Ms = best.Latency["agent_reply"].P90Ms
	lv.MeanChats = best.Agents.MeanConcurrent
	lv.ReplyMeets = lv.ReplyP90Ms <= float64(opts.Objectives.ReplyP90)/1e6
	lv.ReplyByChats = map[int]float64{}
	for _, r := range best.Agents.Reply {
		if r.Count > 0 {
			lv.ReplyByChats[r.Chats] = r.P90Ms
		}
	}
	return lv, nil
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

// explain writes the arithmetic of the agents and concurrency.
func (p *Plan) explain(sc *scenario.Scenario, opts Options) {
	ob := opts.Objectives
	p.Explain = append(p.Explain, fmt.Sprintf(
		"method: for each concurrency, bench sim plays %q (%.0f sessions) with every agent pool at that many chats per agent, and bisects the number of agents for the fewest with %.0f%% of the customers asking for a person assigned within %v (abandoners count as not answered)",
		sc.Name, sc.Schedule().Sessions(), 100*ob.AnswerShare, ob.AnswerWithin))
	for _, lv := range p.Levels {
		if lv.Agents == 0 {
			p.Explain = append(p.Explain, fmt.Sprintf("%d chats per agent: even %d agents do not answer %.0f%% within %v", lv.Chats, opts.MaxAgents, 100*ob.AnswerShare, ob.AnswerWithin))
			continue
		}
		verdict := "meets"
		if !lv.ReplyMeets {
			verdict = "misses"
		}
		p.Explain = append(p.Explain, fmt.Sprintf("%d chats per agent: %d agents answer %.1f%% in time; agents then carry %.2f chats on average and the agent reply p90 is %.1fs, which %s the %v objective",
			lv.Chats, lv.Agents, 100*lv.Answered, lv.MeanChats, lv.ReplyP90Ms/1000, verdict, ob.ReplyP90))
	}
	if p.Chats == 0 {
		p.Explain = append(p.Explain, "no concurrency tried meets both objectives")
		return
	}
	p.Explain = append(p.Explain, fmt.Sprintf("answer: %d chats per agent is the most that keeps the agent reply p90 within %v; it needs %d agents", p.Chats, ob.ReplyP90, p.Agents))
}

// Write writes the plan as a table and its explanation.
func Write(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for %s: %.0f%% answered by a person within %gs, agent reply p90 under %gs\n\n", p.Scenario, 100*p.AnswerShare, p.AnswerWithinS, p.ReplyP90S)
	b.WriteString("| chats per agent | agents needed | answered in time | mean chats carried | agent reply p90 s | reply objective |\n|---:|---:|---:|---:|---:|---|\n")
	for _, lv := range p.Levels {
		if lv.Agents == 0 {
			fmt.Fprintf(&b, "| %d | — | — | — | — | not reachable |\n", lv.Chats)
			continue
		}
		verdict := "meets"
		if !lv.ReplyMeets {
			verdict = "misses"
		}
		fmt.Fprintf(&b, "| %d | %d | %.1f%% | %.2f | %.1f | %s |\n", lv.Chats, lv.Agents, 100*lv.Answered, lv.MeanChats, lv.ReplyP90Ms/1000, verdict)
	}
	b.WriteString("\n")
	if p.Chats > 0 {
		fmt.Fprintf(&b, "recommended: %d chats per agent, %d agents", p.Chats, p.Agents)
		for _, g := range slices.Sorted(maps.Keys(p.Groups)) {
			fmt.Fprintf(&b, "; %s %d", g, p.Groups[g])
		}
		b.WriteString("\n")
	}
	if p.Nodes > 0 {
		fmt.Fprintf(&b, "server nodes: %d\n", p.Nodes)
	}
	b.WriteString("\nhow:\n")
	for _, e := range p.Explain {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
