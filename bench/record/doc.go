// Package record measures a bench run while it happens: latencies in
// HdrHistograms, the generator's lag behind its schedule, errors, sessions,
// agent concurrency, and the correctness of every message (Ledger). It
// writes HdrHistogram interval logs as it goes and, at the end, fills the
// result document (reports.Result).
//
// # Latency
//
// Every metric (Connect ... AgentReply) has two histograms, as wrk2's
// --u_latency and scylla-bench's raw/co-fixed pair have: the corrected one
// measures from the time the action was meant to start, so a stalled
// server shows in the tail however long the generator had to wait to send
// (no coordinated omission); the raw one measures from the time it actually
// started. Values are nanoseconds, from Config.Lowest (1µs) to
// Config.Highest (1h) at Config.Digits (3) significant digits: nanoseconds
// because it is the unit HdrHistogram's log tools assume by default (an
// interval's max is written in milliseconds), with 1µs as the lowest
// discernible value so the histograms cost what microsecond ones would.
//
// # Recording without a shared lock
//
// Each event loop records into its own Shard, which no other writer
// touches, so the hot path takes no lock and shares no cache line: recording
// a latency is two histogram increments and two atomic adds on the shard's
// own counters, and allocates nothing once the metric is in use. The
// Recorder takes what the shards recorded at every interval boundary without
// stopping or messaging the loops, the way HdrHistogram's Java Recorder does
// with its WriterReaderPhaser: each Shard has two buffers; the Recorder
// points the writer at the other one, waits for the record in progress (if
// any) to finish, and reads the buffer the writer left. hdrhistogram-go has
// no such helper (its WindowedHistogram is unsynchronised), hence the small
// phaser here. The alternative, each loop handing its histograms over when
// told, would have the interval boundary depend on every loop's timer and
// queue; with the phaser one Tick cuts every shard at the same moment.
//
// A shard's buffers, like the Recorder's current interval and the run's
// total, are sparse histograms (hdrhistogram.PackedHistogram), allocated on
// a metric's first record, whose size follows the buckets in use: a few
// kilobytes where a dense histogram at the default range is about 200 KB.
// A record costs a few nanoseconds more than in a dense histogram (a
// binary search over the buckets in use; BenchmarkRecord 40 ns against
// 35); the interval's cut costs a sixth of what it did with dense buffers
// (BenchmarkTick, `go test -run '^$' -bench Tick ./bench/record`: 0.92 ms
// and 4 KB against 5.7 ms and 10 MB, which merged and cleared 200 KB
// per histogram), and the generator's memory no longer grows by megabytes
// when the first records of each metric arrive. Each interval histogram is
// encoded once, by a reports.Encoder that keeps its compressor, for both
// its log line and its point in the time series.
//
// # Interval logs
//
// With Config.Dir set, every interval (Config.Interval, 1s by default)
// appends each metric's interval histograms to <metric>.hlog, tagged
// "<metric>.corrected" and "<metric>.raw", and the lag histogram to
// lag.hlog, in the standard HdrHistogram log format (hdrhistogram-go's
// HistogramLogWriter), readable by HdrHistogram's HistogramLogReader and
// HistogramLogProcessor. The intervals of a log add up exactly to the
// histograms in the result document.
//
// # Generator lag
//
// ActionStarted records how late each scheduled action started; an action
// more than Config.LateBound late counts as late, one the generator gave up
// on (ActionDropped) as dropped, as k6 counts dropped iterations. When late
// and dropped actions pass Config.MaxLateFraction of all scheduled ones,
// Result marks the run invalid and says why: its corrected latencies then
// measure the generator as much as the server.
package record
