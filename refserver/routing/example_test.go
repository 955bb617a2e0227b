package routing_test

import (
	"fmt"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/routing"
)

func Example() {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	r := routing.New(routing.WithPositionInterval(5 * time.Second))
	if err := r.AddGroup("returns", routing.LeastLoaded); err != nil {
		panic(err)
	}
	if _, err := r.SetAgent("alice", []string{"returns"}, 2, routing.Online, now); err != nil {
		panic(err)
	}

	// Two customers are served at once, the next two wait.
	for conv := uint64(1); conv <= 4; conv++ {
		a, ok, pos, err := r.Route("returns", conv, 0, now)
		switch {
		case err != nil:
			panic(err)
		case ok:
			fmt.Printf("conv %d -> %s\n", a.Conv, a.Agent)
		default:
			fmt.Printf("conv %d waits at %d\n", conv, pos)
		}
	}

	// Alice closes a chat a minute later: the first in line is hers.
	now = now.Add(time.Minute)
	as, err := r.Release("alice", 1, now)
	if err != nil {
		panic(err)
	}
	for _, a := range as {
		fmt.Printf("conv %d -> %s after %v\n", a.Conv, a.Agent, a.Waited)
	}

	// The timer tells the one still waiting that it moved up.
	for _, u := range r.Positions(now, nil) {
		fmt.Printf("conv %d now at %d\n", u.Conv, u.Position)
	}
	// Output:
	// conv 1 -> alice
	// conv 2 -> alice
	// conv 3 waits at 1
	// conv 4 waits at 2
	// conv 3 -> alice after 1m0s
	// conv 4 now at 1
}
