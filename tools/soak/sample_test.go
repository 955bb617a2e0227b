package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// page is a /metrics page as refserver's admin endpoint writes it:
// refserver's series, VictoriaMetrics' runtime ones, and a label set with
// spaces, braces and an escaped quote.
const page = `# HELP go_goroutines goroutines
# TYPE go_goroutines gauge
swarmdesk_connections_held 62
swarmdesk_connections{role="agent"} 20
swarmdesk_connections{role="customer"} 42
swarmdesk_queue_length{tenant="demo",group="general"} 2
swarmdesk_queue_length{tenant="demo",group="aftersales"} 1
swarmdesk_agent_chats{tenant="demo"} 21
go_memstats_heap_inuse_bytes 5.5e+06
go_memstats_next_gc_bytes 6291456
go_goroutines 14
go_info_ext{compiler="gc", GOARCH="amd64", odd="a } \" b"} 1
process_resident_memory_bytes 31719424 1700000000000
`

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"swarmdesk_connections_held":    62,
		"swarmdesk_connections":         62, // summed over the roles
		"swarmdesk_queue_length":        3,
		"go_memstats_heap_inuse_bytes":  5.5e6,
		"go_goroutines":                 14,
		"go_info_ext":                   1,
		"process_resident_memory_bytes": 31719424, // the timestamp ignored
	} {
		if m[name] != want {
			t.Errorf("%s = %v; want %v", name, m[name], want)
		}
	}
	for _, bad := range []string{"x{a=\"1\" 2\n", "{a=\"1\"} 2\n", "x\n", "x y\n"} {
		if _, err := parseMetrics(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMetrics(%q): no error", bad)
		}
	}
}

// TestSample reads this process from /proc and a metrics page served on
// loopback.
func TestSample(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(page))
	}))
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	// /proc counts CPU in ticks of 10ms: a test process that has not yet
	// used one reads 0. Use a few first, counted in CPU time: on a busy
	// machine 20ms of wall time may hold none.
	for cpuTime(t) < 30*time.Millisecond {
	}
	s := &sampler{pid: os.Getpid(), metricsURL: srv.URL + "/metrics", client: &http.Client{Timeout: 5 * time.Second}}
	vals, errs := s.sample(context.Background())
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, name := range []string{sRSS, sCPU, sFDs, sThreads} {
		if vals[name] <= 0 {
			t.Errorf("%s = %v; want > 0", name, vals[name])
		}
	}
	want := map[string]float64{sHeapInuse: 5.5e6, sHeapGoal: 6291456, sGoroutines: 14, sConns: 62, sAgentChats: 21, sQueued: 3}
	for name, v := range want {
		if vals[name] != v {
			t.Errorf("%s = %v; want %v", name, vals[name], v)
		}
	}

	path := filepath.Join(t.TempDir(), "heap.pb.gz")
	if err := s.profile(context.Background(), srv.URL+"/debug/pprof/heap", path); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != page {
		t.Errorf("profile saved %q, %v; want the page served", data, err)
	}

	// A server gone: /proc fails, the scrape fails, and both say so.
	srv.Close()
	s.pid = 1 << 30
	vals, errs = s.sample(context.Background())
	if len(vals) != 0 || len(errs) != 4 {
		t.Errorf("gone: values %v, errors %q; want none and 4", vals, errs)
	}
	if err := s.profile(context.Background(), srv.URL+"/debug/pprof/heap", path); err == nil {
		t.Error("profile of a server gone: no error")
	}
}

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
