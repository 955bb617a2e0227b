package render_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/reports"
	"github.com/swarmdesk/swarmdesk/reports/render"
)

// requireBrowserEnv, when set (CI sets it), makes a missing Chromium a
// failure rather than a skip.
const requireBrowserEnv = "SWARMDESK_BROWSER_TEST"

// chromium returns the path of a Chromium, or skips the test (fails it when
// requireBrowserEnv is set).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowserEnv) != "" {
		t.Fatalf("no chromium on PATH, and %s is set: install it with tools/install-chromium.sh", requireBrowserEnv)
	}
	t.Skip("no chromium on PATH: tools/install-chromium.sh installs Debian's")
	return ""
}

// TestReportInBrowser renders the smoke result's report, loads it in
// headless Chromium offline, 1200 pixels wide, takes a screenshot and finds
// every chart in it by its frame: the screenshot must hold as many frames
// as the report has charts, in page order, each holding an image of the
// chart's proportions with its data drawn in colour (axes and text are
// grey; a broken or blank image leaves no colour). The charts stand two
// side by side, a row holding charts of one group only. A control page
// whose first image is corrupted must fail that check for that chart
// alone, so the check can fail.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	res, err := reports.ReadFile(filepath.Join("testdata", "smoke.json"))
	if err != nil {
		t.Fatal(err)
	}
	runs := []render.Run{{Label: "smoke", Result: res}}
	charts, err := render.Charts(runs)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := render.HTML(&page, runs); err != nil {
		t.Fatal(err)
	}

	frames, drawn := screenshotCharts(t, bin, page.Bytes(), charts)
	for i, ok := range drawn {
		if !ok {
			t.Errorf("chart %s is not drawn", charts[i].Name)
		}
	}
	// Side by side: frames on one row share their top, and hold charts
	// of the same group.
	pairs := 0
	for i := 1; i < len(frames); i++ {
		if frames[i].Min.Y != frames[i-1].Min.Y {
			continue
		}
		pairs++
		if frames[i].Min.X <= frames[i-1].Max.X {
			t.Errorf("charts %s and %s overlap: %v, %v", charts[i-1].Name, charts[i].Name, frames[i-1], frames[i])
		}
		if charts[i].Group != charts[i-1].Group {
			t.Errorf("charts %s (%s) and %s (%s) share a row across groups", charts[i-1].Name, charts[i-1].Group, charts[i].Name, charts[i].Group)
		}
	}
	if pairs < len(charts)/3 {
		t.Errorf("%d pairs of charts side by side among %d charts: want two columns", pairs, len(charts))
	}

	// The control: the first chart's image replaced by bytes that are no
	// image at all.
	first := "data:" + charts[0].MIME + ";base64,"
	i := bytes.Index(page.Bytes(), []byte(first))
	if i < 0 {
		t.Fatalf("the page does not embed %s images as %q", charts[0].MIME, first)
	}
	j := i + len(first) + bytes.IndexByte(page.Bytes()[i+len(first):], '"')
	broken := append(append(append([]byte(nil), page.Bytes()[:i+len(first)]...), "AAAA"...), page.Bytes()[j:]...)
	_, drawn = screenshotCharts(t, bin, broken, charts)
	if drawn[0] {
		t.Error("control: a chart whose image is broken was judged drawn")
	}
	for i, ok := range drawn[1:] {
		if !ok {
			t.Errorf("control: chart %s is not drawn", charts[i+1].Name)
		}
	}
}

// screenshotCharts loads page in Chromium, 1200 pixels wide, screenshots
// it, finds the chart frames and returns them, top to bottom and left to
// right, and for each chart whether its image is drawn: its frame is at
// least 400 pixels wide and tall enough for the image at that width, and
// holds at least 200 pixels in colour. It fails the test unless there is
// exactly one frame per chart.
func screenshotCharts(t *testing.T, bin string, page []byte, charts []render.Chart) ([]image.Rectangle, []bool) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	// Tall enough for every chart, one per row, and the tables above them.
	height := 3000
	for _, c := range charts {
		height += c.Height + 120
	}
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--disable-extensions", "--disable-background-networking",
		"--force-device-scale-factor=1",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--window-size=1200,"+strconv.Itoa(height),
		"--screenshot="+shot,
		"file://"+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\nchromium said:\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}

	frames := findFrames(img, render.FrameColor)
	if len(frames) != len(charts) {
		t.Fatalf("screenshot shows %d chart frames, want %d (one per chart): %v", len(frames), len(charts), frames)
	}
	drawn := make([]bool, len(charts))
	for i, fr := range frames {
		c := charts[i]
		// The image fills the frame's width, less border and padding, at
		// the chart's proportions.
		inner := fr.Inset(1)
		n := colourPixels(img, inner)
		t.Logf("chart %-24s frame %v: %d pixels in colour", c.Name, fr, n)
		fits := fr.Dx() >= 400 && fr.Dy() >= (fr.Dx()-30)*c.Height/c.Width
		drawn[i] = fits && n >= 200
	}
	return frames, drawn
}

// findFrames returns the bounding boxes of the connected regions of pixels
// of exactly colour c, top to bottom, ignoring specks too small to be a
// chart's frame.
func findFrames(img image.Image, c color.RGBA) []image.Rectangle {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	is := func(x, y int) bool {
		r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B
	}
	seen := make([]bool, w*h)
	var frames []image.Rectangle
	var stack []int
	for y := range h {
		for x := range w {
			if seen[y*w+x] || !is(x, y) {
				continue
			}
			r := image.Rect(x, y, x+1, y+1)
			seen[y*w+x] = true
			stack = append(stack[:0], y*w+x)
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				px, py := p%w, p/w
				r = r.Union(image.Rect(px, py, px+1, py+1))
				for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					nx, ny := px+d[0], py+d[1]
					if nx < 0 || ny < 0 || nx >= w || ny >= h || seen[ny*w+nx] || !is(nx, ny) {
						continue
					}
					seen[ny*w+nx] = true
					stack = append(stack, ny*w+nx)
				}
			}
			if r.Dx() >= 100 && r.Dy() >= 50 {
				frames = append(frames, r.Add(b.Min))
			}
		}
	}
	return frames
}

// colourPixels counts the pixels in r that are clearly coloured (channels
// apart by more than 60), as data lines and bars are and axes, grid, text
// and background are not.
func colourPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			hi := max(cr, cg, cb) >> 8
			lo := min(cr, cg, cb) >> 8
			if hi-lo > 60 {
				n++
			}
		}
	}
	return n
}
