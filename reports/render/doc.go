// Package render turns bench result documents (reports.Result) into the
// report a capacity planner reads: one self-contained HTML page, or the same
// content as Markdown tables.
//
// A report shows one or more runs side by side: every table has a row per
// run and every chart overlays the runs, one colour per run, with a legend
// naming them when there is more than one. The page needs nothing but
// itself: no scripts, no web fonts, no external stylesheets or images. The
// charts are drawn with gonum/plot as SVG images embedded as data: URIs.
// Their text is drawn as the outlines of the plot's own font (Liberation
// Sans, built into gonum/plot), each glyph defined once per chart, so a
// chart renders the same in every browser without any font installed or
// fetched, stays sharp at any zoom, and costs a fraction of the time and
// size of a PNG.
//
// # Charts
//
// Charts returns the charts in page order, and HTML draws exactly those:
//
//   - spectrum-<metric>: the latency percentile spectrum of each metric that
//     recorded a value in any run, sorted by metric name; corrected latency
//     as a solid line, raw dashed in the same colour;
//   - throughput, connections, errors: always, even when a run has no time
//     series, so that the page's layout depends on little;
//   - latency-over-time: only when some run has interval latencies of
//     delivery or ack;
//   - queue: always;
//   - queue-wait: only when some run has interval latencies of queue_wait;
//   - agent-concurrency: only when some run has an agent concurrency
//     distribution;
//   - reply-by-concurrency: only when some run has agent reply latencies by
//     concurrency.
//
// # The frame contract
//
// Every chart on the HTML page is a <figure class="chart" id="chart-NAME">
// framed by a solid 3px border of FrameColor, with a white background and
// 10px of padding around an <img> whose width and height attributes are
// the Chart's; the <figcaption> with the chart's title sits below the image,
// inside the frame (HTML puts a figure's caption inside the figure). The
// charts stand one per row. Nothing else on the page uses FrameColor, not
// even inside the charts, so a screenshot test can find them by their
// frames.
package render
