package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/reports"
)

// TestPlanSmoke plans the smoke scenario at two concurrencies, with a node
// count from a find-max result.
func TestPlanSmoke(t *testing.T) {
	capRes := &reports.Result{Run: reports.Run{Scenario: "smoke", Target: "embedded refserver"},
		FindMax: &reports.FindMax{Parameter: "customers.rate", Best: 0.1}}
	var progress bytes.Buffer
	p, err := Make(context.Background(), Options{
		Scenario: "smoke", Concurrency: []int{1, 3}, MaxAgents: 40,
		Objectives: Objectives{AnswerShare: 0.8, AnswerWithin: 20 * time.Second, ReplyP90: 90 * time.Second},
		Capacity:   capRes, Headroom: 0.5, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(&out, p); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	if len(p.Levels) != 2 {
		t.Fatalf("levels %+v", p.Levels)
	}
	for _, lv := range p.Levels {
		if lv.Agents == 0 || lv.Answered < 0.8 || lv.Runs < 2 {
			t.Errorf("level %+v: want a staffing that answers 80%% in time, found by bisection", lv)
		}
	}
	if p.Levels[0].Agents < p.Levels[1].Agents {
		t.Errorf("1 chat per agent needs %d agents, 3 chats %d: want at least as many at 1", p.Levels[0].Agents, p.Levels[1].Agents)
	}
	// smoke peaks at twice its 0.12/s; a node carries 0.1 less half.
	if p.Nodes != 5 {
		t.Errorf("nodes %d, want ceil(0.24 / 0.05) = 5", p.Nodes)
	}
	if p.Chats != 0 && p.Groups["general"]+p.Groups["aftersales"] != p.Agents {
		t.Errorf("groups %v do not add up to %d agents", p.Groups, p.Agents)
	}
	for _, want := range []string{"chats per agent", "server nodes", "how:", "bisects"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
