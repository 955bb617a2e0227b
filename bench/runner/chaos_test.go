package runner

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/faultproxy"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/internal/longtest"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

func TestParseChaos(t *testing.T) {
	c, err := ParseChaos("kill-server:5s")
	if err != nil || c.Fault != FaultKillServer || c.Every != 5*time.Second || c.String() != "kill-server:5s" {
		t.Fatalf("ParseChaos(kill-server:5s) = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "kill-server", "kill-server:", "kill-server:5", "kill-server:0s", "kill-server:-1s", "kill-server:10ms", "stall:5s", "kill-server:5s:x"} {
		if c, err := ParseChaos(bad); err == nil || !errors.Is(err, ErrChaos) {
			t.Errorf("ParseChaos(%q) = %+v, %v; want an ErrChaos", bad, c, err)
		}
	}
}

// chaosWall is the wall time of the short crash tests, and chaosEvery the
// time between their kills or cuts: two of them.
const (
	chaosWall  = 15 * time.Second
	chaosEvery = 5 * time.Second
)

// shortChaos returns options playing the chaos scenario for chaosWall.
func shortChaos(t *testing.T, progress *bytes.Buffer) Options {
	t.Helper()
	sc, err := scenario.LoadNamed("chaos")
	if err != nil {
		t.Fatal(err)
	}
	// Twice the scenario's pace at half its rate: the same load, and
	// sessions that end sooner after the last kill.
	scale := 2 * sc.Timescale
	rate := sc.Customers.Rate / 2
	dur := time.Duration(float64(chaosWall) * scale)
	return Options{
		Scenario: "chaos", OutDir: filepath.Join(t.TempDir(), "out"), Progress: progress,
		Overrides: scenario.Overrides{Duration: &dur, Timescale: &scale, Rate: &rate},
		// The accounting is judged here, not the generator's punctuality
		// on two cores shared with a restarting server and -race.
		LateBound: time.Second,
	}
}

// checkRecovered asserts what a crash test rests on: traffic, drops the
// clients came back from, and nothing lost, duplicated, reordered or left
// unacknowledged.
func checkRecovered(t *testing.T, res *reports.Result) {
	t.Helper()
	m := res.Messages
	if m.Sent == 0 || m.Delivered == 0 {
		t.Errorf("no traffic: %+v", m)
	}
	if m.Lost != 0 || m.Duplicated != 0 || m.Reordered != 0 || m.Unacked != 0 {
		t.Errorf("messages %+v: want none lost, duplicated, reordered or unacked", m)
	}
	rc := res.Reconnects
	if rc == nil || rc.Dropped == 0 || rc.Resumed == 0 {
		t.Errorf("reconnects %+v: want connections dropped and resumed", rc)
	}
	if !Passed(res) {
		t.Errorf("did not pass: valid %v %v, objectives %+v", res.Valid, res.InvalidReasons, res.Objectives)
	}
}

// TestChaosKillServer is bench run --chaos kill-server:5s, short: the
// embedded refserver (--durability sync) is killed with SIGKILL twice and
// restarted on the same data directory and address; every acknowledged
// message must still reach every recipient once, in order, and every
// message must end acknowledged.
//
// It needs the durable store and the desk's recovery (issue 6): a server
// that forgets its conversations on restart fails it with lost and
// unacknowledged messages.
//
// It runs against every design refserver has (--transport gnet, netstd
// and poll), so the same end-to-end correctness run, reconnects and
// resumes included, holds for each: over HTTP a kill ends every session,
// and the clients connect again with a hello that resumes.
func TestChaosKillServer(t *testing.T) {
	longtest.Require(t, "kills refserver on three transports over a minute and more")
	bin, err := child.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range Transports {
		t.Run(transport, func(t *testing.T) { chaosKillServer(t, bin, transport) })
	}
}

func chaosKillServer(t *testing.T, bin, transport string) {
	var progress bytes.Buffer
	opts := shortChaos(t, &progress)
	opts.ServerBinary = bin
	opts.Transport = transport
	opts.Durability = "sync"
	opts.Chaos = &Chaos{Fault: FaultKillServer, Every: chaosEvery}
	res, err := Run(context.Background(), opts)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	ch := res.Chaos
	if ch == nil {
		t.Fatal("no chaos section in the result")
	}
	if ch.Count < 2 || len(ch.Kills) != ch.Count || ch.Durability != "sync" || ch.EveryS != chaosEvery.Seconds() {
		t.Fatalf("chaos %+v: want at least 2 kills every 5s with durability sync", ch)
	}
	for i, k := range ch.Kills {
		t.Logf("kill %d: %+v", i+1, k)
		if k.Error != "" || k.Pid == 0 || k.NewPid == 0 || k.Pid == k.NewPid || k.ServerRestartS <= 0 || k.AtS <= 0 {
			t.Errorf("kill %d: %+v", i+1, k)
		}
		if !k.Resumed || k.ClientsResumedS < k.ServerRestartS {
			t.Errorf("kill %d: clients not back, or back before the server (%+v)", i+1, k)
		}
	}
	var sum bytes.Buffer
	_ = Summary(&sum, res)
	t.Logf("summary:\n%s", sum.String())
	if !strings.Contains(sum.String(), "kill 2 at") {
		t.Error("no kills in the summary")
	}
	if !strings.Contains(progress.String(), "messages in flight") {
		t.Error("no kill in the progress output")
	}
	if res.Server.CPUSeconds <= 0 || res.Server.PeakRSSBytes <= 0 || !strings.Contains(res.Server.Source, "incarnations") {
		t.Errorf("server resources not summed over the incarnations: %+v", res.Server)
	}
	checkRecovered(t, res)
}

// TestChaosProxyCut is the crash test's client side alone, against a live
// server that keeps its state: a proxy between bench and the server cuts
// every connection at once every 5s and refuses dials for 300ms, as a
// server that crashes and restarts on its durable state would. The clients
// reconnect, resume and send again what was not acknowledged: nothing is
// lost, duplicated, reordered or left unacknowledged.
func TestChaosProxyCut(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of load")
	}
	opts := shortChaos(t, nil)
	res, st := faultyRun(t, "", faultproxy.Config{CutEvery: chaosEvery, CutFor: 300 * time.Millisecond}, opts)
	t.Logf("proxy %+v", st)
	if st.Cuts < 2 || st.CutConns == 0 {
		t.Fatalf("the proxy cut %d times (%d connections): want at least 2 cuts of live connections", st.Cuts, st.CutConns)
	}
	checkRecovered(t, res)
	if rc := res.Reconnects; rc != nil && rc.Dropped < st.CutConns/2 {
		t.Errorf("%d connections dropped, the proxy cut %d", rc.Dropped, st.CutConns)
	}
}
