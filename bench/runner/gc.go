package runner

import (
	"os"
	"runtime/debug"
)

// GeneratorGC is the garbage collector's target percentage a run sets for
// bench itself (debug.SetGCPercent), unless the GOGC environment variable
// chooses one. A generator's heap is mostly long-lived: one small state
// per simulated customer and agent, its link and its ledger entry, about
// 570 bytes an idle customer; what it allocates per message is little
// (decoded frames, the ledger's records: about 3 MB a second at smoke's
// half load). With Go's default of 100 the heap may grow to twice what is
// live between collections, and that slack was most of bench's memory per
// customer. Measured with `GOGC=N bench run connections` (15,000 idle
// customers, RSS growth per customer): 3,226 B at 100 before the rest of
// the diet, then 1,144 B at 50 and 942 B at 35; with `GOGC=N bench run
// smoke --rate 44` the generator's CPU was 5.92 CPU-s at 50 and 5.63 at
// 35, within its run-to-run spread, since collections follow the small
// allocation rate. The embedded server, a child process, keeps its own
// setting.
const GeneratorGC = 35

// tuneGC sets GeneratorGC unless GOGC is set, and returns a function that
// restores the previous setting.
func tuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(GeneratorGC)
	return func() { debug.SetGCPercent(old) }
}
