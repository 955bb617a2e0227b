// Package child runs refserver as a child process, so that its CPU and
// memory are its own (DESIGN.md §5), and reads its usage from /proc. It
// imports nothing of the server: bench's embedded default and the tests
// that measure the server from outside both use it.
//
// A Process can be started on a set of CPUs (StartOn): it is born on them,
// every thread of it, so that its runtime sizes itself to them.
//
// A Process can be killed (SIGKILL, as a crash) and restarted on the same
// addresses, any number of times: its usage then covers every incarnation,
// CPU summed and peak memory the largest.
package child

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/swarmdesk/swarmdesk/internal/cpuset"
)

// ErrNotRunning is returned by the methods of a Process that need a running
// server between a Kill and a successful Restart.
var ErrNotRunning = errors.New("refserver not running")

// startTimeout bounds how long a start waits for the serving line.
const startTimeout = 20 * time.Second

// rebindFor bounds how long Restart keeps trying when the old incarnation's
// addresses cannot be bound yet; rebindPause is the pause between tries.
const (
	rebindFor   = 10 * time.Second
	rebindPause = 50 * time.Millisecond
)

// Build compiles refserver into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "refserver")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/swarmdesk/swarmdesk/refserver")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build refserver: %w: %s", err, out)
	}
	return bin, nil
}

// Process is a refserver running as a child process, so that its CPU and
// memory are its own and can be read from /proc. Its methods are safe for
// concurrent use, but Kill, Restart and Stop are meant to be called from one
// goroutine at a time.
type Process struct {
	// Addr is the long-connection address, host:port. A restart keeps it.
	Addr string
	// AdminURL is the admin endpoint's base URL, http://host:port. A
	// restart keeps it.
	AdminURL string

	bin   string
	args  []string   // the caller's extra arguments
	admin string     // the admin endpoint's host:port
	cpus  cpuset.Set // the CPUs it runs on; nil: bench's own

	mu       sync.Mutex
	cur      *incarnation // nil between Kill and Restart
	pastCPU  time.Duration
	pastPeak int64
	starts   int
}

// incarnation is one run of the binary.
type incarnation struct {
	cmd  *exec.Cmd
	done chan error // receives cmd.Wait's result once
	tail *strings.Builder
	mu   sync.Mutex // guards tail
	// procs is the GOMAXPROCS its serving line said; 0 when it did not.
	procs int
}

func (in *incarnation) output() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.tail.String()
}

var (
	servingLine = regexp.MustCompile(`msg="refserver serving" listen=(\S+) admin=(\S+)`)
	procsAttr   = regexp.MustCompile(` gomaxprocs=(\d+)`)
)

// Start runs the refserver binary bin on free loopback ports with
// the extra args, and waits until it serves.
func Start(bin string, args ...string) (*Process, error) {
	return StartOn(nil, bin, args...)
}

// StartOn is Start with the server placed on the CPUs cpus (nil: where
// the caller may run). The process is born on them: it is forked from a
// thread pinned to cpus, and a process inherits the affinity of the thread
// that forks it, so every thread it makes runs on cpus, and its Go runtime
// (runtime.NumCPU, read once at startup, and the GOMAXPROCS and gnet loop
// count that follow from it) sizes itself to them, with no flag and no
// window in which it runs elsewhere. A Restart places the new incarnation
// on the same CPUs.
func StartOn(cpus cpuset.Set, bin string, args ...string) (*Process, error) {
	in, addr, admin, err := launch(bin, "127.0.0.1:0", "127.0.0.1:0", args, cpus)
	if err != nil {
		return nil, err
	}
	return &Process{Addr: addr, AdminURL: "http://" + admin, bin: bin, args: args, admin: admin, cpus: cpus, cur: in, starts: 1}, nil
}

// CPUs returns the CPUs the server was placed on, nil when it was not.
func (p *Process) CPUs() cpuset.Set { return p.cpus }

// GOMAXPROCS returns the GOMAXPROCS the current incarnation said it runs
// with in its serving line; 0 when it did not say (or between a Kill and
// a Restart).
func (p *Process) GOMAXPROCS() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	p.cur.mu.Lock()
	defer p.cur.mu.Unlock()
	return p.cur.procs
}

// startOn starts cmd with its process placed on cpus (nil: as the caller
// runs): from a goroutine locked to a thread pinned to cpus, whose mask
// the child inherits. The thread's mask is put back before it is
// unlocked; if that fails the goroutine ends locked, and the runtime ends
// the thread with it.
func startOn(cmd *exec.Cmd, cpus cpuset.Set) error {
	if cpus == nil {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		old, err := cpuset.Thread(0)
		if err != nil {
			errc <- err
			return
		}
		if err := cpuset.SetThread(0, cpus); err != nil {
			errc <- err
			return
		}
		errc <- cmd.Start()
		if cpuset.SetThread(0, old) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// launch starts bin listening on listen and admin, on cpus, and waits for
// its serving line, which says the addresses it bound.
func launch(bin, listen, admin string, args []string, cpus cpuset.Set) (*incarnation, string, string, error) {
	all := append([]string{"--listen", listen, "--admin", admin}, args...)
	cmd := exec.Command(bin, all...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", "", fmt.Errorf("start refserver: %w", err)
	}
	if err := startOn(cmd, cpus); err != nil {
		if cpus != nil {
			return nil, "", "", fmt.Errorf("start refserver on cpus %v: %w", cpus, err)
		}
		return nil, "", "", fmt.Errorf("start refserver: %w", err)
	}
	in := &incarnation{cmd: cmd, done: make(chan error, 1), tail: &strings.Builder{}}
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			in.mu.Lock()
			if in.tail.Len() < 64<<10 {
				in.tail.WriteString(line + "\n")
			}
			in.mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				if p := procsAttr.FindStringSubmatch(line); p != nil {
					in.mu.Lock()
					in.procs, _ = strconv.Atoi(p[1])
					in.mu.Unlock()
				}
				select {
				case found <- [2]string{m[1], m[2]}:
				default:
				}
			}
		}
		in.done <- cmd.Wait()
	}()
	timeout := time.NewTimer(startTimeout)
	defer timeout.Stop()
	select {
	case a := <-found:
		return in, a[0], a[1], nil
	case err := <-in.done:
		in.done <- err // for whoever waits next
		return nil, "", "", fmt.Errorf("refserver exited before serving: %v: %s", err, in.output())
	case <-timeout.C:
		_ = cmd.Process.Kill()
		return nil, "", "", fmt.Errorf("refserver did not report serving within %v", startTimeout)
	}
}

// Pid returns the current incarnation's process id, or 0 between a Kill and
// a Restart.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.cmd.Process.Pid
}

// Starts returns how many times the binary was started: 1, plus one per
// successful Restart.
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Usage reads the server's CPU time (user+system), summed over every
// incarnation so far, and the current incarnation's resident memory.
func (p *Process) Usage() (cpu time.Duration, rss int64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return p.pastCPU, 0, fmt.Errorf("usage: %w", ErrNotRunning)
	}
	cpu, rss, err = ProcUsage(p.cur.cmd.Process.Pid)
	return p.pastCPU + cpu, rss, err
}

// PeakRSS returns the largest peak resident set of every incarnation so
// far: the ones that ended from their exit status, the running one from
// /proc.
func (p *Process) PeakRSS() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return p.pastPeak, nil
	}
	peak, err := PeakRSS(p.cur.cmd.Process.Pid)
	return max(peak, p.pastPeak), err
}

// ProcUsage reads a process's CPU time (user+system) and resident set
// size from /proc.
func ProcUsage(pid int) (cpu time.Duration, rss int64, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read cpu of %d: %w", pid, err)
	}
	// Fields after the command name, which is in parentheses.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("read cpu of %d: short stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	cpu = time.Duration(utime+stime) * time.Second / ticks
	return cpu, pages * int64(os.Getpagesize()), nil
}

// PeakRSS reads a process's peak resident set size (VmHWM) from /proc.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak rss of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("read peak rss of %d: %w", pid, err)
				}
				return kb << 10, nil
			}
		}
	}
	return 0, fmt.Errorf("read peak rss of %d: no VmHWM in /proc/%d/status", pid, pid)
}

// Kill ends the server with SIGKILL, as a crash: no shutdown, no flush. It
// waits until the process is gone and adds its CPU time and peak memory to
// the totals Usage and PeakRSS report. It returns the killed process's id.
func (p *Process) Kill() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.cur
	if in == nil {
		return 0, fmt.Errorf("kill: %w", ErrNotRunning)
	}
	pid := in.cmd.Process.Pid
	// The last reading before the kill, in case the exit status has none.
	lastCPU, _, _ := ProcUsage(pid)
	lastPeak, _ := PeakRSS(pid)
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return pid, fmt.Errorf("kill refserver %d: %w", pid, err)
	}
	select {
	case err := <-in.done:
		in.done <- err
	case <-time.After(startTimeout):
		return pid, fmt.Errorf("kill refserver %d: still running %v after SIGKILL", pid, startTimeout)
	}
	p.cur = nil
	cpu, peak := lastCPU, lastPeak
	if ps := in.cmd.ProcessState; ps != nil {
		cpu = max(cpu, ps.UserTime()+ps.SystemTime())
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss<<10) // Linux reports kilobytes
		}
	}
	p.pastCPU += cpu
	p.pastPeak = max(p.pastPeak, peak)
	return pid, nil
}

// Restart starts the binary again, after a Kill, with the same arguments
// and on the same addresses (Addr and AdminURL do not change), and waits
// until it serves. While the old incarnation's addresses cannot be bound
// yet it tries again, for a bounded time.
func (p *Process) Restart() error {
	p.mu.Lock()
	running := p.cur != nil
	p.mu.Unlock()
	if running {
		return errors.New("restart refserver: still running (Kill it first)")
	}
	deadline := time.Now().Add(rebindFor)
	for {
		in, _, _, err := launch(p.bin, p.Addr, p.admin, p.args, p.cpus)
		if err == nil {
			p.mu.Lock()
			p.cur = in
			p.starts++
			p.mu.Unlock()
			return nil
		}
		if !strings.Contains(err.Error(), "address already in use") || time.Now().After(deadline) {
			return fmt.Errorf("restart refserver on %s: %w", p.Addr, err)
		}
		time.Sleep(rebindPause)
	}
}

// Stop sends SIGTERM and waits; a clean stop exits 0.
func (p *Process) Stop() error {
	p.mu.Lock()
	in := p.cur
	p.mu.Unlock()
	if in == nil {
		return fmt.Errorf("stop: %w", ErrNotRunning)
	}
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal refserver: %w", err)
	}
	select {
	case err := <-in.done:
		in.done <- err
		if err != nil {
			return fmt.Errorf("refserver exit: %w: %s", err, in.output())
		}
		return nil
	case <-time.After(startTimeout):
		_ = in.cmd.Process.Kill()
		return fmt.Errorf("refserver did not stop within %v of SIGTERM: %s", startTimeout, in.output())
	}
}

// ProcIO reads the bytes a process has passed to read and write system
// calls (rchar and wchar of /proc/PID/io): for a server, its sockets'
// traffic both ways, protocol and HTTP headers included (TCP/IP headers
// are not), plus its log and any file it reads or writes.
func ProcIO(pid int) (read, written int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read i/o of %d: %w", pid, err)
	}
	found := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, perr := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		switch name {
		case "rchar":
			read, err = n, perr
			found++
		case "wchar":
			written, err = n, perr
			found++
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read i/o of %d: %s: %w", pid, name, err)
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("read i/o of %d: no rchar and wchar in /proc/%d/io", pid, pid)
	}
	return read, written, nil
}
