package child

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/internal/cpuset"
)

// fakeEnv is the environment variable that makes the test binary a
// stand-in for refserver.
const fakeEnv = "SWARMDESK_TEST_FAKE_REFSERVER"

// TestMain runs fakeRefserver instead of the tests when a test starts
// this test binary as the server.
func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) == "1" {
		os.Exit(fakeRefserver(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeRefserver stands in for refserver, so that the tests of a package
// that imports nothing of the server need no build of it (one costs tens
// of seconds on a busy machine): it listens on --listen and --admin, says
// so in refserver's serving line, accepts connections and closes them,
// and exits 0 on SIGTERM. refserver's own TestBinary runs the real one
// through Start and Stop.
func fakeRefserver(args []string) int {
	fs := flag.NewFlagSet("refserver", flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	admin := fs.String("admin", "", "")
	fs.Int("loops", 0, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var addrs []string
	for _, a := range []string{*listen, *admin} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			log.Error("refserver failed", "err", err)
			return 1
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		addrs = append(addrs, ln.Addr().String())
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	log.Info("refserver serving", "listen", addrs[0], "admin", addrs[1], "gomaxprocs", runtime.GOMAXPROCS(0))
	<-term
	return 0
}

// fakeBinary returns the stand-in for refserver: this test binary, with
// fakeEnv set for the children t starts.
func fakeBinary(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "1")
	return bin
}

// TestKillRestart kills a refserver with SIGKILL and restarts it on the
// same address: the listener is gone in between and back after, the pid
// changes, and the usage covers both incarnations.
func TestKillRestart(t *testing.T) {
	p, err := Start(fakeBinary(t), "--loops", "1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop() }()
	addr, admin, first := p.Addr, p.AdminURL, p.Pid()
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatal(err)
	}
	// Burn a little CPU in the first incarnation, so that it counts.
	for range 200 {
		_ = dial()
	}
	cpu0, _, err := p.Usage()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := p.Kill()
	if err != nil || pid != first {
		t.Fatalf("Kill = %d, %v; want pid %d", pid, err, first)
	}
	if err := dial(); err == nil {
		t.Fatal("dialed the server after it was killed")
	}
	if _, _, err := p.Usage(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Usage between kill and restart: %v, want ErrNotRunning", err)
	}
	if _, err := p.Kill(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("second Kill: %v, want ErrNotRunning", err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	if p.Addr != addr || p.AdminURL != admin {
		t.Errorf("restarted on %s %s, want %s %s", p.Addr, p.AdminURL, addr, admin)
	}
	if p.Pid() == first || p.Pid() == 0 || p.Starts() != 2 {
		t.Errorf("pid %d after restart (was %d), starts %d", p.Pid(), first, p.Starts())
	}
	if err := dial(); err != nil {
		t.Fatalf("restarted server not serving on %s: %v", addr, err)
	}
	if err := p.Restart(); err == nil {
		t.Error("Restart of a running server succeeded")
	}
	cpu1, rss, err := p.Usage()
	if err != nil || cpu1 < cpu0 || rss <= 0 {
		t.Errorf("usage after restart: cpu %v (before the kill %v), rss %d, %v", cpu1, cpu0, rss, err)
	}
	if peak, err := p.PeakRSS(); err != nil || peak <= 0 {
		t.Errorf("PeakRSS = %d, %v", peak, err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestProcIO: the bytes this process writes to a pipe show in its wchar.
func TestProcIO(t *testing.T) {
	_, w0, err := ProcIO(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	go func() { _, _ = io.Copy(io.Discard, r) }()
	if _, err := w.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	_, w1, err := ProcIO(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if w1-w0 < 1<<20 {
		t.Fatalf("wchar grew by %d after writing 1 MiB", w1-w0)
	}
}

// TestStartOn starts the server on one CPU: every thread of it carries the
// mask (read back from /proc/PID/task/*/status), its Go runtime sized
// itself to the one CPU, this process's CPUs are untouched, and a restart
// lands on the same CPU.
func TestStartOn(t *testing.T) {
	allowed, err := cpuset.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) < 2 {
		t.Skipf("one CPU allowed (%v): placing on it proves nothing", allowed)
	}
	on := cpuset.Of(allowed[len(allowed)-1])
	p, err := StartOn(on, fakeBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop() }()
	check := func(when string) {
		t.Helper()
		ts, err := cpuset.Threads(p.Pid())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) < 2 {
			t.Errorf("%s: %d threads, want a Go runtime's several", when, len(ts))
		}
		for tid, s := range ts {
			if !s.Equal(on) {
				t.Errorf("%s: thread %d on %v, want %v", when, tid, s, on)
			}
		}
		if got := p.GOMAXPROCS(); got != 1 {
			t.Errorf("%s: the server says GOMAXPROCS %d, want 1", when, got)
		}
	}
	check("started")
	if now, err := cpuset.Allowed(); err != nil || !now.Equal(allowed) {
		t.Errorf("this process's CPUs after StartOn: %v, %v; want %v", now, err, allowed)
	}
	if !p.CPUs().Equal(on) {
		t.Errorf("CPUs() = %v, want %v", p.CPUs(), on)
	}
	if _, err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	check("restarted")
}
