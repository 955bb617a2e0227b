package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/reports"
)

// samples makes the samples of a 10-minute soak every 10 seconds, with the
// values rss(t) and goroutines(t), flat others, and the before and after
// samples.
func samples(rss, goroutines func(t float64) float64) []Sample {
	flat := func(t float64) map[string]float64 {
		return map[string]float64{
			sRSS: rss(t), sHeapInuse: 5 * mib, sHeapGoal: 6 * mib, sGoroutines: goroutines(t), sThreads: 11,
			sFDs: 80, sConns: 62, sAgentChats: 20, sQueued: 0, sCPU: 0.03 * t,
		}
	}
	ss := []Sample{{T: 0, Phase: "before", Values: flat(0)}}
	for t := 10.0; t <= 610; t += 10 {
		ss = append(ss, Sample{T: t + 0.003, Phase: phaseAt(t+0.003, 120, 600), Values: flat(t)})
	}
	return append(ss, Sample{T: 620, Phase: "after", Values: flat(620)})
}

func TestAnalyse(t *testing.T) {
	flat := func(float64) float64 { return 30 * mib }
	fourteen := func(float64) float64 { return 14 }
	for _, tc := range []struct {
		name        string
		rss, gr     func(float64) float64
		benchPassed bool
		growth      bool
		exit        int
	}{
		{"flat", flat, fourteen, true, false, 0},
		{"memory leak", func(t float64) float64 { return 30*mib + 30*mib*t/600 }, fourteen, true, true, 1},
		{"goroutine step", flat, func(t float64) float64 { return 14 + step(t, 300, 30) }, true, true, 1},
		{"bench failed", flat, fourteen, false, false, 1},
	} {
		sum := &Summary{Thresholds: DefaultThresholds, Samples: samples(tc.rss, tc.gr), Bench: BenchSummary{Valid: tc.benchPassed}}
		if !tc.benchPassed {
			sum.Bench.Objectives = []reports.Objective{{Expression: "lost == 0", Value: 3}}
		}
		analyse(sum, tc.benchPassed)
		if sum.Growth != tc.growth || sum.ExitCode != tc.exit || sum.Pass != (tc.exit == 0) || (len(sum.Reasons) == 0) != sum.Pass {
			t.Errorf("%s: growth %v, exit %d, pass %v, reasons %q; want growth %v, exit %d", tc.name, sum.Growth, sum.ExitCode, sum.Pass, sum.Reasons, tc.growth, tc.exit)
		}
		if len(sum.Series) != len(seriesDefs) {
			t.Fatalf("%s: %d series; want %d", tc.name, len(sum.Series), len(seriesDefs))
		}
		rss := sum.Series[0]
		if rss.Name != sRSS || rss.Steady == nil || rss.Before == nil || rss.After == nil {
			t.Fatalf("%s: rss series %+v", tc.name, rss)
		}
		if n := rss.Steady.N; n != 49 { // 120 s to 600 s, every 10 s
			t.Errorf("%s: %d steady samples; want 49", tc.name, n)
		}
		if u := sum.Server.CPUUtilization; u < 0.029 || u > 0.031 {
			t.Errorf("%s: CPU utilization %v; want 0.03", tc.name, u)
		}
		path := filepath.Join(t.TempDir(), SummaryFile)
		if err := writeSummary(path, sum); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var back Summary
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back.ExitCode != sum.ExitCode || len(back.Samples) != len(sum.Samples) || len(back.Verdicts) != len(sum.Verdicts) {
			t.Errorf("%s: the summary does not read back", tc.name)
		}
		var out strings.Builder
		printReport(&out, sum)
		if want := map[bool]string{true: "soak: PASS", false: "soak: FAIL"}[sum.Pass]; !strings.Contains(out.String(), want) {
			t.Errorf("%s: report lacks %q:\n%s", tc.name, want, out.String())
		}
	}
}

// TestAnalyseNoSamples: a server that could not be read is not a pass.
func TestAnalyseNoSamples(t *testing.T) {
	sum := &Summary{Thresholds: DefaultThresholds, Bench: BenchSummary{Valid: true}}
	analyse(sum, true)
	if sum.Pass || sum.ExitCode != 1 {
		t.Errorf("no samples: pass %v, exit %d", sum.Pass, sum.ExitCode)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.duration != 10*time.Minute || cfg.warmup != 2*time.Minute || cfg.interval != 10*time.Second || cfg.scenario != "soak" {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg.thresholds != DefaultThresholds {
		t.Errorf("thresholds %+v; want %+v", cfg.thresholds, DefaultThresholds)
	}
	cfg, err = parseFlags([]string{"--duration", "2m"}, io.Discard)
	if err != nil || cfg.warmup != time.Minute {
		t.Errorf("--duration 2m: warmup %v, err %v; want 1m", cfg.warmup, err)
	}
	cfg, err = parseFlags([]string{"--mem-growth", "10", "--mem-floor", "4", "--goroutine-abs", "3"}, io.Discard)
	if err != nil || cfg.thresholds.Memory.Frac != 0.10 || cfg.thresholds.Memory.Floor != 4*mib || cfg.thresholds.Goroutines.Floor != 3 {
		t.Errorf("thresholds: %+v, err %v", cfg.thresholds, err)
	}
	if _, err := parseFlags([]string{"--help"}, io.Discard); !errors.Is(err, pflag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	for _, bad := range [][]string{
		{"--duration", "2m", "--warmup", "90s"},
		{"--interval", "10ms"},
		{"--warmup", "-1s"},
		{"--retain-closed", "0s"},
		{"--mem-floor", "-1"},
		{"extra"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", bad)
		}
	}
}

func TestRunUsage(t *testing.T) {
	if code := run([]string{"--interval", "1ms"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("bad flag: exit %d; want 2", code)
	}
	if code := run([]string{"--help"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("--help: exit %d; want 0", code)
	}
}
