package scenarios_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/scenarios"
)

// fdBudget is the most connections one bench process may plan for on the
// reference machine: RLIMIT_NOFILE is 20,000, less room for the process's
// own files and listeners.
const fdBudget = 19_000

// TestEmbedded loads every embedded scenario, validates it, and checks that
// it fits the machine it is meant for.
// simOnly are the shipped scenarios meant for bench sim (virtual time):
// they are not held to bench run's bounds on wall time and connections.
var simOnly = map[string]bool{"ten-million": true}

func TestEmbedded(t *testing.T) {
	names := scenarios.Names()
	for _, want := range []string{"smoke", "peak-hour", "bot-deflection", "reconnect-storm", "broadcast", "agent-concurrency"} {
		if !slices.Contains(names, want) {
			t.Errorf("no embedded scenario %s (have %v)", want, names)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := scenario.LoadNamed(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.Name != name {
				t.Errorf("name %q; want the file's name %q", s.Name, name)
			}
			if s.Description == "" {
				t.Error("no description")
			}
			if len(s.Objectives) == 0 {
				t.Error("no objectives")
			}
			if simOnly[name] {
				return // sized for bench sim, beyond one machine's sockets and patience
			}
			if n := s.PeakConnections(); n > fdBudget {
				t.Errorf("about %d connections at the peak; one bench process holds at most %d here", n, fdBudget)
			}
			if wall := s.WallDuration(); wall > 2*time.Minute {
				t.Errorf("runs for %v of wall time; keep a shipped scenario within 2 minutes", wall)
			}
			if sessions := s.Schedule().Sessions(); sessions < 1 {
				t.Errorf("%v sessions expected", sessions)
			}
		})
	}
}

// TestSmoke checks what makes smoke the default: about 10 seconds, small
// but enough for its objectives,
// every step type, objectives on correctness and delivery latency.
func TestSmoke(t *testing.T) {
	s, err := scenario.LoadNamed(scenarios.Default)
	if err != nil {
		t.Fatal(err)
	}
	if wall := s.WallDuration(); wall < 5*time.Second || wall > 15*time.Second {
		t.Errorf("smoke runs for %v; want about 10s", wall)
	}
	// Small, but with the samples its p99 objectives need (100; one menu a
	// session), or the default run says NO DATA.
	if n := s.Schedule().Sessions(); n < 120 || n > 300 {
		t.Errorf("smoke expects %v sessions; want 120 to 300", n)
	}
	if n := s.AgentCount(); n < 2 || n > 10 {
		t.Errorf("smoke has %d agents; want a few", n)
	}
	seen := map[scenario.StepKind]int{}
	for _, st := range s.Customers.Script {
		seen[st.Kind()]++
	}
	for _, k := range scenario.StepKinds() {
		if seen[k] == 0 {
			t.Errorf("smoke does not exercise step %s", k)
		}
	}
	kinds := map[string]bool{}
	for _, m := range s.Messages.Mix {
		kinds[m.Kind] = true
	}
	if len(kinds) != 4 {
		t.Errorf("smoke sends kinds %v; want all four", kinds)
	}
	var exprs []string
	for _, o := range s.Objectives {
		exprs = append(exprs, o.String())
	}
	for _, want := range []string{"lost == 0", "duplicated == 0", "reordered == 0", "delivery.p99 < 50ms"} {
		if !slices.Contains(exprs, want) {
			t.Errorf("smoke lacks objective %q (has %v)", want, exprs)
		}
	}
}

// TestPeakHourDeflection checks the peak hour's intended shape: an hour of
// scenario time, agents at 3 to 5 chats, and about 80% of customers never
// asking for a person.
func TestPeakHourDeflection(t *testing.T) {
	s, err := scenario.LoadNamed("peak-hour")
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(s.Duration) != time.Hour {
		t.Errorf("duration %v; want 1h", s.Duration)
	}
	for _, g := range s.Agents.Groups {
		if g.MaxChats < 3 || g.MaxChats > 5 {
			t.Errorf("pool %+v: max_chats outside 3-5", g)
		}
	}
	// The share reaching a person: those asking, and those choosing the
	// menu's handoff item (6, one of six items) among those choosing.
	human := 0.0
	for _, st := range s.Customers.Script {
		switch st.Kind() {
		case scenario.StepChoose:
			human += st.Probability() * (1 - human) / float64(len(st.Choose.Items))
		case scenario.StepAskPerson:
			human += st.Probability() * (1 - human)
		}
	}
	if deflection := 1 - human; deflection < 0.75 || deflection > 0.85 {
		t.Errorf("deflection %.2f; want about 0.8", deflection)
	}
}

func TestFS(t *testing.T) {
	var files []string
	for _, n := range scenarios.Names() {
		files = append(files, n+".yaml")
	}
	if err := fstest.TestFS(scenarios.FS, files...); err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.Open("smoke"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"nope", "", "smoke.yaml", "../smoke", "sub/smoke"} {
		if _, err := scenarios.Open(bad); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q): err %v; want fs.ErrNotExist", bad, err)
		}
	}
}
