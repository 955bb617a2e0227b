package runner

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

// ErrChaos marks a --chaos specification bench cannot play; bench exits 2.
var ErrChaos = errors.New("bad --chaos")

// Chaos configures a crash test (bench run --chaos): the embedded server is
// killed with SIGKILL every Every of wall time while the scenario plays, and
// restarted at once on the same data directory and address. The clients
// reconnect, resume and send again what was not acknowledged; the run's
// accounting says whether every acknowledged message still reached every
// recipient once, in order.
type Chaos struct {
	// Fault is what is done to the server; "kill-server" is the only one.
	Fault string
	// Every is the wall time between kills; the first comes Every after the
	// start, the last before the scenario's wall duration is over.
	Every time.Duration
}

// FaultKillServer is the chaos fault that kills the server with SIGKILL
// and restarts it on the same data directory and address.
const FaultKillServer = "kill-server"

// ParseChaos parses a --chaos value: kill-server:EVERY, EVERY a positive
// duration such as 5s.
func ParseChaos(spec string) (*Chaos, error) {
	fault, every, ok := strings.Cut(spec, ":")
	if !ok || fault != FaultKillServer {
		return nil, fmt.Errorf("%w %q: want %s:EVERY, EVERY a duration such as 5s (the server is killed with SIGKILL every EVERY and restarted)", ErrChaos, spec, FaultKillServer)
	}
	d, err := time.ParseDuration(every)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("%w %q: EVERY %q is not a positive duration such as 5s or 500ms", ErrChaos, spec, every)
	}
	if d < 100*time.Millisecond {
		return nil, fmt.Errorf("%w %q: kills less than 100ms apart leave the server no time to serve", ErrChaos, spec)
	}
	return &Chaos{Fault: fault, Every: d}, nil
}

// String returns the chaos as --chaos takes it.
func (c *Chaos) String() string { return c.Fault + ":" + c.Every.String() }

// Durability levels of the embedded server (refserver --durability).
var durabilities = []string{"none", "batch", "sync"}

// checkDurability checks a --durability value.
func checkDurability(d string) error {
	for _, ok := range durabilities {
		if d == ok {
			return nil
		}
	}
	return fmt.Errorf("--durability %q: want none, batch or sync", d)
}

// chaosPoll is how often the clients' recovery is checked after a kill.
const chaosPoll = 5 * time.Millisecond

// chaosRun kills and restarts the embedded server on its schedule while a
// run plays. Its kills are read once it is done.
type chaosRun struct {
	cfg   Chaos
	until time.Duration // no kill at or after this wall time from start
	start time.Time     // the run's start (wall)
	srv   *child.Process
	rec   *record.Recorder
	rt    *swarm.Runtime
	out   io.Writer

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	kills    []reports.ChaosKill // owned by run until done
	pids     []int               // every incarnation's pid, the first included
}

// startChaos starts killing srv on cfg's schedule.
func startChaos(cfg Chaos, until time.Duration, start time.Time, srv *child.Process, rec *record.Recorder, rt *swarm.Runtime, out io.Writer) *chaosRun {
	c := &chaosRun{
		cfg: cfg, until: until, start: start, srv: srv, rec: rec, rt: rt, out: out,
		stop: make(chan struct{}), done: make(chan struct{}), pids: []int{srv.Pid()},
	}
	go c.run()
	return c
}

// finish stops the kills (a restart in progress completes first) and
// returns the kills done and the pids of every incarnation.
func (c *chaosRun) finish() ([]reports.ChaosKill, []int) {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return c.kills, c.pids
}

// sleep waits until t, reporting false if the run stopped first.
func (c *chaosRun) sleep(t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-c.stop:
		return false
	case <-timer.C:
		return true
	}
}

func (c *chaosRun) run() {
	defer close(c.done)
	for k := 1; ; k++ {
		off := time.Duration(k) * c.cfg.Every
		if off >= c.until || !c.sleep(c.start.Add(off)) {
			return
		}
		if !c.midWrite(min(c.cfg.Every/4, midWriteWait)) {
			return
		}
		kill, t0, dropped0 := c.kill(k)
		c.kills = append(c.kills, kill)
		if kill.Error != "" {
			return // no server to kill: the run ends without one
		}
		var next time.Time // the next kill, if one comes
		if off+c.cfg.Every < c.until {
			next = c.start.Add(off + c.cfg.Every)
		}
		c.awaitClients(&c.kills[len(c.kills)-1], t0, dropped0, next)
	}
}

// midWriteWait bounds how long a kill waits for messages in flight.
const midWriteWait = 2 * time.Second

// midWrite waits, at most wait, for a moment when messages are in flight
// (sent, not acknowledged), so that the kill lands mid-write and the
// clients' re-sending of what was not acknowledged is put to the test; at
// a light load acks take a millisecond and a kill at a fixed time would
// rarely find one. It reports false if the run stopped first.
func (c *chaosRun) midWrite(wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(500 * time.Microsecond)
	defer tick.Stop()
	for c.rec.Ledger().Unacked() == 0 && time.Now().Before(deadline) {
		select {
		case <-c.stop:
			return false
		case <-tick.C:
		}
	}
	return true
}

// kill kills the server, restarts it and says so. It returns the kill's
// record, its time and how many links had dropped before it.
func (c *chaosRun) kill(k int) (reports.ChaosKill, time.Time, int64) {
	inFlight := c.rec.Ledger().Unacked()
	conns := c.rt.Stats().Open
	_, dropped0 := c.rec.Links()
	t0 := time.Now()
	kill := reports.ChaosKill{AtS: t0.Sub(c.start).Seconds(), InFlight: inFlight, Connections: conns}
	pid, err := c.srv.Kill()
	kill.Pid = pid
	if err == nil {
		err = c.srv.Restart()
	}
	if err != nil {
		kill.Error = err.Error()
		fmt.Fprintf(c.out, "chaos: kill %d at %.1fs (pid %d): %v\n", k, kill.AtS, pid, err)
		return kill, t0, dropped0
	}
	restart := time.Since(t0)
	kill.ServerRestartS = restart.Seconds()
	kill.NewPid = c.srv.Pid()
	c.pids = append(c.pids, kill.NewPid)
	fmt.Fprintf(c.out, "chaos: kill %d at %.1fs: SIGKILL pid %d with %d messages in flight (sent, not acked) on %d connections; pid %d serving on %s %v after the kill\n",
		k, kill.AtS, pid, inFlight, conns, kill.NewPid, c.srv.Addr, restart.Round(time.Millisecond))
	return kill, t0, dropped0
}

// awaitClients waits until every link that dropped is back (reconnected,
// and caught up with what it missed) and records when, or gives up at the
// next kill (zero: none) or when the run stops.
func (c *chaosRun) awaitClients(kill *reports.ChaosKill, t0 time.Time, dropped0 int64, next time.Time) {
	tick := time.NewTicker(chaosPoll)
	defer tick.Stop()
	for {
		down, dropped := c.rec.Links()
		// Wait for the drops to be seen before taking "none down" for
		// "all back".
		if down == 0 && (dropped > dropped0 || kill.Connections == 0) {
			d := time.Since(t0)
			kill.ClientsResumedS, kill.Resumed = d.Seconds(), true
			fmt.Fprintf(c.out, "chaos: every client back (reconnected and resumed) %v after the kill\n", d.Round(time.Millisecond))
			return
		}
		if !next.IsZero() && !time.Now().Before(next) {
			fmt.Fprintf(c.out, "chaos: %d connections still down at the next kill\n", down)
			return
		}
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
	}
}

// chaosResult sums up the kills.
func chaosResult(cfg Chaos, durability string, kills []reports.ChaosKill) *reports.Chaos {
	ch := &reports.Chaos{Fault: cfg.Fault, EveryS: cfg.Every.Seconds(), Durability: durability, Count: len(kills), Kills: kills}
	if ch.Kills == nil {
		ch.Kills = []reports.ChaosKill{}
	}
	for _, k := range kills {
		ch.InFlight += k.InFlight
		ch.MaxServerRestartS = max(ch.MaxServerRestartS, k.ServerRestartS)
		if k.Resumed {
			ch.MaxClientsResumedS = max(ch.MaxClientsResumedS, k.ClientsResumedS)
		} else {
			ch.NotResumed++
		}
	}
	return ch
}
