package sim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/reports"
)

func TestParseSweep(t *testing.T) {
	for _, c := range []struct {
		spec string
		path string
		want []string
	}{
		{"agents.groups[0].max_chats=1..5", "agents.groups[0].max_chats", []string{"1", "2", "3", "4", "5"}},
		{"agents.groups[0].max_chats=2..20:6", "agents.groups[0].max_chats", []string{"2", "8", "14", "20"}},
		{"customers.rate=0.5..1.5:0.25", "customers.rate", []string{"0.5", "0.75", "1", "1.25", "1.5"}},
		{"customers.rate=1..2:0.5", "customers.rate", []string{"1", "1.5", "2"}},
		{"agents.wrap_up=10s..30s:10s", "agents.wrap_up", []string{"10s", "20s", "30s"}},
		{"customers.answerable=50%..90%:20%", "customers.answerable", []string{"50%", "70%", "90%"}},
		{"duration=1m..2m", "duration", []string{"1m0s", "1m6s", "1m12s", "1m18s", "1m24s", "1m30s", "1m36s", "1m42s", "1m48s", "1m54s", "2m0s"}},
	} {
		sw, err := ParseSweep(c.spec)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if sw.Path != c.path || !reflect.DeepEqual(sw.Values, c.want) {
			t.Errorf("%s: %s %v, want %s %v", c.spec, sw.Path, sw.Values, c.path, c.want)
		}
	}
	for _, bad := range []string{"", "x", "=1..2", "a=1", "a=2..1", "a=1..2:0", "a=1..10s", "a=1s..2s:1", "a=1..1000000", "a=x..y"} {
		if _, err := ParseSweep(bad); !errors.Is(err, ErrSweep) {
			t.Errorf("%q: error %v, want ErrSweep", bad, err)
		}
	}
}

// TestRunSweep sweeps the agents' concurrency of a small scenario: one
// result per value, each in its own directory, with the value applied;
// more chats per agent, queues no longer.
func TestRunSweep(t *testing.T) {
	dir := t.TempDir()
	sw, err := ParseSweep("agents.groups[0].max_chats=1..3")
	if err != nil {
		t.Fatal(err)
	}
	opts := small(1)
	opts.OutDir, opts.TotalsOnly = dir, true
	pts, err := RunSweep(context.Background(), opts, sw)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3 {
		t.Fatalf("%d points", len(pts))
	}
	for i, p := range pts {
		if p.Value != sw.Values[i] || p.Sessions == 0 || p.MaxConcurrent > i+1+2 { // pool 0 at i+1; pool 1 keeps max 2
			t.Errorf("point %d: %+v", i, p)
		}
		res, err := reports.ReadFile(filepath.Join(p.Dir, ResultFile))
		if err != nil {
			t.Fatal(err)
		}
		if res.Sessions != p.Result.Sessions {
			t.Errorf("point %s: %s holds sessions %+v, the point %+v", p.Value, p.Dir, res.Sessions, p.Result.Sessions)
		}
	}
	if pts[0].QueueWaitP90Ms < pts[2].QueueWaitP90Ms {
		t.Errorf("queue wait p90 %.0fms at 1 chat per agent, %.0fms at 3: want shorter queues with more chats", pts[0].QueueWaitP90Ms, pts[2].QueueWaitP90Ms)
	}
	if _, err := os.Stat(filepath.Join(dir, SweepFile)); err != nil {
		t.Error(err)
	}
	var b bytes.Buffer
	if err := SweepTable(&b, sw.Path, pts); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 5 {
		t.Errorf("table:\n%s", b.String())
	}
	t.Logf("\n%s", b.String())
	if _, err := RunSweep(context.Background(), Options{Scenario: "smoke"}, Sweep{Path: "agents.groups[0].max_chatz", Values: []string{"1"}}); !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), "max_chatz") {
		t.Errorf("a misspelt path: %v", err)
	}
}
