package suite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MachineFile is the machine entry's output file, in its directory.
const MachineFile = "machine.json"

// Machine describes the machine and the source tree the suite ran on.
type Machine struct {
	// CPU is the processor's model name (/proc/cpuinfo).
	CPU string `json:"cpu"`
	// CPUs is the number of logical CPUs (/proc/cpuinfo).
	CPUs int `json:"cpus"`
	// MemBytes is the total RAM (/proc/meminfo MemTotal).
	MemBytes int64 `json:"mem_bytes"`
	// Kernel is the kernel release (/proc/sys/kernel/osrelease).
	Kernel string `json:"kernel"`
	// GoVersion is `go env GOVERSION`.
	GoVersion string `json:"go_version"`
	// NoFile is the soft RLIMIT_NOFILE a Go program started here gets
	// (Go raises the soft limit to the hard one at start-up).
	NoFile uint64 `json:"nofile"`
	// Date is when the machine entry ran, UTC.
	Date time.Time `json:"date"`
	// Commit is `git rev-parse --short HEAD`.
	Commit string `json:"commit"`
	// Dirty is whether `git status --porcelain` showed changes to tracked
	// files.
	Dirty bool `json:"dirty"`
}

// Day is the UTC date of the run, 2026-11-21.
func (m *Machine) Day() string { return m.Date.UTC().Format("2006-01-02") }

// Revision is the commit, with "(with uncommitted changes)" when dirty.
func (m *Machine) Revision() string {
	if m.Dirty {
		return "`" + m.Commit + "` (with uncommitted changes)"
	}
	return "`" + m.Commit + "`"
}

// collectMachine describes this machine and the tree at root.
func collectMachine(ctx context.Context, root string) (*Machine, error) {
	m := &Machine{Date: time.Now().UTC()}
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(string(cpuinfo)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			m.CPUs++
		case "model name":
			if m.CPU == "" {
				m.CPU = strings.TrimSpace(v)
			}
		}
	}
	if m.MemBytes, err = memTotal("/proc/meminfo"); err != nil {
		return nil, err
	}
	kernel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return nil, err
	}
	m.Kernel = strings.TrimSpace(string(kernel))
	if m.NoFile, err = noFile(); err != nil {
		return nil, fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	out := func(name string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%s: %w: %s", shellQuote(append([]string{name}, args...)), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(b)), nil
	}
	if m.GoVersion, err = out("go", "env", "GOVERSION"); err != nil {
		return nil, err
	}
	if m.Commit, err = out("git", "rev-parse", "--short", "HEAD"); err != nil {
		return nil, err
	}
	status, err := out("git", "status", "--porcelain")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(status) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "??") {
			m.Dirty = true
		}
	}
	return m, nil
}

// memTotal reads MemTotal from a meminfo file, in bytes.
func memTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: MemTotal %q: %w", path, f[1], err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no MemTotal", path)
}

// writeJSON writes v to path as indented JSON.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// readJSON decodes the JSON file at path into v, strictly.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}
