package swarm

import (
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
)

// timer is one pending actor timer, due at a scenario time.
type timer struct {
	at    time.Time
	seq   uint64
	a     behavior.Actor
	token uint64
}

func (t *timer) before(u *timer) bool {
	if !t.at.Equal(u.at) {
		return t.at.Before(u.at)
	}
	return t.seq < u.seq
}

// timerHeap is a 4-ary min-heap of timers ordered by (at, seq): shallower
// than a binary heap, so a push or pop touches fewer cache lines. Timers
// due at the same time fire in the order they were set.
type timerHeap []timer

func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !s[i].before(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *timerHeap) pop() timer {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = timer{}
	s = s[:n]
	i := 0
	for {
		first := 4*i + 1
		if first >= n {
			break
		}
		m := first
		for c := first + 1; c < first+4 && c < n; c++ {
			if s[c].before(&s[m]) {
				m = c
			}
		}
		if !s[m].before(&s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// latestWithin returns the latest due time of the timers due no later
// than limit, visiting at most max of them (the heap prunes the rest), or
// the zero time if none is.
func (h timerHeap) latestWithin(limit time.Time, max int) time.Time {
	var latest time.Time
	var stack [64]int
	sp := 0
	if len(h) > 0 {
		stack[0], sp = 0, 1
	}
	for visited := 0; sp > 0 && visited < max; visited++ {
		sp--
		i := stack[sp]
		if h[i].at.After(limit) {
			continue // and so is every timer below it
		}
		if h[i].at.After(latest) {
			latest = h[i].at
		}
		for c := 4*i + 1; c <= 4*i+4 && c < len(h) && sp < len(stack); c++ {
			stack[sp] = c
			sp++
		}
	}
	return latest
}
