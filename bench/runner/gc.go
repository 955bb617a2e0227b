package runner

import (
	"os"
	"runtime/debug"
)

// GeneratorGC is the garbage collector's target percentage a run sets for
// bench itself (debug.SetGCPercent), unless the GOGC environment variable
// chooses one. A generator's heap is mostly long-lived: one small state
// per simulated customer and agent, and its links; what it allocates per
// message is little (the frames it decodes, the ledger's records). With
// Go's default of 100 the heap may reach twice what is live between
// collections, and that slack is most of bench's memory per customer; at
// 50 it is half as much, for collections twice as often, whose cost
// follows the small allocation rate (measured on connections: 3,226 B of
// RSS growth per idle customer at 100, 1,293 B at 50 before the behaviour
// state shrank, with CPU within the run-to-run spread). The embedded
// server, a child process, keeps its own setting.
const GeneratorGC = 50

// tuneGC sets GeneratorGC unless GOGC is set, and returns a function that
// restores the previous setting.
func tuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(GeneratorGC)
	return func() { debug.SetGCPercent(old) }
}
