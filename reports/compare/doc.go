// Package compare tells whether a set of bench runs is worse than another
// beyond noise: the engine of bench compare BASE NEW and of CI regression
// gates.
//
// Each side is a Set: the results of repeated runs of one scenario (Load
// reads a result file or a directory of them). Compare judges each metric as
// benchstat does: the median of the side's sample with a confidence
// interval, and the Mann–Whitney U test for a difference, with no
// assumption about the distribution (golang.org/x/perf/benchmath's
// AssumeNothing). A difference is significant when the test's p-value is
// below Options.Alpha. Because a large sample makes a tiny change
// significant, a change also has to exceed a minimum relevant size
// (Options.MinChange, or a per-metric threshold) to count as a regression
// or an improvement.
//
// # What is compared
//
// Latencies: p50, p90 and p99 of the corrected latency of every metric both
// sides recorded (rows "delivery.p50", "delivery.p90", ...; milliseconds;
// lower is better). When each side has at least Options.MinRuns runs, the
// sample is one value per run, that run's whole-run percentile: the runs
// are independent, which is what the test assumes. With fewer runs the
// sample is one value per recording interval, the interval's percentile as
// the result's series holds it, over every interval with at least
// Options.MinIntervalCount values and at least 5 values above the
// percentile (so 500 for a p99, 50 for a p90: an interval's p99 of fewer is
// its maximum or near it, which swings whatever the build), pooled over the
// side's runs. Intervals of
// one run are not independent (a slow minute makes several slow
// intervals), so such a comparison is weaker evidence and the report says
// so; a side with fewer than MinRuns intervals is "too few samples" and
// never a regression.
//
// Resources: server.cpu_seconds, server.peak_rss_bytes and
// generator.cpu_seconds (lower is better), one value per run only; with
// fewer than MinRuns runs on a side the row is "too few samples". A
// resource that is zero in a run was not sampled there (a server measured
// over the network, for example), and that run is left out.
//
// Counts: messages.lost, messages.duplicated, messages.reordered,
// messages.unacked and errors.total (all error codes added up) are not
// statistics: a count that was 0 in every base run and is above 0 in any new
// run is a regression whatever the thresholds say, and runs.invalid counts
// the runs marked invalid, any of them on the new side being a regression.
// Options.Metrics does not filter counts: a lost message is never noise.
//
// # Thresholds
//
// A threshold is a minimum relevant relative change, keyed by row
// ("delivery.p99") or by metric name ("delivery", every percentile of it).
// ParseThreshold reads the form of a command-line flag, "key=10%" or
// "key=0.1"; LoadThresholds reads a file of such lines, where "#" starts a
// comment and blank lines are ignored:
//
//	# delivery tails are noisy on shared runners
//	delivery.p99 = 10%
//	server.peak_rss_bytes = 0.02
//
// # Output
//
// Report.Markdown writes a summary for a GitHub job summary or a pull
// request: the verdict, one table row per metric, and the warnings.
// Report.JSON writes the Report itself; its fields carry the JSON names of
// their tags. A confidence bound that does not exist (too few values for an
// interval at the requested confidence) is infinite in Go and null in JSON.
package compare
