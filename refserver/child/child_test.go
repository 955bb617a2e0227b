package child

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestKillRestart kills a refserver with SIGKILL and restarts it on the
// same address: the listener is gone in between and back after, the pid
// changes, and the usage covers both incarnations.
func TestKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds refserver")
	}
	bin, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(bin, "--loops", "1")
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
