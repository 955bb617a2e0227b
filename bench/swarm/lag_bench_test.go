package swarm

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// lagProbe is an actor whose timers record how late they fired.
type lagProbe struct {
	lp   *Loop
	due  []time.Time
	lags []time.Duration
	left int
	done chan struct{}
}

func (p *lagProbe) Receive(int, wire.Msg) {}
func (p *lagProbe) Dropped(int, error)    {}
func (p *lagProbe) Timer(tok uint64) {
	p.lags = append(p.lags, p.lp.Now().Sub(p.due[tok]))
	if p.left--; p.left == 0 {
		close(p.done)
	}
}

// BenchmarkTimerLag sets b.N timers at random times over about a second
// a thousand timers, spread over the loops, and reports how late they
// fired (wall time, the loops' wake-up latency): p50, p99 and max.
func BenchmarkTimerLag(b *testing.B) {
	rt, err := New(Options{Addr: "127.0.0.1:1", Loops: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	span := time.Duration(max(b.N, 1000)) * time.Millisecond
	r := rand.New(rand.NewPCG(1, 2))
	probes := make([]*lagProbe, len(rt.Loops()))
	b.ResetTimer()
	for i, lp := range rt.Loops() {
		p := &lagProbe{lp: lp, done: make(chan struct{})}
		probes[i] = p
		lp.Do(func() {
			now := lp.Now()
			for j := i; j < b.N; j += len(probes) {
				at := now.Add(10*time.Millisecond + time.Duration(r.Int64N(int64(span))))
				p.due = append(p.due, at)
				lp.At(at, p, uint64(len(p.due)-1))
				p.left++
			}
			if p.left == 0 {
				close(p.done)
			}
		})
	}
	var lags []time.Duration
	for i, p := range probes {
		<-p.done
		rt.Loops()[i].Do(func() { lags = append(lags, p.lags...) })
	}
	b.StopTimer()
	slices.Sort(lags)
	q := func(f float64) float64 { return float64(lags[int(f*float64(len(lags)-1))].Microseconds()) }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(1), "max-µs")
	b.ReportMetric(0, "ns/op")
}
