package scenario

import (
	"math"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	s := phased(t) // ramp 1m to 2/s, steady 2m at 2/s, spike 30s at 4/s
	sc := s.Schedule()
	if sc.Arrival != ArrivalPoisson || sc.Base != 2 || len(sc.Segments) != 3 || sc.Duration() != 210*time.Second {
		t.Fatalf("schedule %+v", sc)
	}
	for _, tt := range []struct {
		at    time.Duration
		level float64
		phase int
	}{
		{-time.Second, 0, -1},
		{0, 0, 0},
		{30 * time.Second, 1, 0},
		{45 * time.Second, 1.5, 0},
		{time.Minute, 2, 1},
		{3 * time.Minute, 4, 2},
		{209 * time.Second, 4, 2},
		{210 * time.Second, 0, -1},
	} {
		if got := sc.At(tt.at); math.Abs(got-tt.level) > 1e-9 {
			t.Errorf("At(%v) = %v; want %v", tt.at, got, tt.level)
		}
		if got := sc.Phase(tt.at); got != tt.phase {
			t.Errorf("Phase(%v) = %d; want %d", tt.at, got, tt.phase)
		}
	}
	if sc.Peak() != 4 {
		t.Errorf("Peak = %v", sc.Peak())
	}
	// Sessions: the area under the rate, per phase and in total.
	for i, want := range []float64{60, 240, 120} {
		if got := sc.Segments[i].Sessions; math.Abs(got-want) > 1e-9 {
			t.Errorf("segment %d: %v sessions; want %v", i, got, want)
		}
	}
	if got := sc.Sessions(); math.Abs(got-420) > 1e-9 {
		t.Errorf("Sessions = %v; want 420", got)
	}
	for _, tt := range []struct {
		at   time.Duration
		want float64
	}{{0, 0}, {30 * time.Second, 15}, {time.Minute, 60}, {2 * time.Minute, 180}, {210 * time.Second, 420}, {time.Hour, 420}} {
		if got := sc.Cumulative(tt.at); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Cumulative(%v) = %v; want %v", tt.at, got, tt.want)
		}
	}
	if _, ok := sc.TimeOf(421); ok {
		t.Error("TimeOf beyond the end found a time")
	}
	if _, ok := sc.TimeOf(-1); ok {
		t.Error("TimeOf(-1) found a time")
	}
}

// TestTimeOf checks that TimeOf inverts Cumulative on every kind of
// segment: rising, steady, falling, and across a zero level.
func TestTimeOf(t *testing.T) {
	s := valid()
	s.Phases = []Phase{
		{Name: "up", Kind: PhaseRamp, Duration: Duration(time.Minute), Target: 2},
		{Name: "hold", Kind: PhaseSteady, Duration: Duration(time.Minute), Target: 2},
		{Name: "off", Kind: PhaseSpike, Duration: Duration(30 * time.Second), Target: 0},
		{Name: "on", Kind: PhaseSpike, Duration: Duration(30 * time.Second), Target: 1},
		{Name: "down", Kind: PhaseRamp, Duration: Duration(time.Minute), Target: 0.1},
	}
	s.Duration = Duration(4 * time.Minute)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := s.Schedule()
	for at := time.Duration(0); at <= 4*time.Minute; at += 777 * time.Millisecond {
		if sc.At(at) == 0 && at > 0 {
			continue // no arrivals: any offset of the gap maps to its start
		}
		got, ok := sc.TimeOf(sc.Cumulative(at))
		if !ok || absDur(got-at) > time.Microsecond {
			t.Errorf("TimeOf(Cumulative(%v)) = %v, %v", at, got, ok)
		}
	}
	// Nothing arrives while the level is 0.
	x := sc.Cumulative(2 * time.Minute)
	if got, _ := sc.TimeOf(x + 1e-9); got < 150*time.Second {
		t.Errorf("an arrival just after the gap's start comes at %v; want after it, 2m30s", got)
	}
}

// TestNextArrival checks the arrivals drawn from a schedule: as many as
// expected in each phase, and thinning out with the rate within a ramp.
func TestNextArrival(t *testing.T) {
	s := phased(t)
	s.Customers.Rate = 200 // 42,000 expected arrivals
	sc := s.Schedule()
	r := newRand(11)
	counts := make([]float64, len(sc.Segments))
	firstQuarter := 0.0 // arrivals in the first half of the ramp
	var at time.Duration
	last := time.Duration(-1)
	for {
		next, ok := sc.NextArrival(at, r)
		if !ok {
			break
		}
		if next < last {
			t.Fatalf("arrival %v before %v", next, last)
		}
		counts[sc.Phase(next)]++
		if next < 30*time.Second {
			firstQuarter++
		}
		at, last = next, next
	}
	for i, g := range sc.Segments {
		if sigma := math.Sqrt(g.Sessions); math.Abs(counts[i]-g.Sessions) > 4*sigma {
			t.Errorf("segment %d: %v arrivals; want %v ± %v", i, counts[i], g.Sessions, 4*sigma)
		}
	}
	// The ramp rises linearly: its first half holds a quarter of its
	// arrivals.
	if want := sc.Segments[0].Sessions / 4; math.Abs(firstQuarter-want) > 4*math.Sqrt(want) {
		t.Errorf("first half of the ramp: %v arrivals; want %v", firstQuarter, want)
	}
	// The same seed gives the same arrivals.
	a, _ := sc.NextArrival(0, newRand(5))
	b, _ := sc.NextArrival(0, newRand(5))
	if a != b {
		t.Errorf("same seed, arrivals %v and %v", a, b)
	}
}

func TestSchedulePopulation(t *testing.T) {
	s := valid()
	s.Customers.Arrival, s.Customers.Rate, s.Customers.Population = ArrivalPopulation, 0, 100
	s.Customers.Devices = 2
	s.Phases = []Phase{
		{Name: "up", Kind: PhaseRamp, Duration: Duration(time.Minute), Target: 1},
		{Name: "hold", Kind: PhaseSteady, Duration: Duration(time.Minute), Target: 1},
		{Name: "spike", Kind: PhaseSpike, Duration: Duration(time.Minute), Target: 2},
		{Name: "down", Kind: PhaseRamp, Duration: Duration(time.Minute), Target: 0.5},
	}
	s.Duration = Duration(4 * time.Minute)
	s.Customers.Stay = true
	sc := s.Schedule()
	if got := sc.Sessions(); got != 200 {
		t.Errorf("staying population: %v sessions; want 200 (100 to ramp up, 100 for the spike)", got)
	}
	if got := sc.At(90 * time.Second); got != 100 {
		t.Errorf("At(1m30s) = %v", got)
	}
	if got := sc.At(210 * time.Second); got != 125 {
		t.Errorf("At(3m30s) = %v; want 125 on the way down", got)
	}
	if got, want := s.PeakConnections(), 200*2+2; got != want {
		t.Errorf("PeakConnections = %d; want %d", got, want)
	}
	// Customers who leave are replaced: one more session per script time
	// of each customer.
	s.Customers.Stay = false
	script := s.ScriptTime().Seconds()
	area := 30.0*100 + 60*100 + 60*200 + 30*(200+50)
	if got, want := s.Schedule().Sessions(), 200+area/script; math.Abs(got-want) > 1e-6 {
		t.Errorf("replaced population: %v sessions; want %v", got, want)
	}
}

func TestScriptTime(t *testing.T) {
	s := valid()
	// connect, open, expect_menu, think exp(5s), ask_person, chat 2 x
	// (think exp(5s) + typing), close
	typing := s.Agents.Typing.Mean()
	greet := s.Agents.Greet.Mean()
	want := 5*time.Second + greet + 2*(5*time.Second+typing)
	if got := s.ScriptTime(); absDur(got-want) > time.Millisecond {
		t.Errorf("ScriptTime = %v; want %v", got, want)
	}
	half := Ratio(0.5)
	s.Customers.Script[4].Chance = &half // only half reach a person
	ask := Exp(10 * time.Second)
	s.Customers.Script = append(s.Customers.Script[:4], append([]Step{{Ask: &Ask{Count: 3, Think: ask}}}, s.Customers.Script[4:]...)...)
	want = 5*time.Second + 2*10*time.Second + greet/2 + (2*(5*time.Second+typing))/2
	if got := s.ScriptTime(); absDur(got-want) > time.Millisecond {
		t.Errorf("with chance and ask: ScriptTime = %v; want %v", got, want)
	}
	// Little's law for Poisson arrivals: the peak rate times the script.
	if got, want := s.PeakConnections(), int(math.Ceil(2*s.ScriptTime().Seconds()))+2; got != want {
		t.Errorf("PeakConnections = %d; want %d", got, want)
	}
	s.Customers.Stay = true
	s.Broadcast.At = []Duration{1}
	if got, want := s.PeakConnections(), int(2*time.Duration(s.Duration).Seconds())+2+1; got != want {
		t.Errorf("staying: PeakConnections = %d; want %d", got, want)
	}
}

func TestWall(t *testing.T) {
	s := valid()
	s.Timescale = 30
	if got := s.Wall(time.Minute); got != 2*time.Second {
		t.Errorf("Wall(1m) = %v", got)
	}
	if got := s.WallDuration(); got != 20*time.Second {
		t.Errorf("WallDuration = %v", got)
	}
	s.Timescale = 0
	if got := s.Wall(time.Minute); got != time.Minute {
		t.Errorf("Wall with no time scale = %v", got)
	}
}
