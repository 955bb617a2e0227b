package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
)

// live serves a run's figures as they stand in the Prometheus text format
// (Options.MetricsAddr, bench run --metrics-addr), so that a long run can
// be watched in Grafana: connections, sessions, the message accounting,
// the p99 so far of the main latencies, and the process's own CPU and
// memory.
type live struct {
	srv             *http.Server
	done            chan struct{}
	arrived, ending atomic.Int64
}

// liveLatencies are the metrics whose p99 so far is served.
var liveLatencies = []record.Metric{record.Delivery, record.Ack, record.Menu, record.Bot, record.QueueWait}

// startLive listens on addr and serves /metrics, and Go's profiles under
// /debug/pprof/, until close.
func startLive(addr string, rt *swarm.Runtime, rec *record.Recorder) (*live, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address: %w", err)
	}
	l := &live{done: make(chan struct{})}
	set := metrics.NewSet()
	set.NewGauge("bench_connections", func() float64 { return float64(rt.Stats().Open) })
	set.NewGauge("bench_dial_errors", func() float64 { return float64(rt.Stats().DialErrors) })
	set.NewGauge("bench_connections_down", func() float64 { down, _ := rec.Links(); return float64(down) })
	set.NewGauge("bench_connections_dropped", func() float64 { _, dropped := rec.Links(); return float64(dropped) })
	set.NewGauge("bench_sessions_started", func() float64 { return float64(l.arrived.Load()) })
	set.NewGauge("bench_sessions_finished", func() float64 { return float64(l.ending.Load()) })
	counts := func(pick func(sent, delivered, lost, dup, reord int64) int64) func() float64 {
		return func() float64 {
			m := rec.Ledger().Counts()
			return float64(pick(m.Sent, m.Delivered, m.Lost, m.Duplicated, m.Reordered))
		}
	}
	set.NewGauge("bench_messages_sent", counts(func(s, _, _, _, _ int64) int64 { return s }))
	set.NewGauge("bench_messages_delivered", counts(func(_, d, _, _, _ int64) int64 { return d }))
	set.NewGauge("bench_messages_lost", counts(func(_, _, l, _, _ int64) int64 { return l }))
	set.NewGauge("bench_messages_duplicated", counts(func(_, _, _, d, _ int64) int64 { return d }))
	set.NewGauge("bench_messages_reordered", counts(func(_, _, _, _, r int64) int64 { return r }))
	for _, m := range liveLatencies {
		for _, raw := range []bool{false, true} {
			name := fmt.Sprintf(`bench_latency_p99_seconds{metric=%q,measure=%q}`, m.String(), map[bool]string{false: "corrected", true: "raw"}[raw])
			set.NewGauge(name, func() float64 {
				s, err := rec.Summary(m, raw)
				if err != nil {
					return 0
				}
				return s.P99Ms / 1000
			})
		}
	}
	set.NewGauge("bench_timer_lag_max_seconds", func() float64 {
		var lag time.Duration
		for _, lp := range rt.Loops() {
			lag = max(lag, lp.MaxTimerLag())
		}
		return lag.Seconds()
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		set.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
	})
	// Go's profiles of bench itself, as every Go service serves them: what
	// the generator spends its CPU and memory on during the run.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(l.done)
		_ = l.srv.Serve(ln) // returns http.ErrServerClosed on close
	}()
	return l, nil
}

// counts updates the session figures.
func (l *live) counts(arrived, done int) {
	if l == nil {
		return
	}
	l.arrived.Store(int64(arrived))
	l.ending.Store(int64(done))
}

// close stops serving.
func (l *live) close() error {
	if l == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	<-l.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}

// scrapeProcess reads a Prometheus text page at url and returns the
// process's CPU seconds and resident memory (process_cpu_seconds_total and
// process_resident_memory_bytes, as refserver's /metrics and most
// Prometheus clients give them).
func scrapeProcess(ctx context.Context, client *http.Client, url string) (cpu time.Duration, rss int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	var found int
	for line := range strings.Lines(string(body)) {
		name, value, ok := sample(line)
		if !ok {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			cpu = time.Duration(value * float64(time.Second))
			found |= 1
		case "process_resident_memory_bytes":
			rss = int64(value)
			found |= 2
		}
	}
	if found != 3 {
		return cpu, rss, fmt.Errorf("scrape %s: no process_cpu_seconds_total and process_resident_memory_bytes on the page", url)
	}
	return cpu, rss, nil
}

// sample parses one unlabelled sample line of the Prometheus text format,
// "name value [timestamp]"; comments, labelled and malformed lines are not
// samples.
func sample(line string) (name string, value float64, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
		return "", 0, false
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return "", 0, false
	}
	return f[0], v, true
}
