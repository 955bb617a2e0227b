package suite

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Durability is BenchmarkDurability: refserver's message throughput, as a
// child process, under each durability.
type Durability struct {
	// Modes are the durabilities in the order they ran: none, batch,
	// sync.
	Modes []DurabilityMode
	// Rounds is the most runs (-count) any durability had.
	Rounds int
}

// DurabilityMode is one durability's figures over its runs. Times are
// seconds.
type DurabilityMode struct {
	// Name is "none", "batch" or "sync".
	Name string
	// Throughput is messages per second; ServerCPU and ClientCPU are CPU
	// seconds per message, the server's (the child process) and the
	// benchmark's own (the customers).
	Throughput, ServerCPU, ClientCPU Metric
	// PerSync is the messages sharing one sync and SyncTime one sync's
	// duration: sync only (no runs otherwise).
	PerSync, SyncTime Metric
	// Ratio is Throughput against none's: the ratio of the medians, with
	// the range from this durability's slowest run over none's fastest to
	// its fastest over none's slowest. No runs for none itself, or
	// without none.
	Ratio Metric
}

// Mode returns the durability named name.
func (d *Durability) Mode(name string) (DurabilityMode, bool) {
	for _, m := range d.Modes {
		if m.Name == name {
			return m, true
		}
	}
	return DurabilityMode{}, false
}

// durabilityPrefix is the sub-benchmarks' name before the durability.
const durabilityPrefix = "Durability/durability="

// parseDurability reads BenchmarkDurability's sub-benchmarks.
//
// go test runs the -count rounds of one sub-benchmark back to back (none,
// none, none, batch, ...), so a round of sync is never adjacent in time
// to a round of none: pairing them by round would not cancel the
// machine's drift any better than the medians do. Ratios are therefore
// of medians, with the range of every pairing.
func parseDurability(bs Benchmarks) (*Durability, error) {
	d := &Durability{}
	for _, b := range bs.Find("refserver/daemon", durabilityPrefix) {
		m := DurabilityMode{
			Name:       strings.TrimPrefix(b.Name, durabilityPrefix),
			Throughput: b.M("msgs/s"),
			ServerCPU:  scaled(b.M("server-cpu-µs/msg"), 1e-6),
			ClientCPU:  scaled(b.M("client-cpu-µs/msg"), 1e-6),
			PerSync:    b.M("msgs/sync"),
			SyncTime:   scaled(b.M("µs/sync"), 1e-6),
		}
		if m.Throughput.Runs == 0 {
			return nil, fmt.Errorf("%s reports no msgs/s", b.Name)
		}
		d.Rounds = max(d.Rounds, m.Throughput.Runs)
		d.Modes = append(d.Modes, m)
	}
	if len(d.Modes) == 0 {
		return nil, fmt.Errorf("no %s benchmark", "Benchmark"+strings.TrimSuffix(durabilityPrefix, "="))
	}
	if none, ok := d.Mode("none"); ok {
		for i, m := range d.Modes {
			if m.Name != "none" {
				d.Modes[i].Ratio = ratioOf(m.Throughput, none.Throughput)
			}
		}
	}
	return d, nil
}

// scaled is m with its values multiplied by f.
func scaled(m Metric, f float64) Metric {
	m.Median, m.Min, m.Max = m.Median*f, m.Min*f, m.Max*f
	return m
}

// ratioOf is a over b: the medians' ratio, and the range of a run of a
// over a run of b.
func ratioOf(a, b Metric) Metric {
	if a.Runs == 0 || b.Runs == 0 || !(b.Min > 0) || math.IsInf(b.Max, 0) || math.IsNaN(a.Min+a.Max+a.Median+b.Median) {
		return Metric{}
	}
	return Metric{Unit: "ratio", Median: a.Median / b.Median, Min: a.Min / b.Max, Max: a.Max / b.Min, Runs: min(a.Runs, b.Runs)}
}

// Crash is TestCrashRecovery: refserver under durability sync killed with
// SIGKILL while customers write, restarted on the same data directory,
// and every acknowledged message checked in the store's replay.
type Crash struct {
	// Status is the test's PASS or FAIL.
	Status string
	// Killed is set when the test logged the kill: InFlight of Customers
	// had a message sent and not acknowledged at that moment, and the
	// server served again RestartS seconds after the kill.
	Killed              bool
	InFlight, Customers int
	RestartS            float64
	// Audited is set when the test logged its check: Checked
	// acknowledged messages were read back after the restart.
	Audited bool
	Checked int64
	// Lost counts acknowledged messages missing after the restart,
	// Duplicated messages stored twice, Reordered gaps and reorders in a
	// conversation and messages stored at another place than the one
	// acknowledged.
	Lost, Duplicated, Reordered int
	// Errors are the other lines a test that did not pass logged.
	Errors []string
}

// Passed reports whether the test passed.
func (c *Crash) Passed() bool { return c.Status == "PASS" }

var (
	crashKillRE  = regexp.MustCompile(`^killed with (\d+) of (\d+) customers' messages in flight; serving again after (\S+)$`)
	crashCheckRE = regexp.MustCompile(`^(\d+) acknowledged messages checked after the restart$`)
)

// parseCrash reads TestCrashRecovery's log.
func parseCrash(l *TestLog) (*Crash, error) {
	t, ok := l.Test("TestCrashRecovery")
	if !ok {
		return nil, fmt.Errorf("TestCrashRecovery did not run")
	}
	c := &Crash{Status: t.Status}
	for _, msg := range t.Logs {
		if k := crashKillRE.FindStringSubmatch(msg); k != nil {
			d, err := time.ParseDuration(k[3])
			if err != nil {
				return nil, fmt.Errorf("log line %q: %w", msg, err)
			}
			c.Killed, c.RestartS = true, d.Seconds()
			c.InFlight, _ = strconv.Atoi(k[1])
			c.Customers, _ = strconv.Atoi(k[2])
			continue
		}
		if k := crashCheckRE.FindStringSubmatch(msg); k != nil {
			c.Audited = true
			c.Checked, _ = strconv.ParseInt(k[1], 10, 64)
			continue
		}
		// An error joined from several is one message of several lines.
		for line := range strings.SplitSeq(msg, "\n") {
			switch {
			case line == "":
			case strings.Contains(line, " is lost"):
				c.Lost++
			case strings.Contains(line, " stored twice"):
				c.Duplicated++
			case strings.Contains(line, "a gap or a reorder"), strings.Contains(line, " is stored at "):
				c.Reordered++
			case !c.Passed():
				c.Errors = append(c.Errors, line)
			}
		}
	}
	return c, nil
}
