package plan

import (
	"bytes"
	"context"
	"fmt"

	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/progress"
	"github.com/swarmdesk/swarmdesk/reports"
)

// TestPlanSmoke plans a small scenario (smoke, shortened) in bench sim at
// two concurrencies with two seeds, with a node count from a find-max
// result.
func TestPlanSmoke(t *testing.T) {
	capRes := &reports.Result{Run: reports.Run{Scenario: "smoke", Target: "embedded refserver"},
		FindMax: &reports.FindMax{Parameter: "customers.rate", Best: 0.1}}
	var status bytes.Buffer
	d := 2 * time.Minute
	opts := Options{
		Scenario: "smoke", Concurrency: []int{3, 1}, MaxAgents: 40, Seeds: 2,
		Objectives: Objectives{AnswerShare: 0.8, AnswerWithin: 20 * time.Second, ReplyP90: 90 * time.Second},
		Capacity:   capRes, Headroom: 0.5, Progress: progress.NewPlain(&status, 0),
	}
	opts.Overrides.Duration = &d
	p, err := Make(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(&out, p); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s", out.String(), status.String())
	if len(p.Levels) != 2 || p.Levels[0].Chats != 1 || p.Levels[1].Chats != 3 {
		t.Fatalf("levels %+v: want 1 and 3 chats, in order", p.Levels)
	}
	runs := 0
	for _, lv := range p.Levels {
		runs += lv.Runs
		if lv.Agents == 0 || lv.Answered < 0.8 || lv.AnsweredMin > lv.Answered || lv.AnsweredMax < lv.Answered || lv.Runs%2 != 0 || lv.Runs == 0 {
			t.Errorf("level %+v: want a staffing whose mean over 2 seeds answers 80%% in time", lv)
		}
	}
	if runs != p.Simulations {
		t.Errorf("levels took %d simulations, the plan says %d", runs, p.Simulations)
	}
	if hi, lo := p.Levels[0], p.Levels[1]; lo.Agents > hi.Agents && (lo.Monotone || lo.Note == "" || p.Monotone) {
		t.Errorf("3 chats need %d agents, 1 chat %d, and the plan does not say so: %+v", lo.Agents, hi.Agents, lo)
	}
	// smoke peaks at twice its 0.5/s; a node carries 0.1 less half.
	if p.Nodes != 20 {
		t.Errorf("nodes %d, want ceil(1.0 / 0.05) = 20", p.Nodes)
	}
	if p.Chats != 0 && p.Groups["general"]+p.Groups["aftersales"] != p.Agents {
		t.Errorf("groups %v do not add up to %d agents", p.Groups, p.Agents)
	}
	for _, want := range []string{"chats per agent", "± agents", "seeds 1, 2", "server nodes: 20", "how:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if got := strings.Count(status.String(), "plan: 1 chats per agent:") + strings.Count(status.String(), "plan: 3 chats per agent:"); got != 2 {
		t.Errorf("%d notices of a concurrency done, want 2:\n%s", got, status.String())
	}
	if !strings.Contains(status.String(), "1/2: 1 chats") || !strings.Contains(status.String(), "2/2: 3 chats") {
		t.Errorf("no overall progress in the status:\n%s", status.String())
	}
}

// curve is a synthetic plan: at chats per agent, need agents answer
// exactly the objective, and the share rises by slope per share of agents
// above it; each seed adds its own offset, the same at every staffing
// (common random numbers), and the reply p90 is replyPerChat a chat.
type curve struct {
	need         map[int]float64
	slope        float64
	seedOffset   []float64
	replyPerChat time.Duration

	mu    sync.Mutex
	calls map[int]int // by chats
}

func (c *curve) measure(_ context.Context, chats, n int, seed uint64) (sample, error) {
	c.mu.Lock()
	c.calls[chats]++
	c.mu.Unlock()
	need := c.need[chats]
	share := 0.8 + c.slope*(float64(n)-need)/need + c.seedOffset[int(seed-1)%len(c.seedOffset)]
	return sample{share: min(max(share, 0), 1), replyMs: float64(c.replyPerChat.Milliseconds()) * float64(chats), meanChats: float64(chats) / 2}, nil
}

func planCurve(t *testing.T, c *curve, chats []int) *Plan {
	t.Helper()
	c.calls = map[int]int{}
	p, err := makePlan(context.Background(), Options{
		Scenario: "peak-hour", Concurrency: chats, Seeds: len(c.seedOffset),
		Objectives: Objectives{ReplyP90: time.Minute},
	}, c.measure)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(&out, p); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	return p
}

// TestSearch: on a smooth curve the search lands within its resolution of
// the true staffing, below the lower concurrency's, in a few batches.
func TestSearch(t *testing.T) {
	c := &curve{need: map[int]float64{1: 540, 2: 305, 3: 221.5, 4: 180, 5: 150.2, 6: 149}, slope: 0.5,
		seedOffset: []float64{-0.01, 0, 0.01}, replyPerChat: 9 * time.Second}
	p := planCurve(t, c, []int{1, 2, 3, 4, 5, 6})
	if !p.Monotone {
		t.Error("not monotone on a falling curve")
	}
	for i, lv := range p.Levels {
		need := int(math.Ceil(c.need[lv.Chats]))
		tol := max(1, int(math.Round(0.02*float64(lv.Agents))))
		if lv.Agents < need || lv.Agents > need+tol || lv.Below >= need {
			t.Errorf("%d chats: %d agents (below %d), want %d to %d", lv.Chats, lv.Agents, lv.Below, need, need+tol)
		}
		if i > 0 && lv.Agents > p.Levels[i-1].Agents {
			t.Errorf("%d chats need %d agents, more than %d at %d", lv.Chats, lv.Agents, p.Levels[i-1].Agents, p.Levels[i-1].Chats)
		}
		// The seeds' offsets are ±1 point around the mean: t(2) 4.303 × 1
		// point / √3 = 2.48 points, at 0.5 points per 1% of agents.
		if lv.Margin < 0 || math.Abs(lv.AnsweredCI95-0.0248) > 0.001 || lv.AnsweredMax-lv.AnsweredMin < 0.0199 {
			t.Errorf("%d chats: margin %d, ci95 %.4f, seeds %.3f–%.3f", lv.Chats, lv.Margin, lv.AnsweredCI95, lv.AnsweredMin, lv.AnsweredMax)
		}
		if batches := c.calls[lv.Chats] / 3; batches > 10 || lv.Runs != c.calls[lv.Chats] {
			t.Errorf("%d chats: %d simulations (%d counted), want at most 10 staffings of 3 seeds", lv.Chats, c.calls[lv.Chats], lv.Runs)
		}
	}
	// 5 and 6 chats need 151 and 149: a saving within the spread, so 5.
	if p.Chats != 5 {
		t.Errorf("recommended %d chats with %d agents, want 5: 6 saves fewer agents than the spread", p.Chats, p.Agents)
	}
}

// TestSearchNotMonotone: a concurrency that needs more agents than the one
// below is found above it and said, with the figures.
func TestSearchNotMonotone(t *testing.T) {
	c := &curve{need: map[int]float64{2: 300, 3: 330}, slope: 0.5, seedOffset: []float64{-0.002, 0, 0.002}, replyPerChat: time.Second}
	p := planCurve(t, c, []int{2, 3})
	lv := p.Levels[1]
	if p.Monotone || lv.Monotone || lv.Agents < 330 || lv.Agents > 334 {
		t.Errorf("plan monotone %v, 3 chats %+v: want about 330 agents, not monotone", p.Monotone, lv)
	}
	if !strings.Contains(lv.Note, fmt.Sprintf("needs more agents than 2 chats per agent: %d agents answer", p.Levels[0].Agents)) || !strings.Contains(lv.Note, "more than the spread") {
		t.Errorf("note %q", lv.Note)
	}
	if p.Chats != 2 {
		t.Errorf("recommended %d chats, want 2 (fewer agents)", p.Chats)
	}
}

// TestSearchReplyBound: once a concurrency misses the reply objective, a
// higher one that misses it at the lower one's staffing is not searched
// further; the recommendation is the concurrency that saves agents beyond
// the spread and meets both.
func TestSearchReplyBound(t *testing.T) {
	c := &curve{need: map[int]float64{4: 200, 6: 150, 8: 140, 10: 130}, slope: 0.5, seedOffset: []float64{-0.001, 0.001}, replyPerChat: 9 * time.Second}
	p := planCurve(t, c, []int{4, 6, 8, 10})
	if p.Chats != 6 || p.Agents < 150 || p.Agents > 152 {
		t.Errorf("recommended %d chats, %d agents: want 6 chats, about 150 (8 chats misses the reply objective)", p.Chats, p.Agents)
	}
	eight, ten := p.Levels[2], p.Levels[3]
	if eight.Bounded || eight.ReplyMeets || eight.Agents < 140 || eight.Agents > 142 {
		t.Errorf("8 chats %+v: want searched, missing the reply objective", eight)
	}
	if !ten.Bounded || ten.Agents != eight.Agents || ten.Runs != 2 {
		t.Errorf("10 chats %+v: want bounded at 8 chats' staffing after one staffing of 2 seeds", ten)
	}
}

func TestCI95(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{0.8}, 0},
		{[]float64{0.79, 0.81}, 12.706 * 0.0141421 / math.Sqrt(2)},
		{[]float64{0.79, 0.80, 0.81}, 4.303 * 0.01 / math.Sqrt(3)},
	} {
		if got := ci95(c.xs); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("ci95(%v) = %g, want %g", c.xs, got, c.want)
		}
	}
	if d := tQuantile975(30) - 2.042; math.Abs(d) > 0.005 {
		t.Errorf("t(30) off by %g", d)
	}
}
