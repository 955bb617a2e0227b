package reports

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// ThisHost describes the machine the calling process runs on, for a
// result's Host.
func ThisHost() *Host {
	name, _ := os.Hostname() // an unnamed host is still described by the rest
	return &Host{
		Name: name, OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(),
	}
}

// cpuModel returns the processor's model name from /proc/cpuinfo, or ""
// where the system does not say.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Differs lists how h and o differ as machines (CPU model, CPU count,
// operating system and architecture, Go release); nil when they are alike
// or either is unknown. Host names are not compared: CI runners of one
// kind differ by name alone.
func (h *Host) Differs(o *Host) []string {
	if h == nil || o == nil {
		return nil
	}
	var d []string
	if h.CPUModel != o.CPUModel {
		d = append(d, "cpu "+quoteOrNone(h.CPUModel)+" against "+quoteOrNone(o.CPUModel))
	}
	if h.CPUs != o.CPUs {
		d = append(d, "cpus "+strconv.Itoa(h.CPUs)+" against "+strconv.Itoa(o.CPUs))
	}
	if h.OS != o.OS || h.Arch != o.Arch {
		d = append(d, h.OS+"/"+h.Arch+" against "+o.OS+"/"+o.Arch)
	}
	if h.GoVersion != o.GoVersion {
		d = append(d, h.GoVersion+" against "+o.GoVersion)
	}
	return d
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return `"` + s + `"`
}
