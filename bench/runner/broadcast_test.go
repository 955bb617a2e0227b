package runner

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
)

// TestBroadcastTimes plans fixed and periodic broadcasts within the run.
func TestBroadcastTimes(t *testing.T) {
	sc, err := scenario.Parse([]byte(`
duration: 10m
customers: {rate: 1, script: [connect]}
broadcast:
  at: [30s, 5s]
  every: const(4m)
  start: 1m
`), "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := broadcastTimes(sc, rand.New(rand.NewPCG(1, 2)))
	want := []time.Duration{5 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 9 * time.Minute}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
