package render

import (
	"errors"
	"fmt"
	"image/color"

	"github.com/swarmdesk/swarmdesk/reports"
)

// Run is one result to render and the label it is shown under in tables and
// legends. An empty Label is shown as "run N", N counting from 1.
type Run struct {
	// Label names the run on the page, for example the design or commit
	// it measured.
	Label string
	// Result is the run's result document.
	Result *reports.Result
}

// Chart is one drawn chart, ready to embed: the HTML page shows it inside a
// frame of FrameColor, and other reporters can save or embed it themselves.
type Chart struct {
	// Name is the chart's stable id ("spectrum-delivery", "throughput"):
	// the same input always gives the same names in the same order.
	Name string
	// Title is the chart's caption.
	Title string
	// Group is the ID of the ChartGroups entry the chart is shown under.
	Group string
	// Image is the encoded image.
	Image []byte
	// MIME is the image's media type: "image/svg+xml" for the charts this
	// package draws.
	MIME string
	// Width and Height are the size to show the image at, in CSS pixels.
	Width, Height int
}

// FrameColor is the colour of the thin frame drawn around every chart in
// the HTML page, and of nothing else on the page, so that a screenshot
// test can find the charts by it: a quiet blue-grey, so the frame holds
// the chart together without drawing the eye. Colour on the page is kept
// for meaning (the runs' lines, a verdict), and no chart draws in a grey
// with a tint.
var FrameColor = color.RGBA{R: 0xc9, G: 0xd1, B: 0xdc, A: 0xff}

// errNoRuns is returned when there is nothing to render.
var errNoRuns = errors.New("render: no runs")

// run is a Run checked and labelled.
type run struct {
	label string
	r     *reports.Result
}

// prepare checks runs and gives each its label.
func prepare(runs []Run) ([]run, error) {
	if len(runs) == 0 {
		return nil, errNoRuns
	}
	out := make([]run, len(runs))
	for i, r := range runs {
		if r.Result == nil {
			return nil, fmt.Errorf("render: run %d (%q): no result", i+1, r.Label)
		}
		label := r.Label
		if label == "" {
			label = fmt.Sprintf("run %d", i+1)
		}
		out[i] = run{label: label, r: r.Result}
	}
	return out, nil
}
