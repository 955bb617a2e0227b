package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// fixture builds a Router and panics on setup errors, so table tests read
// as the scenario they set up.
type fixture struct {
	*Router
	tb testing.TB
}

func newFixture(tb testing.TB, opts ...Option) *fixture {
	return &fixture{Router: New(opts...), tb: tb}
}

func (f *fixture) group(name string, p Policy) *fixture {
	f.tb.Helper()
	if err := f.AddGroup(name, p); err != nil {
		f.tb.Fatal(err)
	}
	return f
}

func (f *fixture) set(id string, groups []string, max int, s Status, now time.Time) []Assignment {
	f.tb.Helper()
	as, err := f.SetAgent(id, groups, max, s, now)
	if err != nil {
		f.tb.Fatal(err)
	}
	return slices.Clone(as)
}

func (f *fixture) route(group string, conv uint64, prio int, now time.Time) (string, int) {
	f.tb.Helper()
	a, ok, pos, err := f.Route(group, conv, prio, now)
	if err != nil {
		f.tb.Fatal(err)
	}
	if ok {
		if a.Conv != conv || a.Group != group || a.Waited != 0 || pos != 0 {
			f.tb.Fatalf("route %d: assignment %+v, position %d", conv, a, pos)
		}
		return a.Agent, 0
	}
	return "", pos
}

func (f *fixture) assign(agent, group string, conv uint64, now time.Time) {
	f.tb.Helper()
	if _, err := f.Assign(agent, group, conv, now); err != nil {
		f.tb.Fatal(err)
	}
}

func (f *fixture) release(agent string, conv uint64, now time.Time) []Assignment {
	f.tb.Helper()
	as, err := f.Release(agent, conv, now)
	if err != nil {
		f.tb.Fatal(err)
	}
	return slices.Clone(as)
}

func convsOf(as []Assignment) []uint64 {
	var cs []uint64
	for _, a := range as {
		cs = append(cs, a.Conv)
	}
	return cs
}

func TestParsePolicy(t *testing.T) {
	for _, p := range []Policy{LeastLoaded, RoundRobin, LongestIdle} {
		got, err := ParsePolicy(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	for _, s := range []string{"", "least_loaded", "LeastLoaded", "random"} {
		if _, err := ParsePolicy(s); !errors.Is(err, ErrUnknownPolicy) {
			t.Errorf("ParsePolicy(%q) error = %v, want ErrUnknownPolicy", s, err)
		}
	}
	if s := Policy(9).String(); s != "Policy(9)" {
		t.Errorf("Policy(9).String() = %q", s)
	}
}

// step is one setup action of a policy test.
type step struct {
	op    string // "assign", "release", "set" (away, then online), "max"
	agent string
	conv  uint64
	max   int
	at    int
}

func TestPolicies(t *testing.T) {
	type agentDef struct {
		id  string
		max int
		at  int // when it came online
	}
	three := []agentDef{{"a", 5, 0}, {"b", 5, 0}, {"c", 5, 0}}
	tests := []struct {
		name    string
		policy  Policy
		agents  []agentDef
		steps   []step
		routeAt int
		want    []string // agents picked by successive Routes
	}{
		{
			name: "least-loaded new agents in creation order", policy: LeastLoaded, agents: three,
			want: []string{"a", "b", "c", "a", "b", "c"},
		},
		{
			name: "least-loaded fewest chats, ties to longest since assignment", policy: LeastLoaded, agents: three,
			steps: []step{{op: "assign", agent: "a", conv: 901}, {op: "assign", agent: "a", conv: 902},
				{op: "assign", agent: "c", conv: 903}, {op: "assign", agent: "b", conv: 904}},
			// loads a2 b1 c1; c was assigned before b.
			want: []string{"c", "b", "a", "c", "b", "a"},
		},
		{
			name: "least-loaded prefers a released agent", policy: LeastLoaded, agents: three,
			steps: []step{{op: "assign", agent: "a", conv: 901}, {op: "assign", agent: "b", conv: 902},
				{op: "assign", agent: "c", conv: 903}, {op: "release", agent: "b", conv: 902, at: 1}},
			want: []string{"b", "a", "c", "b"},
		},
		{
			name: "least-loaded skips full agents", policy: LeastLoaded,
			agents: []agentDef{{"a", 1, 0}, {"b", 3, 0}, {"c", 0, 0}},
			want:   []string{"a", "b", "b", "b"},
		},
		{
			name: "round-robin rotates", policy: RoundRobin, agents: three,
			want: []string{"a", "b", "c", "a", "b", "c", "a"},
		},
		{
			name: "round-robin continues after the last assigned", policy: RoundRobin, agents: three,
			steps: []step{{op: "assign", agent: "a", conv: 901}, {op: "assign", agent: "b", conv: 902}},
			want:  []string{"c", "a", "b", "c"},
		},
		{
			name: "round-robin skips full agents", policy: RoundRobin,
			agents: []agentDef{{"a", 5, 0}, {"b", 1, 0}, {"c", 5, 0}},
			want:   []string{"a", "b", "c", "a", "c", "a"},
		},
		{
			name: "round-robin ignores load", policy: RoundRobin, agents: three,
			steps: []step{{op: "assign", agent: "c", conv: 901}, {op: "assign", agent: "c", conv: 902},
				{op: "assign", agent: "a", conv: 903}},
			want: []string{"b", "c", "a", "b"},
		},
		{
			name: "longest-idle by time available", policy: LongestIdle,
			agents: []agentDef{{"a", 2, 3}, {"b", 2, 1}, {"c", 2, 2}},
			want:   []string{"b", "b", "c", "c", "a", "a"},
		},
		{
			name: "longest-idle by last chat ended", policy: LongestIdle,
			agents: []agentDef{{"a", 1, 0}, {"b", 1, 0}, {"c", 1, 0}},
			steps: []step{{op: "assign", agent: "a", conv: 901}, {op: "assign", agent: "b", conv: 902},
				{op: "assign", agent: "c", conv: 903},
				{op: "release", agent: "c", conv: 903, at: 10}, {op: "release", agent: "a", conv: 901, at: 11},
				{op: "release", agent: "b", conv: 902, at: 12}},
			routeAt: 20,
			want:    []string{"c", "a", "b"},
		},
		{
			name: "longest-idle resets when coming back online", policy: LongestIdle,
			agents: []agentDef{{"a", 1, 0}, {"b", 1, 1}},
			steps:  []step{{op: "set", agent: "a", max: 1, at: 5}},
			want:   []string{"b", "a"},
		},
		{
			name: "longest-idle resets when room appears", policy: LongestIdle,
			agents: []agentDef{{"a", 0, 0}, {"b", 1, 1}},
			steps:  []step{{op: "max", agent: "a", max: 1, at: 5}},
			want:   []string{"b", "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t).group("g", tt.policy)
			for _, a := range tt.agents {
				f.set(a.id, []string{"g"}, a.max, Online, at(a.at))
			}
			for _, s := range tt.steps {
				switch s.op {
				case "assign":
					f.assign(s.agent, "g", s.conv, at(s.at))
				case "release":
					f.release(s.agent, s.conv, at(s.at))
				case "set":
					f.set(s.agent, []string{"g"}, s.max, Away, at(s.at))
					f.set(s.agent, []string{"g"}, s.max, Online, at(s.at))
				case "max":
					f.set(s.agent, []string{"g"}, s.max, Online, at(s.at))
				}
			}
			var got []string
			for i := range tt.want {
				a, pos := f.route("g", uint64(i+1), 0, at(tt.routeAt))
				if pos != 0 {
					t.Fatalf("route %d queued at %d", i+1, pos)
				}
				got = append(got, a)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("picked %v, want %v", got, tt.want)
			}
			if err := f.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestQueuePriorityFIFO(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded)
	f.set("a", []string{"g"}, 1, Online, at(0))
	f.route("g", 100, 0, at(0)) // a is full
	type route struct {
		conv    uint64
		prio    int
		wantPos int
	}
	routes := []route{
		{1, 0, 1}, {2, 0, 2}, {3, 5, 1}, {4, 0, 4}, {5, 5, 2}, {6, 9, 1}, {7, -1, 7},
	}
	for i, rt := range routes {
		if _, pos := f.route("g", rt.conv, rt.prio, at(i+1)); pos != rt.wantPos {
			t.Errorf("conv %d: position %d, want %d", rt.conv, pos, rt.wantPos)
		}
		if since, ok := f.QueuedSince(rt.conv); !ok || !since.Equal(at(i+1)) {
			t.Errorf("QueuedSince(%d) = %v, %v", rt.conv, since, ok)
		}
	}
	if n := f.Queued("g"); n != len(routes) {
		t.Fatalf("Queued = %d, want %d", n, len(routes))
	}
	served := []uint64{100}
	wantOrder := []uint64{6, 3, 5, 1, 2, 4, 7}
	for i, want := range wantOrder {
		as := f.release("a", served[len(served)-1], at(100+i))
		if len(as) != 1 || as[0].Conv != want || as[0].Agent != "a" || as[0].Group != "g" {
			t.Fatalf("release %d: got %+v, want conv %d", i, as, want)
		}
		enq := slices.IndexFunc(routes, func(r route) bool { return r.conv == want })
		if w := at(100 + i).Sub(at(enq + 1)); as[0].Waited != w {
			t.Errorf("conv %d waited %v, want %v", want, as[0].Waited, w)
		}
		if _, ok := f.QueuedSince(want); ok {
			t.Errorf("conv %d still queued after assignment", want)
		}
		served = append(served, as[0].Conv)
		if err := f.check(); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Queued("g"); n != 0 {
		t.Errorf("Queued = %d after draining", n)
	}
}

func TestPositions(t *testing.T) {
	f := newFixture(t, WithPositionInterval(10*time.Second)).group("g", LeastLoaded)
	f.set("a", []string{"g"}, 1, Online, at(0))
	f.route("g", 100, 0, at(0))
	for c := uint64(1); c <= 5; c++ {
		f.route("g", c, 0, at(1)) // positions 1..5, told by Route at 1 s
	}
	type upd = PositionUpdate
	steps := []struct {
		name string
		do   func()
		at   int
		want []upd
	}{
		{name: "nothing changed", at: 2},
		{name: "vip goes ahead, too soon to tell the others", at: 5,
			do: func() { f.route("g", 9, 1, at(5)) }},
		{name: "interval passed", at: 11,
			want: []upd{{1, "g", 2}, {2, "g", 3}, {3, "g", 4}, {4, "g", 5}, {5, "g", 6}}},
		{name: "unchanged", at: 30},
		{name: "head served", at: 31,
			do:   func() { f.release("a", 100, at(31)) },
			want: []upd{{1, "g", 1}, {2, "g", 2}, {3, "g", 3}, {4, "g", 4}, {5, "g", 5}}},
		{name: "served again within the interval", at: 35,
			do: func() { f.release("a", 9, at(34)) }},
		{name: "interval since last told", at: 41,
			want: []upd{{2, "g", 1}, {3, "g", 2}, {4, "g", 3}, {5, "g", 4}}},
		{name: "cancel ahead", at: 60,
			do:   func() { f.Cancel(3) },
			want: []upd{{4, "g", 2}, {5, "g", 3}}},
		{name: "served before told", at: 62,
			do: func() { f.Cancel(2); f.release("a", 1, at(61)) }},
		{name: "later", at: 70,
			want: []upd{{5, "g", 1}}},
		{name: "finally unchanged", at: 90},
	}
	var buf []PositionUpdate
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		buf = f.Positions(at(s.at), buf[:0])
		if !slices.Equal(buf, s.want) {
			t.Errorf("%s: updates %v, want %v", s.name, buf, s.want)
		}
		if err := f.check(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPositionsAppend(t *testing.T) {
	f := newFixture(t, WithPositionInterval(0)).group("g", LeastLoaded).group("h", RoundRobin)
	f.set("a", []string{"g", "h"}, 0, Online, at(0))
	f.route("g", 1, 0, at(0))
	f.route("g", 2, 0, at(0))
	f.route("h", 3, 0, at(0))
	f.route("h", 4, 0, at(0))
	f.Cancel(1)
	f.Cancel(3)
	dst := []PositionUpdate{{Conv: 99}}
	dst = f.Positions(at(0), dst)
	want := []PositionUpdate{{Conv: 99}, {2, "g", 1}, {4, "h", 1}}
	if !slices.Equal(dst, want) {
		t.Errorf("Positions = %v, want %v", dst, want)
	}
}

func TestDraining(t *testing.T) {
	tests := []struct {
		name string
		// setup leaves convs 1, 2, 3 queued in "g" (in that order) and
		// returns the action that frees capacity.
		act  func(f *fixture) []Assignment
		want []uint64
		by   string
	}{
		{name: "release", want: []uint64{1}, by: "a",
			act: func(f *fixture) []Assignment { return f.release("a", 100, at(10)) }},
		{name: "going online", want: []uint64{1, 2}, by: "b",
			act: func(f *fixture) []Assignment { return f.set("b", []string{"g"}, 2, Online, at(10)) }},
		{name: "raising max", want: []uint64{1, 2, 3}, by: "a",
			act: func(f *fixture) []Assignment { return f.set("a", []string{"g"}, 5, Online, at(10)) }},
		{name: "joining a group", want: []uint64{1, 2, 3}, by: "c",
			act: func(f *fixture) []Assignment { return f.set("c", []string{"h", "g"}, 4, Online, at(10)) }},
		{name: "new agent", want: []uint64{1}, by: "d",
			act: func(f *fixture) []Assignment { return f.set("d", []string{"g"}, 1, Online, at(10)) }},
		{name: "away agent released: no drain", want: nil,
			act: func(f *fixture) []Assignment {
				f.set("a", []string{"g"}, 1, Away, at(9))
				return f.release("a", 100, at(10))
			}},
		{name: "max lowered below load: no drain until under", want: []uint64{3}, by: "a",
			act: func(f *fixture) []Assignment {
				f.set("a", []string{"g"}, 3, Online, at(9)) // takes 1 and 2
				f.set("a", []string{"g"}, 1, Online, at(9))
				for _, c := range []uint64{100, 1} {
					if as := f.release("a", c, at(10)); len(as) != 0 {
						return as
					}
				}
				return f.release("a", 2, at(10))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t).group("g", LeastLoaded).group("h", LeastLoaded)
			f.set("a", []string{"g"}, 1, Online, at(0))
			f.set("b", []string{"g"}, 2, Away, at(0))
			f.set("c", []string{"h"}, 4, Online, at(0))
			f.route("g", 100, 0, at(0))
			for c := uint64(1); c <= 3; c++ {
				if _, pos := f.route("g", c, 0, at(int(c))); pos != int(c) {
					t.Fatalf("conv %d position %d", c, pos)
				}
			}
			as := tt.act(f)
			if got := convsOf(as); !slices.Equal(got, tt.want) {
				t.Fatalf("drained %v, want %v", got, tt.want)
			}
			for _, a := range as {
				if a.Agent != tt.by || a.Group != "g" || a.Waited != at(10).Sub(at(int(a.Conv))) {
					t.Errorf("assignment %+v", a)
				}
			}
			if err := f.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDrainMultiGroupOldestFirst(t *testing.T) {
	f := newFixture(t).group("A", LeastLoaded).group("B", RoundRobin).group("C", LongestIdle)
	f.set("x", []string{"A", "B", "C"}, 1, Online, at(0))
	f.route("A", 100, 0, at(0))
	f.route("A", 1, 0, at(1))
	f.route("B", 2, 0, at(2))
	f.route("A", 3, 0, at(3))
	f.route("C", 4, 0, at(3)) // same time as 3, queued after it
	f.route("B", 5, 0, at(4))
	f.route("C", 6, 2, at(5)) // higher priority wins over age
	want := []uint64{6, 1, 2, 3, 4, 5}
	held := uint64(100)
	for i, w := range want {
		as := f.release("x", held, at(10+i))
		if len(as) != 1 || as[0].Conv != w {
			t.Fatalf("release %d drained %v, want %d", i, convsOf(as), w)
		}
		held = w
	}
	// A multi-group agent raising its max takes them in the same order.
	g := newFixture(t).group("A", LeastLoaded).group("B", LeastLoaded)
	g.set("x", []string{"A", "B"}, 0, Online, at(0))
	g.route("B", 1, 0, at(1))
	g.route("A", 2, 0, at(2))
	g.route("B", 3, 0, at(3))
	g.route("A", 4, 0, at(4))
	if got := convsOf(g.set("x", []string{"A", "B"}, 3, Online, at(5))); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Errorf("raising max drained %v, want [1 2 3]", got)
	}
	if err := g.check(); err != nil {
		t.Fatal(err)
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t, WithPositionInterval(0)).group("g", LeastLoaded)
	f.set("a", []string{"g"}, 1, Online, at(0))
	f.route("g", 100, 0, at(0))
	for c := uint64(1); c <= 4; c++ {
		f.route("g", c, 0, at(int(c)))
	}
	if !f.Cancel(2) {
		t.Fatal("Cancel(2) = false")
	}
	if f.Cancel(2) {
		t.Error("second Cancel(2) = true")
	}
	if f.Cancel(100) {
		t.Error("Cancel of an assigned conversation = true")
	}
	if f.Cancel(77) {
		t.Error("Cancel of an unknown conversation = true")
	}
	if n := f.Queued("g"); n != 3 {
		t.Errorf("Queued = %d, want 3", n)
	}
	if _, ok := f.QueuedSince(2); ok {
		t.Error("cancelled conversation still queued")
	}
	ups := f.Positions(at(5), nil)
	if want := []PositionUpdate{{3, "g", 2}, {4, "g", 3}}; !slices.Equal(ups, want) {
		t.Errorf("positions %v, want %v", ups, want)
	}
	// The cancelled conversation is skipped when serving and may be routed
	// again afterwards.
	var got []uint64
	held := uint64(100)
	for i := range 3 {
		as := f.release("a", held, at(10+i))
		got = append(got, convsOf(as)...)
		held = as[0].Conv
	}
	if !slices.Equal(got, []uint64{1, 3, 4}) {
		t.Errorf("served %v, want [1 3 4]", got)
	}
	if _, pos := f.route("g", 2, 0, at(20)); pos != 1 {
		t.Errorf("re-routed cancelled conversation at position %d", pos)
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}

func TestCancelManyCompacts(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded)
	f.set("a", []string{"g"}, 0, Online, at(0))
	for c := uint64(1); c <= 10000; c++ {
		f.route("g", c, 0, at(0))
		if c > 1 && !f.Cancel(c) {
			t.Fatalf("Cancel(%d) = false", c)
		}
	}
	if q := f.groups[0].levels[0].q.n; q > 100 {
		t.Errorf("FIFO holds %d entries for 1 waiting", q)
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}

func TestAssign(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded).group("h", LeastLoaded)
	f.set("a", []string{"g"}, 1, Online, at(0))
	f.set("b", []string{"h"}, 2, Online, at(0))
	f.route("g", 100, 0, at(0))
	f.route("g", 1, 0, at(1))
	f.route("g", 2, 0, at(2))
	// A supervisor hands the second waiting conversation to b, outside its
	// group: it leaves the queue.
	a, err := f.Assign("b", "g", 2, at(5))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Assignment{Conv: 2, Agent: "b", Group: "g", Waited: 3 * time.Second}); a != want {
		t.Errorf("Assign = %+v, want %+v", a, want)
	}
	if n := f.Queued("g"); n != 1 {
		t.Errorf("Queued = %d, want 1", n)
	}
	if id, ok := f.AgentOf(2); !ok || id != "b" {
		t.Errorf("AgentOf(2) = %q, %v", id, ok)
	}
	// Transfer: release from a, assign to b; a's freed room drains conv 1.
	as := f.release("a", 100, at(6))
	if got := convsOf(as); !slices.Equal(got, []uint64{1}) {
		t.Errorf("drained %v", got)
	}
	f.assign("b", "h", 50, at(6))
	if _, err := f.Assign("b", "h", 100, at(6)); !errors.Is(err, ErrAgentFull) {
		t.Errorf("assign to full agent: %v", err)
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded)
	f.set("a", []string{"g"}, 1, Online, at(0))
	f.set("off", []string{"g"}, 3, Offline, at(0))
	f.set("away", []string{"g"}, 3, Away, at(0))
	f.route("g", 1, 0, at(0)) // a is full
	f.route("g", 2, 0, at(0)) // queued
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"add existing group", f.AddGroup("g", RoundRobin), ErrGroupExists},
		{"add group empty name", f.AddGroup("", RoundRobin), ErrInvalid},
		{"add group bad policy", f.AddGroup("x", Policy(7)), ErrUnknownPolicy},
		{"route unknown group", errOf(f.Route("nope", 3, 0, at(1))), ErrUnknownGroup},
		{"route queued", errOf(f.Route("g", 2, 0, at(1))), ErrAlreadyQueued},
		{"route assigned", errOf(f.Route("g", 1, 0, at(1))), ErrAlreadyAssigned},
		{"assign unknown agent", errOf2(f.Assign("nobody", "g", 3, at(1))), ErrUnknownAgent},
		{"assign unknown group", errOf2(f.Assign("a", "nope", 3, at(1))), ErrUnknownGroup},
		{"assign full agent", errOf2(f.Assign("a", "g", 3, at(1))), ErrAgentFull},
		{"assign offline agent", errOf2(f.Assign("off", "g", 3, at(1))), ErrAgentUnavailable},
		{"assign away agent", errOf2(f.Assign("away", "g", 3, at(1))), ErrAgentUnavailable},
		{"assign assigned", errOf2(f.Assign("away", "g", 1, at(1))), ErrAlreadyAssigned},
		{"release unknown agent", errOf2(f.Release("nobody", 1, at(1))), ErrUnknownAgent},
		{"release not held", errOf2(f.Release("off", 1, at(1))), ErrNotAssigned},
		{"release queued", errOf2(f.Release("a", 2, at(1))), ErrNotAssigned},
		{"release unknown conv", errOf2(f.Release("a", 99, at(1))), ErrNotAssigned},
		{"set agent unknown group", errOf2(f.SetAgent("n", []string{"g", "nope"}, 1, Online, at(1))), ErrUnknownGroup},
		{"set agent no groups", errOf2(f.SetAgent("n", nil, 1, Online, at(1))), ErrInvalid},
		{"set agent negative max", errOf2(f.SetAgent("n", []string{"g"}, -1, Online, at(1))), ErrInvalid},
		{"set agent bad status", errOf2(f.SetAgent("n", []string{"g"}, 1, Status(3), at(1))), ErrInvalid},
		{"set agent empty id", errOf2(f.SetAgent("", []string{"g"}, 1, Online, at(1))), ErrInvalid},
		{"remove unknown agent", f.RemoveAgent("nobody"), ErrUnknownAgent},
		{"remove busy agent", f.RemoveAgent("a"), ErrAgentBusy},
		{"parse policy", errOf2(ParsePolicy("fastest")), ErrUnknownPolicy},
		{"position of assigned", errOf3(f.Position(1)), ErrNotQueued},
		{"position of unknown", errOf3(f.Position(99)), ErrNotQueued},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
			continue
		}
		if msg := tt.err.Error(); !strings.Contains(msg, "routing: ") || msg != strings.ToLower(msg[:1])+msg[1:] {
			t.Errorf("%s: message %q", tt.name, msg)
		}
	}
	if _, ok := f.Agent("n"); ok {
		t.Error("failed SetAgent created the agent")
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}

func errOf(_ Assignment, _ bool, _ int, err error) error { return err }
func errOf2[T any](_ T, err error) error                 { return err }
func errOf3(_ string, _ int, err error) error            { return err }

func TestAgentInfoAndRemove(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded).group("h", RoundRobin)
	f.set("a", []string{"h", "g", "h"}, 3, Online, at(0))
	f.route("g", 1, 0, at(0))
	info, ok := f.Agent("a")
	want := AgentInfo{ID: "a", Groups: []string{"h", "g"}, Max: 3, Active: 1, Status: Online}
	if !ok || fmt.Sprint(info) != fmt.Sprint(want) {
		t.Errorf("Agent = %+v, %v; want %+v", info, ok, want)
	}
	if gs := f.Groups(); !slices.Equal(gs, []string{"g", "h"}) {
		t.Errorf("Groups = %v", gs)
	}
	f.release("a", 1, at(1))
	f.set("a", []string{"g"}, 3, Offline, at(2))
	if err := f.RemoveAgent("a"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Agent("a"); ok {
		t.Error("removed agent still known")
	}
	// Nobody left: routing queues.
	if _, pos := f.route("g", 2, 0, at(3)); pos != 1 {
		t.Errorf("position %d", pos)
	}
	// The freed index is reused by a new agent, which takes the waiting
	// conversation.
	if got := convsOf(f.set("b", []string{"g"}, 1, Online, at(4))); !slices.Equal(got, []uint64{2}) {
		t.Errorf("new agent drained %v", got)
	}
	if s := Away.String() + Offline.String() + Online.String() + Status(9).String(); s != "awayofflineonlineStatus(9)" {
		t.Errorf("status strings %q", s)
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}

func TestLeaveGroup(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded).group("h", LeastLoaded)
	f.set("a", []string{"g", "h"}, 2, Online, at(0))
	f.set("a", []string{"h"}, 2, Online, at(1))
	if _, pos := f.route("g", 1, 0, at(2)); pos != 1 {
		t.Errorf("agent that left g still routed to: position %d", pos)
	}
	if a, _ := f.route("h", 2, 0, at(2)); a != "a" {
		t.Errorf("h routed to %q", a)
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}

// TestZeroTime checks routing in a simulator that starts its virtual clock
// at the zero time.
func TestZeroTime(t *testing.T) {
	f := newFixture(t).group("g", LongestIdle)
	var z time.Time
	f.set("a", []string{"g"}, 1, Online, z.Add(2*time.Second))
	f.set("b", []string{"g"}, 1, Online, z)
	if a, _ := f.route("g", 1, 0, z.Add(3*time.Second)); a != "b" {
		t.Errorf("picked %q, want b", a)
	}
	f.route("g", 2, 0, z.Add(3*time.Second))
	f.route("g", 3, 0, z.Add(4*time.Second))
	if since, ok := f.QueuedSince(3); !ok || !since.Equal(z.Add(4*time.Second)) {
		t.Errorf("QueuedSince = %v, %v", since, ok)
	}
	as := f.release("b", 1, z.Add(10*time.Second))
	if len(as) != 1 || as[0].Waited != 6*time.Second {
		t.Errorf("drained %+v", as)
	}
}

// TestRestore: chats held before a restart come back to their agent, who is
// created offline with no room, and count in its load once it says its
// limit: an agent back with max 2 and one restored chat takes one more.
func TestRestore(t *testing.T) {
	f := newFixture(t).group("g", LeastLoaded).group("h", LeastLoaded)
	if err := f.Restore("a", "g", 7, at(0)); err != nil {
		t.Fatal(err)
	}
	if err := f.Restore("a", "h", 8, at(0)); err != nil {
		t.Fatal(err)
	}
	info, ok := f.Agent("a")
	if !ok || info.Status != Offline || info.Active != 2 || info.Max != 0 {
		t.Fatalf("restored agent %+v, %v: want offline with 2 chats and no room", info, ok)
	}
	if id, ok := f.AgentOf(8); !ok || id != "a" {
		t.Errorf("AgentOf(8) = %q, %v", id, ok)
	}
	if err := f.Restore("b", "g", 7, at(0)); !errors.Is(err, ErrAlreadyAssigned) {
		t.Errorf("restore a held conversation: %v, want ErrAlreadyAssigned", err)
	}
	if err := f.Restore("b", "nope", 9, at(0)); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("restore into an unknown group: %v", err)
	}
	if _, pos := f.route("g", 20, 0, at(1)); pos != 1 {
		t.Fatalf("conversation 20 should wait, position %d", pos)
	}
	if err := f.Restore("b", "g", 20, at(1)); !errors.Is(err, ErrAlreadyQueued) {
		t.Errorf("restore a queued conversation: %v, want ErrAlreadyQueued", err)
	}
	f.route("g", 21, 0, at(2))
	// Back online with room for 3: one more chat (2 restored), the oldest.
	if got := convsOf(f.set("a", []string{"g", "h"}, 3, Online, at(3))); !slices.Equal(got, []uint64{20}) {
		t.Errorf("drained %v, want [20]", got)
	}
	if as := f.release("a", 7, at(4)); !slices.Equal(convsOf(as), []uint64{21}) {
		t.Errorf("after releasing a restored chat drained %v, want [21]", convsOf(as))
	}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
}
