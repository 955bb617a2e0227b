// Package render turns bench result documents (reports.Result) into the
// report a capacity planner reads: one self-contained HTML page, or the same
// content as Markdown tables.
//
// A report shows one or more runs side by side: every table has a row (or,
// for objectives, a column) per run and every chart overlays the runs, one
// colour per run, with a legend under the plot naming them when there is
// more than one. The page needs nothing but itself: no scripts, no web
// fonts, no external stylesheets or images. The charts are drawn with
// gonum/plot as SVG images embedded as data: URIs. Their text is drawn as
// the outlines of the plot's own font (Liberation Sans, built into
// gonum/plot), each glyph defined once per chart, so a chart renders the
// same in every browser without any font installed or fetched, stays sharp
// at any zoom, and costs a fraction of the time and size of a PNG.
//
// # The page
//
// A contents list links to each part: the runs (with their wall and
// scenario time, machine, and a tally of their objectives' verdicts), the
// objectives (PASS, FAIL or NO DATA, with what was measured in its unit),
// the summary tables, and the charts, grouped as ChartGroups lists them.
// Latencies are written at a human scale (reports.FormatMs): milliseconds
// for the network, seconds and minutes for people.
//
// # Charts
//
// Charts returns the charts in page order, group by group, and HTML draws
// exactly those:
//
//   - latency: latency-over-time (the p99 of delivery and ack per interval),
//     only when some run has interval latencies of either; then
//     spectrum-<metric>, the latency percentile spectrum of each network
//     metric that recorded a value in any run, sorted by name, corrected
//     latency as a solid line, raw dashed in the same colour;
//   - traffic: throughput and connections, always, even when a run has no
//     time series, so that the page's layout depends on little;
//   - waits: queue, always; queue-wait, only when some run has interval
//     latencies of queue_wait; then the spectra of the human-scale metrics
//     (queue_wait, first_reply, agent_reply, session), as above;
//   - agents: agent-concurrency, only when some run has an agent
//     concurrency distribution; reply-by-concurrency, only when some run has
//     agent reply latencies by concurrency;
//   - errors: errors, always.
//
// # Axes
//
// A latency axis is linear, in the unit that suits its highest value (ms,
// s or min, named on the axis), unless the overlaid runs are more than 10×
// apart (their medians or their p99s): then it is logarithmic, says "log
// scale", and labels each power of ten in its own unit ("100µs", "10ms",
// "1s"). A time series' x axis is the recorder's clock, scenario time: the
// axis says so, "simulated time" for bench sim results, and the time scale
// against the wall clock when every run has the same.
//
// # The frame contract
//
// The charts of a group stand in a grid of columns at least 560 CSS pixels
// wide: two side by side on a wide screen, one on a narrow one. Every chart
// on the HTML page is a <figure class="chart" id="chart-NAME"> with a
// 1px solid border of FrameColor, a white background and a little padding
// around its <figcaption> (the chart's title, above) and an <img> whose
// width and height attributes are the Chart's and which fills the figure's
// width at those proportions. Nothing else on the page uses FrameColor, not
// even inside the charts, so a screenshot test can find them by their
// frames.
package render
