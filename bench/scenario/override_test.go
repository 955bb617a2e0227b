package scenario

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// phased returns a valid parsed scenario with phases and several agent
// pools.
func phased(t *testing.T) *Scenario {
	t.Helper()
	s, err := Parse([]byte(`
name: phased
phases:
  - {kind: ramp, duration: 1m, target: 100%}
  - {kind: steady, duration: 2m}
  - {kind: spike, duration: 30s, target: 200%}
agents:
  groups:
    - {group: general, count: 3, max_chats: 2}
    - {group: aftersales, count: 1}
customers:
  rate: 2
  script:
    - connect
    - open
    - ask_person
    - chat: {messages: 2}
objectives: [lost == 0]
`), "phased.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func TestApply(t *testing.T) {
	t.Run("nothing", func(t *testing.T) {
		s := phased(t)
		before := s.Clone()
		if err := s.Apply(Overrides{}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, before) {
			t.Error("an empty Overrides changed the scenario")
		}
	})
	t.Run("seed and timescale", func(t *testing.T) {
		s := phased(t)
		if err := s.Apply(Overrides{Seed: ptr[uint64](7), Timescale: ptr(30.0)}); err != nil {
			t.Fatal(err)
		}
		if s.Seed != 7 || s.Timescale != 30 || s.WallDuration() != 7*time.Second {
			t.Errorf("seed %d, timescale %v, wall %v", s.Seed, s.Timescale, s.WallDuration())
		}
	})
	t.Run("duration moves broadcasts and storms", func(t *testing.T) {
		s := phased(t)
		s.Broadcast.At = []Duration{Duration(150 * time.Second)}
		s.Broadcast.Start = Duration(30 * time.Second)
		s.Storms = []Storm{{At: Duration(3 * time.Minute), Share: 1, ReconnectAfter: Const(time.Second)}}
		if err := s.Apply(Overrides{Duration: ptr(70 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if s.Broadcast.At[0] != Duration(50*time.Second) || s.Broadcast.Start != Duration(10*time.Second) || s.Storms[0].At != Duration(time.Minute) {
			t.Errorf("broadcast at %v start %v, storm at %v; want 50s, 10s, 1m", s.Broadcast.At, s.Broadcast.Start, s.Storms[0].At)
		}
	})
	t.Run("duration stretches the phases", func(t *testing.T) {
		s := phased(t)
		if err := s.Apply(Overrides{Duration: ptr(7 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		var got []time.Duration
		for _, p := range s.Phases {
			got = append(got, time.Duration(p.Duration))
		}
		want := []time.Duration{2 * time.Minute, 4 * time.Minute, time.Minute}
		if !reflect.DeepEqual(got, want) || s.Duration != Duration(7*time.Minute) {
			t.Errorf("phases %v, duration %v; want %v, 7m", got, s.Duration, want)
		}
		// Uneven: the phases still add up exactly.
		if err := s.Apply(Overrides{Duration: ptr(1001 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		if s.phasesTotal() != 1001*time.Millisecond {
			t.Errorf("phases add up to %v", s.phasesTotal())
		}
	})
	t.Run("duration without phases", func(t *testing.T) {
		s := valid()
		if err := s.Apply(Overrides{Duration: ptr(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if s.Duration != Duration(time.Hour) || len(s.Phases) != 0 {
			t.Errorf("duration %v, phases %v", s.Duration, s.Phases)
		}
	})
	t.Run("rate", func(t *testing.T) {
		s := phased(t)
		if err := s.Apply(Overrides{Rate: ptr(5.0)}); err != nil {
			t.Fatal(err)
		}
		if s.Customers.Rate != 5 || s.Schedule().Peak() != 10 {
			t.Errorf("rate %v, peak %v; want 5, 10 (the spike at 200%%)", s.Customers.Rate, s.Schedule().Peak())
		}
	})
	t.Run("customers with poisson arrivals", func(t *testing.T) {
		s := phased(t)
		if err := s.Apply(Overrides{Duration: ptr(7 * time.Minute), Customers: ptr(1000)}); err != nil {
			t.Fatal(err)
		}
		if got := s.Schedule().Sessions(); math.Abs(got-1000) > 1e-6 {
			t.Errorf("expected sessions %v; want 1000", got)
		}
	})
	t.Run("customers in a population", func(t *testing.T) {
		s := valid()
		s.Customers.Arrival, s.Customers.Rate, s.Customers.Population = ArrivalPopulation, 0, 10
		if err := s.Apply(Overrides{Customers: ptr(250)}); err != nil {
			t.Fatal(err)
		}
		if s.Customers.Population != 250 {
			t.Errorf("population %d", s.Customers.Population)
		}
	})
	t.Run("agents shared in proportion", func(t *testing.T) {
		s := phased(t)
		for _, tt := range []struct {
			n    int
			want []int
		}{{8, []int{6, 2}}, {10, []int{8, 2}}, {1, []int{1, 0}}, {0, nil}} {
			s := s.Clone()
			err := s.Apply(Overrides{Agents: ptr(tt.n)})
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), "agents.groups (overridden): no agents, but customers.script[2] needs one") {
					t.Errorf("0 agents: err %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []int{s.Agents.Groups[0].Count, s.Agents.Groups[1].Count}
			if !reflect.DeepEqual(got, tt.want) || s.AgentCount() != tt.n {
				t.Errorf("%d agents: pools %v; want %v", tt.n, got, tt.want)
			}
		}
		s.Agents.Groups[0].Count, s.Agents.Groups[1].Count = 0, 0
		if err := s.Apply(Overrides{Agents: ptr(5)}); err != nil {
			t.Fatal(err)
		}
		if s.Agents.Groups[0].Count != 3 || s.Agents.Groups[1].Count != 2 {
			t.Errorf("from empty pools: %+v; want 3 and 2", s.Agents.Groups)
		}
	})
	t.Run("errors leave the scenario unchanged", func(t *testing.T) {
		for _, tt := range []struct {
			o    Overrides
			want string
		}{
			{Overrides{Duration: ptr(time.Duration(0))}, "apply overrides: duration (overridden): 0s: must be above 0"},
			{Overrides{Rate: ptr(-1.0)}, "apply overrides: customers.rate (overridden): -1: must be above 0"},
			{Overrides{Rate: ptr(1.0), Customers: ptr(3)}, "apply overrides: customers.rate (overridden): give the rate or the number of customers, not both"},
			{Overrides{Customers: ptr(0)}, "apply overrides: customers.rate (overridden): 0 customers: must be at least 1"},
			{Overrides{Agents: ptr(-1)}, "apply overrides: agents.groups (overridden): -1 agents: must not be negative"},
			{Overrides{Timescale: ptr(0.0), Seed: ptr[uint64](9)}, "apply overrides: timescale (overridden): 0: must be above 0"},
		} {
			s := phased(t)
			before := s.Clone()
			err := s.Apply(tt.o)
			if err == nil || err.Error() != tt.want && !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v; want %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err %v does not match ErrInvalid", err)
			}
			if !reflect.DeepEqual(s, before) {
				t.Errorf("a failed Apply changed the scenario")
			}
		}
		s := valid()
		s.Customers.Arrival, s.Customers.Rate, s.Customers.Population = ArrivalPopulation, 0, 10
		if err := s.Apply(Overrides{Rate: ptr(3.0)}); err == nil || !strings.Contains(err.Error(), "customers.rate (overridden): applies to arrival: poisson; this scenario's arrival is population (override customers instead)") {
			t.Errorf("rate on a population: %v", err)
		}
	})
}

func TestSet(t *testing.T) {
	tests := []struct {
		path, value string
		check       func(s *Scenario) bool
	}{
		{"customers.rate", "2.5", func(s *Scenario) bool { return s.Customers.Rate == 2.5 }},
		{"seed", "42", func(s *Scenario) bool { return s.Seed == 42 }},
		{"timescale", " 60 ", func(s *Scenario) bool { return s.Timescale == 60 }},
		{"agents.groups[0].max_chats", "5", func(s *Scenario) bool { return s.Agents.Groups[0].MaxChats == 5 }},
		{"agents.groups[1].count", "0", func(s *Scenario) bool { return s.Agents.Groups[1].Count == 0 }},
		{"agents.typing", "exp(20s)", func(s *Scenario) bool { return s.Agents.Typing == Exp(20*time.Second) }},
		{"agents.idle_close", "5m", func(s *Scenario) bool { return s.Agents.IdleClose == Duration(5*time.Minute) }},
		{"agents.away.every", "exp(1h)", nil}, // away.for is then missing: checked below
		{"phases[2].target", "150%", func(s *Scenario) bool { return s.Phases[2].Target == 1.5 }},
		{"phases[2].target", "1.75", func(s *Scenario) bool { return s.Phases[2].Target == 1.75 }},
		{"phases[0].duration", "30s", nil}, // the phases no longer add up to the duration
		{"duration", "7m", func(s *Scenario) bool { return s.phasesTotal() == 7*time.Minute }},
		{"customers.answerable", "50%", func(s *Scenario) bool { return s.Customers.Answerable == 0.5 }},
		{"customers.stay", "true", func(s *Scenario) bool { return s.Customers.Stay }},
		{"customers.script[3].chat.messages", "9", func(s *Scenario) bool { return s.Customers.Script[3].Chat.Messages == 9 }},
		{"customers.script[3].chat.think", "uniform(1s, 2s)", func(s *Scenario) bool {
			return s.Customers.Script[3].Chat.Think == Uniform(time.Second, 2*time.Second)
		}},
		{"customers.script[2].chance", "30%", func(s *Scenario) bool { return s.Customers.Script[2].Probability() == 0.3 }},
		{"objectives[0]", "lost <= 1", func(s *Scenario) bool { return s.Objectives[0].Threshold == 1 && s.Objectives[0].Op == OpLessEqual }},
		{"name", "renamed", func(s *Scenario) bool { return s.Name == "renamed" }},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			s := phased(t)
			err := s.Set(tt.path, tt.value)
			if tt.check == nil {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Errorf("not set: %+v", s)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		path, value string
		is          error
		want        string
	}{
		{"custmers.rate", "1", ErrUnknownField, `set custmers.rate: custmers.rate: the scenario has no field "custmers" (did you mean customers?)`},
		{"customers.rat", "1", ErrUnknownField, `set customers.rat: customers.rat: customers has no field "rat" (did you mean rate?)`},
		{"customers.rate.x", "1", ErrUnknownField, `customers.rate is a single value; it has no field "x"`},
		{"agents.groups[9].count", "1", ErrInvalid, "agents.groups has 2 elements; no [9]"},
		{"agents.groups[x].count", "1", ErrUnknownField, `bad index "x"`},
		{"agents[0].count", "1", ErrUnknownField, "agents is not a list"},
		{"agents.groups[0]x", "1", ErrUnknownField, `unexpected "x" after agents.groups[0]`},
		{"[0]", "1", ErrUnknownField, `want a field name before "[0]"`},
		{"", "1", ErrUnknownField, "empty path"},
		{"customers.script[2].chat.messages", "1", ErrInvalid, "customers.script[2].chat is not set in this scenario"},
		{"agents.groups", "1", ErrInvalid, "agents.groups: a list, not a single value: name one of its elements, e.g. agents.groups[0]"},
		{"agents.groups[0]", "1", ErrInvalid, "a group of settings, not a single value"},
		{"customers.script[3].chat", "2", ErrInvalid, "a group of settings, not a single value"},
		{"customers.rate", "fast", ErrSyntax, `customers.rate: "fast": want a number`},
		{"customers.rate", "NaN", ErrSyntax, `"NaN": want a number`},
		{"agents.groups[0].max_chats", "2.5", ErrSyntax, `"2.5": want a whole number`},
		{"seed", "-1", ErrSyntax, `"-1": want a whole number, not negative`},
		{"customers.stay", "maybe", ErrSyntax, `"maybe": want true or false`},
		{"agents.typing", "exp(0s)", ErrSyntax, "agents.typing: cannot unmarshal `exp(0s)` into a distribution: mean 0s must be above 0"},
		{"agents.idle_close", "90", ErrSyntax, "agents.idle_close: cannot unmarshal `90` into a duration"},
		{"duration", "soon", ErrSyntax, `set duration: duration: "soon": want a duration like 90s or 10m`},
		{"objectives[0]", "lost = 0", ErrSyntax, `column 6: unknown comparison "="`},
		{"agents.groups[0].max_chats", "0", ErrInvalid, "set agents.groups[0].max_chats=0: phased.yaml:9: agents.groups[0].max_chats: 0: must be between 1 and 50 (tenant demo's max_chats_cap)"},
		{"customers.rate", "0", ErrInvalid, "set customers.rate=0: phased.yaml:12: customers.rate: 0: must be above 0"},
		{"duration", "0s", ErrInvalid, "set duration: apply overrides: duration (overridden): 0s: must be above 0"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			s := phased(t)
			before := s.Clone()
			err := s.Set(tt.path, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is) {
				t.Errorf("err = %v;\nwant %v containing %q", err, tt.is, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "set "+tt.path) {
				t.Errorf("err %q does not name the path", err)
			}
			if !reflect.DeepEqual(s, before) {
				t.Error("a failed Set changed the scenario")
			}
		})
	}
}

// TestClone checks that a clone shares nothing a change could reach: no
// slice or pointer of the clone aliases the original's.
func TestClone(t *testing.T) {
	s, err := Load("testdata/steps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Phases = []Phase{{Name: "p", Kind: PhaseSteady, Duration: s.Duration, Target: 1}}
	s.Broadcast.At = []Duration{1}
	s.Storms = []Storm{{At: 1, Share: 1, ReconnectAfter: Const(0)}}
	if err := s.Apply(Overrides{Seed: ptr[uint64](3)}); err != nil {
		t.Fatal(err)
	}
	c := s.Clone()
	if !reflect.DeepEqual(s, c) {
		t.Fatal("clone differs")
	}
	shared := map[string]bool{"root": true, "tenantConfigs": true, "corpus": true} // never modified
	var walk func(path string, a, b reflect.Value)
	walk = func(path string, a, b reflect.Value) {
		switch a.Kind() {
		case reflect.Pointer:
			if !a.IsNil() {
				if a.Pointer() == b.Pointer() && a.Type().Elem().Size() > 0 {
					t.Errorf("%s: the clone shares a pointer", path)
				}
				walk(path, a.Elem(), b.Elem())
			}
		case reflect.Slice:
			if a.Len() > 0 && a.Pointer() == b.Pointer() {
				t.Errorf("%s: the clone shares a slice", path)
			}
			for i := range a.Len() {
				walk(path+"["+itoa(i)+"]", a.Index(i), b.Index(i))
			}
		case reflect.Struct:
			for i := range a.NumField() {
				name := a.Type().Field(i).Name
				if !shared[name] {
					walk(path+"."+name, a.Field(i), b.Field(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem())
	// And a change to the clone does not show in the original.
	c.Customers.Script[8].Chat.Messages = 99
	c.Customers.Script[5].Choose.Items[0] = "x"
	*c.Customers.Script[7].Chance = 0.9
	if s.Customers.Script[8].Chat.Messages == 99 || s.Customers.Script[5].Choose.Items[0] == "x" || *s.Customers.Script[7].Chance == 0.9 {
		t.Error("a change to the clone changed the original")
	}
}
