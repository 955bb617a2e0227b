package cpuset

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // the canonical list; "" for an error
	}{
		{"0", "0"},
		{"0-3,6", "0-3,6"},
		{" 6, 0-3 ", "0-3,6"},
		{"3,2,1,0", "0-3"},
		{"0-1,1-2", "0-2"},
		{"0-7:2", "0,2,4,6"},
		{"1023", "1023"},
		{"5-5", "5"},
		{"", ""},
		{" ", ""},
		{"0,", ""},
		{"a", ""},
		{"-1", ""},
		{"3-1", ""},
		{"0-", ""},
		{"1024", ""},
		{"2:2", ""},
		{"0-4:0", ""},
	} {
		s, err := Parse(c.in)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("Parse(%q) = %v, want an error", c.in, s)
		case c.want != "" && err != nil:
			t.Errorf("Parse(%q): %v", c.in, err)
		case c.want != "" && s.String() != c.want:
			t.Errorf("Parse(%q) = %q, want %q", c.in, s, c.want)
		}
	}
}

func TestSetOps(t *testing.T) {
	a, b := Of(0, 1, 2, 3), Of(2, 3, 4)
	if got := a.Minus(b).String(); got != "0-1" {
		t.Errorf("minus %q", got)
	}
	if got := a.And(b).String(); got != "2-3" {
		t.Errorf("and %q", got)
	}
	if got := a.Or(b).String(); got != "0-4" {
		t.Errorf("or %q", got)
	}
	if !Of(1, 2).Within(a) || b.Within(a) {
		t.Error("within")
	}
	if Set(nil).String() != "" || Of(4, 4, 2).String() != "2,4" {
		t.Error("string")
	}
}

// TestSplit: the default split for 1 to 4 CPUs, with and without a
// topology of SMT siblings.
func TestSplit(t *testing.T) {
	for _, c := range []struct {
		name          string
		allowed       Set
		cores         []Set
		bench, server string // "" and "": no split
	}{
		{"1 cpu", Of(0), nil, "", ""},
		{"2 cpus", Of(0, 1), nil, "0", "1"},
		{"3 cpus: the server gets the larger half", Of(0, 1, 2), nil, "0", "1-2"},
		{"4 cpus", Of(0, 1, 2, 3), nil, "0-1", "2-3"},
		{"2 cpus, not from 0", Of(4, 7), nil, "4", "7"},
		{"2 cpus, own cores", Of(0, 1), []Set{Of(0), Of(1)}, "0", "1"},
		{"2 threads of one core: split anyway", Of(0, 1), []Set{Of(0, 1)}, "0", "1"},
		{"4 cpus, siblings i and i+2: whole cores", Of(0, 1, 2, 3), []Set{Of(0, 2), Of(1, 3)}, "0,2", "1,3"},
		{"4 cpus, adjacent siblings", Of(0, 1, 2, 3), []Set{Of(0, 1), Of(2, 3)}, "0-1", "2-3"},
		{"3 cpus, one core of two threads and one of one", Of(0, 1, 2), []Set{Of(0, 2), Of(1)}, "1", "0,2"},
		{"6 cpus, three cores of two: bench one core", Of(0, 1, 2, 3, 4, 5), []Set{Of(0, 3), Of(1, 4), Of(2, 5)}, "0,3", "1-2,4-5"},
		{"topology not covering the set: by number", Of(0, 1, 2, 3), []Set{Of(0, 2)}, "0-1", "2-3"},
		{"topology of the allowed part only", Of(2, 3), []Set{Of(0, 2), Of(1, 3)}, "2", "3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, s, ok := Split(c.allowed, c.cores)
			if ok != (c.bench != "") {
				t.Fatalf("Split(%v) ok %v", c.allowed, ok)
			}
			if b.String() != c.bench || s.String() != c.server {
				t.Errorf("Split(%v, %v) = bench %q server %q, want %q %q", c.allowed, c.cores, b, s, c.bench, c.server)
			}
			if ok && (len(b.And(s)) != 0 || !b.Or(s).Equal(c.allowed)) {
				t.Errorf("bench %v and server %v do not partition %v", b, s, c.allowed)
			}
		})
	}
}

// helperEnv makes the test binary a process of several threads that
// starts more on a line from its standard input.
const helperEnv = "SWARMDESK_TEST_CPUSET_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		threads(os.Stdin, os.Stdout)
		return
	}
	os.Exit(m.Run())
}

// threads holds four more OS threads, says "ready", and on each line read
// holds four more and says "ready" again, until its input ends.
func threads(in io.Reader, out io.Writer) {
	hold := func() {
		for range 4 {
			go func() {
				runtime.LockOSThread()
				select {}
			}()
		}
		time.Sleep(50 * time.Millisecond) // let them start
		fmt.Fprintln(out, "ready")
	}
	hold()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		hold()
	}
}

// TestPinEveryThread pins a running child of several threads and reads
// back every thread's Cpus_allowed_list; threads the child makes after
// the pin carry the mask too.
func TestPinEveryThread(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) < 2 {
		t.Skipf("one CPU allowed (%v): pinning to it proves nothing", allowed)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	ready := func() {
		t.Helper()
		if !lines.Scan() || lines.Text() != "ready" {
			t.Fatalf("helper: %q %v", lines.Text(), lines.Err())
		}
	}
	ready()
	pid := cmd.Process.Pid
	before, err := Threads(pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 5 {
		t.Fatalf("the helper has %d threads, want at least 5", len(before))
	}
	want := Of(allowed[len(allowed)-1])
	if err := Pin(pid, want); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		ts, err := Threads(pid)
		if err != nil {
			t.Fatal(err)
		}
		var bad []string
		for tid, s := range ts {
			if !s.Equal(want) {
				bad = append(bad, fmt.Sprintf("%d: %v", tid, s))
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s: %d of %d threads not on %v: %s", when, len(bad), len(ts), want, strings.Join(bad, "; "))
		}
		t.Logf("%s: %d threads on %v", when, len(ts), want)
	}
	check("after the pin")
	if _, err := io.WriteString(stdin, "more\n"); err != nil {
		t.Fatal(err)
	}
	ready()
	if after, _ := Tasks(pid); len(after) <= len(before) {
		t.Logf("no thread added (%d before, %d after)", len(before), len(after))
	}
	check("threads made after the pin")
}

func TestPinEmpty(t *testing.T) {
	if err := Pin(os.Getpid(), nil); err == nil {
		t.Error("Pin to the empty set succeeded")
	}
	if err := SetThread(0, nil); err == nil {
		t.Error("SetThread to the empty set succeeded")
	}
}

// TestBusyFields: the busy time of a set is user, nice, system, irq,
// softirq and steal of its CPUs' lines, in ticks of 10ms; idle, iowait
// and guest time (already in user) are not.
func TestBusyFields(t *testing.T) {
	const stat = `cpu  1000 1000 1000 1000 1000 1000 1000 1000 1000 1000
cpu0 1 2 3 1000 1000 4 5 6 700 800
cpu1 10 20 30 1000 1000 40 50 60 700 800
cpu2 100 200 300 1000 1000 400 500 600 700 800
intr 12345 0 0
ctxt 999
`
	for _, c := range []struct {
		set  Set
		want time.Duration
	}{
		{Of(0), 21 * 10 * time.Millisecond},
		{Of(1), 210 * 10 * time.Millisecond},
		{Of(0, 2), 2121 * 10 * time.Millisecond},
	} {
		got, err := busy(stat, c.set)
		if err != nil || got != c.want {
			t.Errorf("busy of %v = %v, %v; want %v", c.set, got, err, c.want)
		}
	}
	if _, err := busy(stat, Of(3)); err == nil {
		t.Error("busy of a CPU not in the text succeeded")
	}
}

// TestBusy: a thread spinning on one CPU makes that CPU's busy time, read
// from /proc/stat, grow by about the time it spun.
func TestBusy(t *testing.T) {
	all, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	on := Of(all[0])
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, _ := Thread(0)
	if err := SetThread(0, on); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = SetThread(0, old) }()
	before := time.Now()
	b0, err := Busy(on)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
	}
	spin := time.Since(start)
	b1, err := Busy(on)
	if err != nil {
		t.Fatal(err)
	}
	window := time.Since(before)
	// The CPU is busy while the thread spins, whoever else runs on it;
	// the kernel's accounting is by ticks, so only a rough upper bound.
	if d := b1 - b0; d < spin/2 || d > 2*window {
		t.Errorf("CPU %v busy %v over a spin of %v (readings %v apart)", on, d, spin, window)
	}
}
