package floor

import (
	"fmt"
	"io"
)

// Summary writes the report's summary lines to w.
func Summary(w io.Writer, r *Result) {
	fmt.Fprintf(w, "floor: %d connections held of %d asked (%d errors; the server answered %d hellos), %d source address(es), %d set up at once\n",
		r.Connections, r.Requested, r.Errors, r.ServerAnswered, r.SourceAddrs, r.InFlight)
	if r.Capped != "" {
		fmt.Fprintf(w, "capped to %d: %s\n", r.Tried, r.Capped)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	for _, s := range []struct {
		name string
		*Side
	}{{"client", &r.Client}, {"server", &r.Server}} {
		fmt.Fprintf(w, "%s: CPU %.3f s (connect %.3f s, hold %.3f s), RSS %.1f MiB before, peak %.1f MiB, %.0f B per connection\n",
			s.name, s.CPUS, s.CPUConnectS, s.CPUHoldS, mib(s.RSSBeforeBytes), mib(s.PeakRSSBytes), s.BytesPerConnection)
	}
	fmt.Fprintf(w, "client/server CPU: %.2f× (connect phase %.2f×)\n", r.CPURatio, r.ConnectCPURatio)
	fmt.Fprintf(w, "wall: %.2f s (connect %.2f s, hold %.2f s)\n", r.WallS, r.ConnectWallS, r.HoldS)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
