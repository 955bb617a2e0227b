package suite

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/swarmdesk/swarmdesk/reports"
)

// ChaosRun is a bench run --chaos kill-server: the whole bench (customers
// on two devices, agents) against the embedded refserver, killed with
// SIGKILL on a schedule and restarted on the same data directory and
// address. It is the run's result document, with its chaos and reconnects
// sections and the accessors the template needs.
type ChaosRun struct {
	Run
}

// readChaos reads entry id's result document, which must have a chaos
// section.
func readChaos(id, dir string) (*ChaosRun, error) {
	run, err := readRun(id, dir, "")
	if err != nil {
		return nil, err
	}
	if run.Result.Chaos == nil {
		return nil, errorf(id, "%s has no chaos section: not a bench run --chaos result", filepath.Join(dir, ResultFile))
	}
	return &ChaosRun{*run}, nil
}

// Kills are the kills in order.
func (c *ChaosRun) Kills() []reports.ChaosKill { return c.Result.Chaos.Kills }

// MaxInFlight is the most messages in flight (sent, not acknowledged) at
// one kill.
func (c *ChaosRun) MaxInFlight() int64 {
	var n int64
	for _, k := range c.Kills() {
		n = max(n, k.InFlight)
	}
	return n
}

// MaxConnections is the most simulated connections open at one kill.
func (c *ChaosRun) MaxConnections() int64 {
	var n int64
	for _, k := range c.Kills() {
		n = max(n, k.Connections)
	}
	return n
}

// Restarted counts the kills after which the server restarted.
func (c *ChaosRun) Restarted() int {
	n := 0
	for _, k := range c.Kills() {
		if k.Error == "" {
			n++
		}
	}
	return n
}

// MedianRestartS is the median time from a kill to the restarted server
// serving, over the kills whose restart succeeded, in seconds.
func (c *ChaosRun) MedianRestartS() float64 {
	var vs []float64
	for _, k := range c.Kills() {
		if k.Error == "" {
			vs = append(vs, k.ServerRestartS)
		}
	}
	return medianOf(vs)
}

// Resumed counts the kills after which every dropped client came back.
func (c *ChaosRun) Resumed() int {
	n := 0
	for _, k := range c.Kills() {
		if k.Resumed {
			n++
		}
	}
	return n
}

// MedianClientsBackS is the median time from a kill to every client that
// dropped reconnected and caught up, over the kills whose clients all
// came back, in seconds.
func (c *ChaosRun) MedianClientsBackS() float64 {
	var vs []float64
	for _, k := range c.Kills() {
		if k.Resumed {
			vs = append(vs, k.ClientsResumedS)
		}
	}
	return medianOf(vs)
}

// Failures say why the crash test failed: no kill, a restart that failed,
// messages lost, duplicated, reordered or never acknowledged (a message
// in flight at a kill must be retried and end up delivered once), with
// the counts; none when it passed.
func (c *ChaosRun) Failures() []string {
	var out []string
	if len(c.Kills()) == 0 {
		out = append(out, "the server was never killed")
	}
	for i, k := range c.Kills() {
		if k.Error != "" {
			out = append(out, fmt.Sprintf("the restart after kill %d failed (%s)", i+1, cell(k.Error)))
		}
	}
	if m := c.Messages; m.Lost > 0 || m.Duplicated > 0 || m.Reordered > 0 || m.Unacked > 0 {
		out = append(out, fmt.Sprintf("%s messages lost, %s duplicated, %s reordered, %s never acknowledged",
			count(m.Lost), count(m.Duplicated), count(m.Reordered), count(m.Unacked)))
	}
	return out
}

// Passed reports whether the server was killed and nothing was lost,
// duplicated, reordered or left unacknowledged.
func (c *ChaosRun) Passed() bool { return len(c.Failures()) == 0 }

// medianOf is the median of vs, 0 when there is none.
func medianOf(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Sorted(slices.Values(vs))
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}
