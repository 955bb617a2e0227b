package swarm

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/reports"
)

// TestSmokeScenario plays the smoke scenario's customers and agents over
// real TCP against an in-process refserver, two loops, at 4x the
// scenario's own timescale.
func TestSmokeScenario(t *testing.T) {
	t.Parallel()
	sc, err := scenario.LoadNamed("smoke")
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := sc.Corpus()
	if err != nil {
		t.Fatal(err)
	}
	timescale := sc.Timescale * 4
	srv := refservertest.NewServer()
	defer srv.Close()
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	rt, err := New(Options{Addr: srv.Addr, Loops: 2, Timescale: timescale, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rec, err := record.New(record.DefaultConfig(), start)
	if err != nil {
		t.Fatal(err)
	}

	arr := make([]*behavior.Arrivals, len(rt.Loops()))
	for i, lp := range rt.Loops() {
		env := &behavior.Env{
			Sched: lp, Dial: lp, Rec: rec.NewShard(), Ledger: rec.Ledger(),
			Rand: rand.New(rand.NewPCG(sc.Seed, uint64(10+i))), Scenario: sc, Corpus: corpus,
			Tenant: scenario.DemoTenant, Timescale: timescale,
		}
		arr[i] = &behavior.Arrivals{Env: env}
	}
	lanes := make([]behavior.Lane, len(arr))
	for i, lp := range rt.Loops() {
		lanes[i] = behavior.Lane{Arrivals: arr[i], Do: lp.Do}
	}
	agents, total := behavior.Populate(sc, start, lanes)
	if total < 10 {
		t.Fatalf("only %d arrivals expected", total)
	}

	wallStart := time.Now()
	limit := rt.wall(time.Duration(sc.Duration)) + 60*time.Second
	done, arrived := 0, 0
	for {
		done, arrived = 0, 0
		settled := true
		for i, lp := range rt.Loops() {
			lp.Do(func() {
				s, f := arr[i].Counts()
				arrived += s
				done += f
				settled = settled && arr[i].Settled()
			})
		}
		if settled {
			break
		}
		if time.Since(wallStart) > limit {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(wallStart)
	stats := rt.Stats()
	var lag time.Duration
	for _, lp := range rt.Loops() {
		lag = max(lag, lp.MaxTimerLag())
	}
	end := rt.Now()
	rt.Close()
	if err := rec.Close(end); err != nil {
		t.Fatal(err)
	}
	res, err := rec.Result(reports.Run{})
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range res.Latency {
		if l.Count > 0 {
			t.Logf("%-12s n=%-5d p50=%8.1fms p99=%9.1fms raw.p99=%9.1fms", name, l.Count, l.P50Ms, l.P99Ms, l.Raw.P99Ms)
		}
	}
	t.Logf("customers %d/%d done, %d agents, wall %v at timescale %v, runtime %+v, max timer lag %v", done, total, agents, elapsed.Round(time.Millisecond), timescale, stats, lag)
	t.Logf("sessions %+v, messages %+v, errors %v", res.Sessions, res.Messages, res.Errors)
	if arrived < total/2 || done != arrived {
		t.Errorf("%d customers arrived (about %d expected), %d finished their script", arrived, total, done)
	}
	s := res.Sessions
	if s.Started != int64(arrived) || s.BotResolved+s.Abandoned+s.Completed != s.Started {
		t.Errorf("sessions %+v: want %d started and every one ended", s, arrived)
	}
	m := res.Messages
	if m.Sent == 0 || m.Delivered == 0 {
		t.Errorf("no messages sent or delivered: %+v", m)
	}
	if m.Lost != 0 || m.Duplicated != 0 || m.Reordered != 0 {
		t.Errorf("ledger: lost %d, duplicated %d, reordered %d; want 0", m.Lost, m.Duplicated, m.Reordered)
	}
	for _, name := range []string{"delivery", "ack"} {
		if res.Latency[name].Count == 0 {
			t.Errorf("no %s latency recorded", name)
		}
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
}
