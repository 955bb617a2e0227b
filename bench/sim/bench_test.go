package sim

import (
	"context"
	"testing"
)

// BenchmarkPeakHour simulates the peak-hour scenario (about 34,000
// sessions in an hour of simulated time); it reports sessions and events
// per second of wall time.
func BenchmarkPeakHour(b *testing.B) {
	var sessions, events float64
	for b.Loop() {
		res, err := Run(context.Background(), Options{Scenario: "peak-hour"})
		if err != nil {
			b.Fatal(err)
		}
		sessions += float64(res.Sim.Sessions)
		events += float64(res.Sim.Events)
	}
	b.ReportMetric(sessions/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSmoke simulates the smoke scenario: mostly the fixed cost of a
// simulation (building the desks, the bot, the recorder).
func BenchmarkSmoke(b *testing.B) {
	for b.Loop() {
		if _, err := Run(context.Background(), Options{Scenario: "smoke"}); err != nil {
			b.Fatal(err)
		}
	}
}
