package runner

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
)

// TestLive serves a run's live figures and reads them back.
func TestLive(t *testing.T) {
	rt, err := swarm.New(swarm.Options{Addr: "127.0.0.1:1", Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rec, err := record.New(record.DefaultConfig(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(time.Now())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	lv, err := startLive(addr, rt, rec)
	if err != nil {
		t.Fatal(err)
	}
	lv.counts(7, 3)
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	for _, want := range []string{
		"bench_connections 0", "bench_sessions_started 7", "bench_sessions_finished 3",
		"bench_messages_lost 0", `bench_latency_p99_seconds{metric="delivery",measure="corrected"}`,
		"process_cpu_seconds_total",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := lv.close(); err != nil {
		t.Error(err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("still serving after close")
	}
}

// TestScrapeProcess samples refserver's CPU and memory from its admin
// /metrics page, as bench run --server-metrics does.
func TestScrapeProcess(t *testing.T) {
	srv := refservertest.NewServer()
	defer srv.Close()
	client := &http.Client{Timeout: 2 * time.Second}
	cpu, rss, err := scrapeProcess(context.Background(), client, srv.AdminURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if cpu <= 0 || rss <= 1<<20 {
		t.Errorf("cpu %v rss %d: want both sampled", cpu, rss)
	}
	if _, _, err := scrapeProcess(context.Background(), client, srv.AdminURL+"/healthz"); err == nil || !strings.Contains(err.Error(), "process_cpu_seconds_total") {
		t.Errorf("a page without the process metrics: error %v", err)
	}
	for _, c := range []struct {
		line string
		ok   bool
		v    float64
	}{
		{"process_resident_memory_bytes 1.5e+07", true, 1.5e7},
		{"process_cpu_seconds_total 12.5 1700000000000", true, 12.5},
		{"# TYPE process_cpu_seconds_total counter", false, 0},
		{`x{a="b"} 3`, false, 0},
		{"x notanumber", false, 0},
	} {
		_, v, ok := sample(c.line)
		if ok != c.ok || v != c.v {
			t.Errorf("sample(%q) = %g, %v", c.line, v, ok)
		}
	}
}
