package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var policies = []Policy{LeastLoaded, RoundRobin, LongestIdle}

// held is a FIFO of the chats a benchmark has been given; it releases the
// oldest first, so releases spread over the agents.
type held struct {
	convs  []uint64
	agents []string
	head   int
	n      int
}

func newHeld(capacity int) *held {
	return &held{convs: make([]uint64, capacity), agents: make([]string, capacity)}
}

func (h *held) push(as ...Assignment) {
	for _, a := range as {
		i := (h.head + h.n) % len(h.convs)
		h.convs[i], h.agents[i] = a.Conv, a.Agent
		h.n++
	}
}

func (h *held) pop() (string, uint64) {
	i := h.head
	h.head = (h.head + 1) % len(h.convs)
	h.n--
	return h.agents[i], h.convs[i]
}

// benchRouter builds a Router with agents max-chat agents, each in perAgent
// of groups groups (chosen at random), and routes conversations until fill
// of all capacity is taken.
func benchRouter(b *testing.B, p Policy, agents, max, groups, perAgent int, fill float64) (*Router, *held, []string, uint64) {
	r := New()
	names := make([]string, groups)
	for i := range names {
		names[i] = fmt.Sprintf("group-%02d", i)
		if err := r.AddGroup(names[i], p); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range agents {
		gs := make([]string, 0, perAgent)
		for _, g := range rng.Perm(groups)[:perAgent] {
			gs = append(gs, names[g])
		}
		if _, err := r.SetAgent(fmt.Sprintf("agent-%05d", i), gs, max, Online, t0); err != nil {
			b.Fatal(err)
		}
	}
	h := newHeld(agents * max)
	conv := uint64(1)
	for range int(float64(agents*max) * fill) {
		a, ok, _, err := r.Route(names[rng.IntN(groups)], conv, 0, t0)
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			r.Cancel(conv)
		} else {
			h.push(a)
		}
		conv++
	}
	return r, h, names, conv
}

// routeRelease runs the route-and-release cycle: each iteration releases the
// oldest chat and routes a new conversation to a random group.
func routeRelease(b *testing.B, r *Router, h *held, names []string, conv uint64) {
	rng := rand.New(rand.NewPCG(3, 4))
	now := t0
	queued := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		agent, c := h.pop()
		as, err := r.Release(agent, c, now)
		if err != nil {
			b.Fatal(err)
		}
		h.push(as...)
		g := names[0]
		if len(names) > 1 {
			g = names[rng.IntN(len(names))]
		}
		a, ok, _, err := r.Route(g, conv, 0, now)
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			h.push(a)
		} else {
			queued++
		}
		conv++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	b.ReportMetric(float64(queued)/float64(b.N), "queued/op")
}

// BenchmarkRouteRelease10k routes and releases with 10,000 agents of max 20
// in one group, 97.5% full, so assignments fill agents and releases free
// them: the heap changes on every call.
func BenchmarkRouteRelease10k(b *testing.B) {
	for _, p := range policies {
		b.Run(p.String(), func(b *testing.B) {
			r, h, names, conv := benchRouter(b, p, 10_000, 20, 1, 1, 0.975)
			routeRelease(b, r, h, names, conv)
		})
	}
}

// BenchmarkRoute10kMultiGroup is BenchmarkRouteRelease10k with agents in 3
// of 10 groups, 90% full: each assignment updates three heaps.
func BenchmarkRoute10kMultiGroup(b *testing.B) {
	for _, p := range policies {
		b.Run(p.String(), func(b *testing.B) {
			r, h, names, conv := benchRouter(b, p, 10_000, 20, 10, 3, 0.9)
			routeRelease(b, r, h, names, conv)
		})
	}
}

// queueBench fills 1,000 agents of max 20 and queues waiting conversations
// behind them.
func queueBench(b *testing.B, waiting int, opts ...Option) (*Router, *held, uint64) {
	r := New(opts...)
	if err := r.AddGroup("g", LeastLoaded); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if _, err := r.SetAgent(fmt.Sprintf("agent-%04d", i), []string{"g"}, 20, Online, t0); err != nil {
			b.Fatal(err)
		}
	}
	h := newHeld(1000 * 20)
	conv := uint64(1)
	for ; conv <= 1000*20+uint64(waiting); conv++ {
		a, ok, _, err := r.Route("g", conv, int(conv%3), t0)
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			h.push(a)
		}
	}
	return r, h, conv
}

// BenchmarkQueueDrain frees capacity one chat at a time with 10,000
// conversations waiting: each release assigns the head of the queue, and a
// new conversation joins its tail.
func BenchmarkQueueDrain(b *testing.B) {
	r, h, conv := queueBench(b, 10_000)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		agent, c := h.pop()
		as, err := r.Release(agent, c, now)
		if err != nil || len(as) != 1 {
			b.Fatalf("release: %v, %d assigned", err, len(as))
		}
		h.push(as...)
		if _, ok, _, err := r.Route("g", conv, int(conv%3), now); ok || err != nil {
			b.Fatalf("route: assigned %v, %v", ok, err)
		}
		conv++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "drains/s")
}

// BenchmarkCancel cancels and re-queues conversations in a queue of 10,000.
func BenchmarkCancel(b *testing.B) {
	r, _, conv := queueBench(b, 10_000)
	first := uint64(1000*20 + 1)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		if !r.Cancel(first) {
			b.Fatalf("Cancel(%d) = false", first)
		}
		if _, ok, _, err := r.Route("g", conv, int(conv%3), now); ok || err != nil {
			b.Fatalf("route: assigned %v, %v", ok, err)
		}
		first++
		conv++
	}
}

// BenchmarkPositions reports positions for a queue of 10,000 in which every
// position changed (the head was served).
func BenchmarkPositions(b *testing.B) {
	r, h, conv := queueBench(b, 10_000, WithPositionInterval(0))
	now := t0
	var ups []PositionUpdate
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		agent, c := h.pop()
		as, err := r.Release(agent, c, now)
		if err != nil {
			b.Fatal(err)
		}
		h.push(as...)
		if _, ok, _, err := r.Route("g", conv, 0, now); ok || err != nil {
			b.Fatalf("route: assigned %v, %v", ok, err)
		}
		conv++
		ups = r.Positions(now, ups[:0])
	}
	b.ReportMetric(float64(len(ups)), "updates/op")
}
