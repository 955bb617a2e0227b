package designs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Load are the figures of one bench run at the comparison's offered load.
type Load struct {
	// Command is the bench command that ran.
	Command []string `json:"command"`
	// Pass is whether the run was valid and met its objectives.
	Pass bool `json:"pass"`
	// Delivered is the messages delivered; Lost, Duplicated, Reordered and
	// Unacked the correctness counts.
	Delivered  int64 `json:"delivered"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	Reordered  int64 `json:"reordered"`
	Unacked    int64 `json:"unacked"`
	// Delivery latency, corrected for coordinated omission.
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	// RawP99Ms is the delivery p99 measured from when the message was
	// really sent, not when it was meant to be: the corrected figures
	// hold the generator's own lateness too.
	RawP99Ms float64 `json:"raw_p99_ms"`
	// ServerCPUSeconds is the server's CPU over the run, and
	// CPUPer1000 that per 1,000 delivered messages.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	CPUPer1000       float64 `json:"cpu_per_1000_delivered"`
	// WireBytes is what the server read and wrote through system calls
	// over the run (its sockets: frames and HTTP headers, both ways), and
	// BytesPerDelivered that per delivered message.
	WireBytes         int64   `json:"wire_bytes"`
	BytesPerDelivered float64 `json:"bytes_per_delivered"`
	// GeneratorCPUSeconds is bench's own CPU.
	GeneratorCPUSeconds float64 `json:"generator_cpu_seconds"`
}

// FindMax is the figure of a bench run --find-max.
type FindMax struct {
	Command []string `json:"command"`
	// Best is the highest rate that met every objective; Failed the
	// lowest that did not (0: none failed); Stopped why the search ended.
	Best    float64 `json:"best"`
	Failed  float64 `json:"failed,omitempty"`
	Stopped string  `json:"stopped"`
}

// benchRun starts a server of design d, runs bench with args against it
// (its target, admin and metrics set here) into dir, and returns the
// result with the server's CPU and socket bytes over the run.
func benchRun(ctx context.Context, d Design, server, bench, dir string, args []string, log io.Writer) (res *reports.Result, cmdline []string, cpu time.Duration, wire int64, err error) {
	p, err := child.Start(server, "--transport", d.Transport)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	defer func() { _ = p.Stop() }()
	cmdline = append([]string{bench, "run"}, args...)
	// A short poll adds up to its interval to every exchange, so sessions
	// that begin near the end need longer to finish; every design gets
	// the same grace.
	cmdline = append(cmdline, "--grace", "90s", "--target", d.scheme()+p.Addr, "--admin", p.AdminURL, "--server-metrics", p.AdminURL+"/metrics", "--out", dir)
	if d.PollInterval > 0 {
		cmdline = append(cmdline, "--poll-interval", d.PollInterval.String())
	}
	cpu0, _, err := p.Usage()
	if err != nil {
		return nil, nil, 0, 0, err
	}
	r0, w0, err := child.ProcIO(p.Pid())
	if err != nil {
		return nil, nil, 0, 0, err
	}
	cmd := exec.CommandContext(ctx, cmdline[0], cmdline[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			return nil, cmdline, 0, 0, fmt.Errorf("%v: %w", cmdline, err)
		}
	}
	cpu1, _, err := p.Usage()
	if err != nil {
		return nil, cmdline, 0, 0, err
	}
	r1, w1, err := child.ProcIO(p.Pid())
	if err != nil {
		return nil, cmdline, 0, 0, err
	}
	res, err = reports.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return nil, cmdline, 0, 0, err
	}
	return res, cmdline, cpu1 - cpu0, (r1 - r0) + (w1 - w0), nil
}

// Scenario is the scenario of the load and find-max phases
// (scenarios/designs.yaml: chat in real time).
const Scenario = "designs"

// loadPhase runs the designs scenario at rate against design d.
func loadPhase(ctx context.Context, d Design, server, bench, dir string, rate float64, log io.Writer) (*Load, error) {
	args := []string{Scenario, "--rate", strconv.FormatFloat(rate, 'g', -1, 64)}
	res, cmdline, cpu, wire, err := benchRun(ctx, d, server, bench, dir, args, log)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", d.Name, err)
	}
	l := &Load{
		Command: cmdline, Pass: res.Valid && objectivesMet(res),
		Delivered: res.Messages.Delivered, Lost: res.Messages.Lost, Duplicated: res.Messages.Duplicated,
		Reordered: res.Messages.Reordered, Unacked: res.Messages.Unacked,
		ServerCPUSeconds: cpu.Seconds(), WireBytes: wire, GeneratorCPUSeconds: res.Generator.CPUSeconds,
	}
	if lat, ok := res.Latency["delivery"]; ok {
		l.P50Ms, l.P99Ms, l.P999Ms = lat.P50Ms, lat.P99Ms, lat.P999Ms
		l.RawP99Ms = lat.Raw.P99Ms
	}
	if l.Delivered > 0 {
		l.CPUPer1000 = l.ServerCPUSeconds / float64(l.Delivered) * 1000
		l.BytesPerDelivered = float64(wire) / float64(l.Delivered)
	}
	fmt.Fprintf(log, "  %s: %d delivered (lost %d, duplicated %d, reordered %d, unacked %d), p99 %.2f ms, %.3f CPU-s per 1000, %.0f B per delivered\n",
		d.Name, l.Delivered, l.Lost, l.Duplicated, l.Reordered, l.Unacked, l.P99Ms, l.CPUPer1000, l.BytesPerDelivered)
	return l, nil
}

// findMaxPhase searches for the highest rate of the designs scenario
// design d sustains.
func findMaxPhase(ctx context.Context, d Design, server, bench, dir string, start float64, steps int, log io.Writer) (*FindMax, error) {
	args := []string{Scenario, "--find-max", "--find-max-start", strconv.FormatFloat(start, 'g', -1, 64), "--find-max-steps", strconv.Itoa(steps)}
	res, cmdline, _, _, err := benchRun(ctx, d, server, bench, dir, args, log)
	if err != nil {
		return nil, fmt.Errorf("find-max %s: %w", d.Name, err)
	}
	if res.FindMax == nil {
		return nil, fmt.Errorf("find-max %s: %s has no find_max section", d.Name, filepath.Join(dir, "result.json"))
	}
	f := &FindMax{Command: cmdline, Best: res.FindMax.Best, Failed: res.FindMax.Failed, Stopped: res.FindMax.Stopped}
	fmt.Fprintf(log, "  %s: find-max best %g/s (failed at %g, %s)\n", d.Name, f.Best, f.Failed, f.Stopped)
	return f, nil
}

// objectivesMet reports whether every objective of res passed.
func objectivesMet(res *reports.Result) bool {
	for _, o := range res.Objectives {
		if !o.Pass {
			return false
		}
	}
	return true
}
