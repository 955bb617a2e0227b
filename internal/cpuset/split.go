package cpuset

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Split divides the CPUs allowed between bench and the server it measures
// on the same machine, the default of bench run with an embedded server:
// bench takes the lower-numbered half, rounded down, and the server the
// rest, so that with an odd count the server, the process measured, gets
// the larger half (bench must cost less than the server: DESIGN.md §7).
// Where cores says which CPUs are SMT siblings of one physical core, the
// halves are made of whole cores, so that bench and the server do not
// share a core's execution units: bench takes each whole core, from the
// lowest, that still fits in its half. When no whole core fits (one core
// of two threads), the CPUs are halved by number regardless.
//
// With fewer than two CPUs there is nothing to split: ok is false.
func Split(allowed Set, cores []Set) (bench, server Set, ok bool) {
	n := len(allowed)
	if n < 2 {
		return nil, nil, false
	}
	want := n / 2
	if groups := coreGroups(allowed, cores); len(groups) >= 2 {
		for _, g := range groups {
			if len(bench)+len(g) > want {
				continue
			}
			bench = append(bench, g...)
		}
		if len(bench) > 0 {
			bench = normal(bench)
			return bench, allowed.Minus(bench), true
		}
	}
	bench = slices.Clone(allowed[:want])
	return bench, allowed.Minus(bench), true
}

// coreGroups returns the physical cores of allowed, each as the CPUs of it
// allowed, ordered by their lowest CPU; nil unless cores covers every
// allowed CPU exactly once.
func coreGroups(allowed Set, cores []Set) []Set {
	var groups []Set
	seen := Set{}
	for _, c := range cores {
		g := c.And(allowed)
		if len(g) == 0 || slices.ContainsFunc(groups, g.Equal) {
			continue
		}
		if len(g.And(seen)) > 0 {
			return nil // overlapping cores: not a topology
		}
		seen = seen.Or(g)
		groups = append(groups, g)
	}
	if !seen.Equal(allowed) {
		return nil
	}
	slices.SortFunc(groups, func(a, b Set) int { return a[0] - b[0] })
	return groups
}

// Cores reads which of the CPUs in s share a physical core, from
// /sys/devices/system/cpu/cpuN/topology (core_cpus_list, or the older
// thread_siblings_list): one Set per core. It returns nil when the
// topology cannot be read; Split then halves the CPUs by number.
func Cores(s Set) []Set {
	var out []Set
	for _, c := range s {
		var list []byte
		var err error
		for _, name := range []string{"core_cpus_list", "thread_siblings_list"} {
			if list, err = os.ReadFile(fmt.Sprintf("/sys/devices/system/cpu/cpu%d/topology/%s", c, name)); err == nil {
				break
			}
		}
		if err != nil {
			return nil
		}
		core, err := Parse(strings.TrimSpace(string(list)))
		if err != nil {
			return nil
		}
		if !slices.ContainsFunc(out, core.Equal) {
			out = append(out, core)
		}
	}
	return out
}
