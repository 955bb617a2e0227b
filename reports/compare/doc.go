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
// lower is better). When each side has at least Options.MinRuns runs that
// recorded the metric, the sample is one value per run, that run's
// whole-run percentile: the runs are independent, which is what the test
// assumes. With fewer, the row is inconclusive: its sample is then one value
// per recording interval, the interval's percentile as the result's series
// holds it, over every interval with at least Options.MinIntervalCount
// values and at least 5 values above the percentile
// (reports.PercentileSamples: 500 for a p99, 50 for a p90; an interval's p99
// of fewer is its maximum or near it, which swings whatever the build),
// pooled over the side's runs; and what those intervals show is kept as the
// row's Suggests, a hint of what to repeat, never a verdict, because the
// intervals of one run are not independent (a slow minute makes several
// slow intervals, and the test's p-value is then far too small).
//
// Resources: server.cpu_seconds, server.peak_rss_bytes and
// generator.cpu_seconds (lower is better), one value per run only; with
// fewer than MinRuns runs on a side the row is inconclusive. A resource that
// is zero in a run was not sampled there (a server measured over the
// network, for example), and that run is left out.
//
// Counts: messages.lost, messages.duplicated, messages.reordered,
// messages.unacked and errors.total (all error codes added up) are not
// statistics: a count that was 0 in every base run and is above 0 in any new
// run is a regression whatever the thresholds say, and runs.invalid counts
// the runs marked invalid, any of them on the new side being a regression.
// Options.Metrics does not filter counts: a lost message is never noise.
//
// # The verdict
//
// A Report's verdict is one of three:
//
//   - regression: a row regressed (a latency or resource judged on runs, a
//     count that was 0, an invalid new run). Counts need no statistics, so
//     a lost message is a regression even with one run a side.
//   - inconclusive: nothing regressed, but a side has fewer than MinRuns
//     runs, or no latency or resource had MinRuns runs on both sides to be
//     judged on. Report.Reason says why and how many runs are needed. One
//     run a side is always inconclusive unless a count regressed: "no
//     regression" from one run is a claim the data cannot carry.
//   - no regression: every other case. Rows that could not be judged (a
//     metric recorded in too few runs) are named in the verdict line.
//
// bench compare exits 0 on no regression, 1 on a regression and 2 when the
// verdict is inconclusive, as for any other setup that cannot answer the
// question (bad usage, unreadable results): a CI gate that runs too few
// runs fails loudly instead of passing on no evidence.
//
// # Sides of different kinds
//
// Compare refuses sides of different scenarios (ErrScenario), and a bench
// sim result against a run on real connections, or a side mixing them
// (ErrMixed), unless Options.AllowMixed: a simulation's latencies are in
// virtual time with no network latency and no server process, so every row
// would differ by construction and the verdict would describe the mode, not
// the build. Sides of different transports (tcp against HTTP polling),
// machines (reports.Host.Differs) or servers (the embedded refserver
// against a --target) are compared, since comparing designs and machines
// is a question people ask, but Report.Mixed says how they differ, and the
// Markdown puts it under the verdict: the verdict then answers that
// question, not whether a build regressed.
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
