package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/swarmdesk/swarmdesk/refserver/child"
)

// Sample is one reading of the server: its series' values by name (a
// series whose source failed is absent) at T seconds after the load
// started.
type Sample struct {
	T float64 `json:"t_s"`
	// Phase is where the run was: "before" (the idle server, before the
	// load), "warmup", "steady" (the judged window), "drain" (after the
	// scenario's end, sessions finishing) or "after" (the load gone).
	Phase  string             `json:"phase"`
	Values map[string]float64 `json:"values"`
	// Errors are the sources that failed, if any.
	Errors []string `json:"errors,omitempty"`
}

// The series names, in Sample.Values and the summary.
const (
	sRSS        = "rss_bytes"
	sHeapInuse  = "heap_inuse_bytes"
	sHeapGoal   = "heap_goal_bytes"
	sGoroutines = "goroutines"
	sThreads    = "threads"
	sFDs        = "fds"
	sConns      = "connections"
	sAgentChats = "agent_chats"
	sQueued     = "queued"
	sCPU        = "cpu_seconds"
)

// fromMetrics maps series to the Prometheus metric they are read from: the
// sum of every series of that name on the admin endpoint's /metrics page
// (VictoriaMetrics' Go runtime metrics, refserver's swarmdesk_ ones).
var fromMetrics = map[string]string{
	sHeapInuse:  "go_memstats_heap_inuse_bytes",
	sHeapGoal:   "go_memstats_next_gc_bytes",
	sGoroutines: "go_goroutines",
	sConns:      "swarmdesk_connections_held",
	sAgentChats: "swarmdesk_agent_chats",
	sQueued:     "swarmdesk_queue_length",
}

// sampler reads the server: /proc/<pid> for what the kernel knows (RSS,
// CPU, threads, file descriptors) and the admin /metrics page for the Go
// runtime and the server's own gauges.
type sampler struct {
	pid        int
	metricsURL string
	client     *http.Client
}

// sample takes one reading. A source that fails leaves its series out and
// is named in Errors.
func (s *sampler) sample(ctx context.Context) (map[string]float64, []string) {
	vals := map[string]float64{}
	var errs []string
	if cpu, rss, err := child.ProcUsage(s.pid); err != nil {
		errs = append(errs, err.Error())
	} else {
		vals[sCPU] = cpu.Seconds()
		vals[sRSS] = float64(rss)
	}
	if n, err := countFDs(s.pid); err != nil {
		errs = append(errs, err.Error())
	} else {
		vals[sFDs] = float64(n)
	}
	if n, err := threads(s.pid); err != nil {
		errs = append(errs, err.Error())
	} else {
		vals[sThreads] = float64(n)
	}
	m, err := s.scrape(ctx)
	if err != nil {
		errs = append(errs, err.Error())
		return vals, errs
	}
	for series, metric := range fromMetrics {
		if v, ok := m[metric]; ok {
			vals[series] = v
		}
	}
	return vals, errs
}

// scrape reads the metrics page and sums its series by metric name.
func (s *sampler) scrape(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metricsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.metricsURL, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %s", s.metricsURL, resp.Status)
	}
	m, err := parseMetrics(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.metricsURL, err)
	}
	return m, nil
}

// parseMetrics reads the Prometheus text format and returns the sum of the
// values of each metric name over its label sets. Comments and blank lines
// are skipped; a line that cannot be read is an error naming it.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, err := splitSeries(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return nil, fmt.Errorf("line %d: %s has no value", n, name)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n, name, err)
		}
		m[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return m, nil
}

// splitSeries splits a sample line into the metric name and what follows
// its label set (the value, and perhaps a timestamp). Label values are
// quoted and may hold spaces, braces and escaped quotes.
func splitSeries(line string) (name, rest string, err error) {
	i := strings.IndexAny(line, "{ \t")
	if i <= 0 {
		return "", "", fmt.Errorf("no metric name in %q", line)
	}
	name = line[:i]
	if line[i] != '{' {
		return name, line[i:], nil
	}
	quoted := false
	for j := i + 1; j < len(line); j++ {
		switch c := line[j]; {
		case quoted && c == '\\':
			j++ // the escaped character
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return name, line[j+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated label set in %q", line)
}

// countFDs counts a process's open file descriptors.
func countFDs(pid int) (int, error) {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("count fds of %d: %w", pid, err)
	}
	return len(es), nil
}

// threads reads a process's thread count from /proc.
func threads(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read threads of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil {
				return 0, fmt.Errorf("read threads of %d: %w", pid, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("read threads of %d: %w", pid, errNoThreads)
}

var errNoThreads = errors.New("no Threads line in status")

// profile saves the profile at url (the admin endpoint's /debug/pprof/...)
// to path.
func (s *sampler) profile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("profile %s: %w", url, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: status %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("profile %s: %w", url, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}
