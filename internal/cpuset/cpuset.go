// Package cpuset places processes on sets of CPUs (sched_setaffinity), so
// that a load generator and the server it measures on one machine do not
// compete for the same cores (issue 14, item 4). It parses and prints
// Linux cpulists ("0-3,6"), reads the CPUs a process may run on, pins every
// thread of a process, and chooses the default split of a machine between
// bench and an embedded server.
//
// It uses golang.org/x/sys/unix, no external tool (taskset, cgroups).
package cpuset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MaxCPU bounds the CPU numbers a Set holds: unix.CPUSet's 1024 bits.
const MaxCPU = 1024

// Set is a set of CPU numbers, sorted and without repeats. The zero value
// is the empty set.
type Set []int

// Parse reads a Linux cpulist, as /sys and /proc/PID/status's
// Cpus_allowed_list write it and taskset -c reads it: comma-separated CPU
// numbers and inclusive ranges, "0-3,6", with an optional stride ("0-7:2",
// every second CPU). Spaces around items are allowed. An empty list is an
// error: a process cannot run on no CPU.
func Parse(list string) (Set, error) {
	if strings.TrimSpace(list) == "" {
		return nil, errors.New("empty cpu list")
	}
	var s Set
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("cpu list %q: empty item", list)
		}
		rng, stride, hasStride := strings.Cut(item, ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := cpuNumber(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %q: %w", list, item, err)
		}
		b := a
		if isRange {
			if b, err = cpuNumber(hi); err != nil {
				return nil, fmt.Errorf("cpu list %q: %q: %w", list, item, err)
			}
			if b < a {
				return nil, fmt.Errorf("cpu list %q: %q: range ends before it begins", list, item)
			}
		}
		step := 1
		if hasStride {
			if !isRange {
				return nil, fmt.Errorf("cpu list %q: %q: a stride needs a range", list, item)
			}
			if step, err = strconv.Atoi(strings.TrimSpace(stride)); err != nil || step < 1 {
				return nil, fmt.Errorf("cpu list %q: %q: stride %q: want a positive number", list, item, stride)
			}
		}
		for c := a; c <= b; c += step {
			s = append(s, c)
		}
	}
	return normal(s), nil
}

// cpuNumber parses one CPU number.
func cpuNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n < 0:
		return 0, fmt.Errorf("%q is not a CPU number", s)
	case n >= MaxCPU:
		return 0, fmt.Errorf("CPU %d: at most %d CPUs are addressed", n, MaxCPU)
	}
	return n, nil
}

// Of returns the CPUs cpus lists, sorted and without repeats.
func Of(cpus ...int) Set { return normal(slices.Clone(cpus)) }

func normal(s Set) Set {
	slices.Sort(s)
	return slices.Compact(s)
}

// String writes s as a cpulist, ranges joined: "0-3,6". The empty set
// writes as "".
func (s Set) String() string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Len is the number of CPUs in s.
func (s Set) Len() int { return len(s) }

// Contains reports whether cpu is in s.
func (s Set) Contains(cpu int) bool {
	_, ok := slices.BinarySearch(s, cpu)
	return ok
}

// Within reports whether every CPU of s is in t.
func (s Set) Within(t Set) bool {
	for _, c := range s {
		if !t.Contains(c) {
			return false
		}
	}
	return true
}

// Minus returns the CPUs of s not in t.
func (s Set) Minus(t Set) Set {
	var out Set
	for _, c := range s {
		if !t.Contains(c) {
			out = append(out, c)
		}
	}
	return out
}

// And returns the CPUs in both s and t.
func (s Set) And(t Set) Set {
	var out Set
	for _, c := range s {
		if t.Contains(c) {
			out = append(out, c)
		}
	}
	return out
}

// Or returns the CPUs in s or t.
func (s Set) Or(t Set) Set { return normal(append(slices.Clone(s), t...)) }

// Equal reports whether s and t hold the same CPUs.
func (s Set) Equal(t Set) bool { return slices.Equal(s, t) }

func (s Set) mask() *unix.CPUSet {
	var m unix.CPUSet
	for _, c := range s {
		m.Set(c)
	}
	return &m
}

func fromMask(m *unix.CPUSet) Set {
	var s Set
	for c := range MaxCPU {
		if m.IsSet(c) {
			s = append(s, c)
		}
	}
	return s
}

// Thread returns the CPUs thread tid may run on (sched_getaffinity); tid
// 0 is the calling thread. A process's id is its main thread's.
func Thread(tid int) (Set, error) {
	var m unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &m); err != nil {
		return nil, fmt.Errorf("sched_getaffinity %d: %w", tid, err)
	}
	return fromMask(&m), nil
}

// Allowed returns the CPUs this process may run on: the calling thread's
// affinity, which every thread of a process not pinned thread by thread
// shares (taskset, a container's cpuset and numactl set it for the
// whole process before it starts).
func Allowed() (Set, error) { return Thread(0) }

// SetThread pins thread tid (0: the calling thread) to s.
func SetThread(tid int, s Set) error {
	if len(s) == 0 {
		return fmt.Errorf("sched_setaffinity %d: empty cpu set", tid)
	}
	if err := unix.SchedSetaffinity(tid, s.mask()); err != nil {
		return fmt.Errorf("sched_setaffinity %d to %s: %w", tid, s, err)
	}
	return nil
}

// Tasks lists the thread ids of process pid (/proc/PID/task).
func Tasks(pid int) ([]int, error) {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		return nil, fmt.Errorf("threads of %d: %w", pid, err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// maxPasses bounds Pin's passes over a process's threads: a process that
// keeps making threads faster than they are pinned is not pinned.
const maxPasses = 100

// Pin pins every thread of process pid to s. sched_setaffinity sets one
// thread's mask, and a thread inherits its creator's at birth, so Pin
// passes over /proc/PID/task, pinning each thread it has not pinned yet,
// until a pass finds no new thread: every thread then runs on s, and every
// thread made later is made by one of them. A thread that ends meanwhile is
// skipped.
func Pin(pid int, s Set) error {
	if len(s) == 0 {
		return fmt.Errorf("pin %d: empty cpu set", pid)
	}
	m := s.mask()
	done := map[int]bool{}
	for range maxPasses {
		tids, err := Tasks(pid)
		if err != nil {
			return fmt.Errorf("pin %d: %w", pid, err)
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			if err := unix.SchedSetaffinity(tid, m); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin %d: thread %d to %s: %w", pid, tid, s, err)
			}
			done[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
	return fmt.Errorf("pin %d to %s: threads still appearing after %d passes", pid, s, maxPasses)
}

// Threads returns the CPUs each thread of process pid may run on, by
// thread id, as /proc/PID/task/TID/status's Cpus_allowed_list says: what
// the kernel holds, read back.
func Threads(pid int) (map[int]Set, error) {
	tids, err := Tasks(pid)
	if err != nil {
		return nil, err
	}
	out := make(map[int]Set, len(tids))
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread ended
		}
		if err != nil {
			return nil, err
		}
		found := false
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				s, err := Parse(rest)
				if err != nil {
					return nil, fmt.Errorf("thread %d of %d: %w", tid, pid, err)
				}
				out[tid], found = s, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("thread %d of %d: no Cpus_allowed_list in its status", tid, pid)
		}
	}
	return out, nil
}

// userHZ is the unit of /proc/stat's times: USER_HZ, 100 on Linux.
const userHZ = 100

// Busy returns the time the CPUs of s have spent busy since boot, summed
// over them, whatever ran: user, nice, system, irq, softirq and steal of
// their lines in /proc/stat (idle and iowait are not busy). Sampled twice,
// it says how busy a set of CPUs was between, with this process, the
// processes it measures and every other.
func Busy(s Set) (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu time of %s: %w", s, err)
	}
	return busy(string(b), s)
}

// busy reads the busy time of the CPUs of s from the text of /proc/stat.
func busy(stat string, s Set) (time.Duration, error) {
	var ticks int64
	found := 0
	for line := range strings.SplitSeq(stat, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		c, err := strconv.Atoi(f[0][3:])
		if err != nil || !s.Contains(c) {
			continue
		}
		found++
		// user nice system idle iowait irq softirq steal ...
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			n, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cpu time of %s: /proc/stat %s: %w", s, f[0], err)
			}
			ticks += n
		}
	}
	if found != len(s) {
		return 0, fmt.Errorf("cpu time of %s: %d of its CPUs in /proc/stat", s, found)
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
