// Package child runs refserver as a child process, so that its CPU and
// memory are its own (DESIGN.md §5), and reads its usage from /proc. It
// imports nothing of the server: bench's embedded default and the tests
// that measure the server from outside both use it.
package child

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
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
// memory are its own and can be read from /proc.
type Process struct {
	// Addr is the long-connection address, host:port.
	Addr string
	// AdminURL is the admin endpoint's base URL, http://host:port.
	AdminURL string

	cmd  *exec.Cmd
	done chan error
	tail *strings.Builder
}

var servingLine = regexp.MustCompile(`msg="refserver serving" listen=(\S+) admin=(\S+)`)

// Start runs the refserver binary bin on free loopback ports with
// the extra args, and waits until it serves.
func Start(bin string, args ...string) (*Process, error) {
	args = append([]string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start refserver: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start refserver: %w", err)
	}
	p := &Process{cmd: cmd, done: make(chan error, 1), tail: &strings.Builder{}}
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if p.tail.Len() < 64<<10 {
				p.tail.WriteString(line + "\n")
			}
			if m := servingLine.FindStringSubmatch(line); m != nil {
				found <- [2]string{m[1], m[2]}
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case a := <-found:
		p.Addr, p.AdminURL = a[0], "http://"+a[1]
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("refserver exited before serving: %v: %s", err, p.tail.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("refserver did not report serving within 20s")
	}
}

// Pid returns the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Usage reads the child's CPU time (user+system) and resident memory.
func (p *Process) Usage() (cpu time.Duration, rss int64, err error) {
	return ProcUsage(p.Pid())
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

// Stop sends SIGTERM and waits; a clean stop exits 0.
func (p *Process) Stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal refserver: %w", err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("refserver exit: %w: %s", err, p.tail.String())
		}
		return nil
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("refserver did not stop within 20s of SIGTERM: %s", p.tail.String())
	}
}
