package render

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// HTML writes the report as one self-contained HTML page: the runs, their
// objectives, the summary tables and the charts Charts returns, in that
// order, each chart framed in FrameColor. The page loads nothing: its style
// is inline, it has no scripts, and the charts are data: URIs.
func HTML(w io.Writer, runs []Run) error {
	rs, err := prepare(runs)
	if err != nil {
		return err
	}
	charts, err := Charts(runs)
	if err != nil {
		return err
	}
	page := htmlPage{
		Title: "swarmdesk report: " + joinLabels(rs),
		Style: template.CSS(strings.ReplaceAll(pageStyle, "FRAME", hexColor(FrameColor))),
	}
	for _, s := range sections(rs, false) {
		page.Sections = append(page.Sections, htmlSectionOf(s))
	}
	for _, c := range charts {
		page.Charts = append(page.Charts, htmlChart{
			Chart: c,
			// The attribute is ours: a media type and base64, no quote or
			// markup. Trusting it spares the escaping of every "+".
			Src: template.HTMLAttr(`src="data:` + c.MIME + ";base64," + base64.StdEncoding.EncodeToString(c.Image) + `"`),
		})
	}
	if err := pageTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// joinLabels lists the runs' labels.
func joinLabels(runs []run) string {
	labels := make([]string, len(runs))
	for i, r := range runs {
		labels[i] = r.label
	}
	return strings.Join(labels, ", ")
}

type htmlPage struct {
	Title    string
	Style    template.CSS
	Sections []htmlSection
	Charts   []htmlChart
}

type htmlSection struct {
	ID, Title string
	Blocks    []htmlBlock
}

type htmlBlock struct {
	Title, Note string
	Table       *htmlTable
}

type htmlTable struct {
	Head []htmlCell
	Rows [][]htmlCell
}

type htmlCell struct {
	Text, Class string
}

type htmlChart struct {
	Chart
	Src template.HTMLAttr
}

// htmlSectionOf turns a section into the template's data, with each cell's
// class (numbers right-aligned, verdicts coloured).
func htmlSectionOf(s section) htmlSection {
	hs := htmlSection{ID: s.id, Title: s.title}
	for _, b := range s.blocks {
		hb := htmlBlock{Title: b.title, Note: b.note}
		if t := b.table; t != nil {
			ht := &htmlTable{}
			for i, h := range t.head {
				ht.Head = append(ht.Head, htmlCell{Text: h, Class: numClass(t.num[i])})
			}
			for _, row := range t.rows {
				var hr []htmlCell
				for i, c := range row {
					class := strings.TrimSpace(numClass(i < len(t.num) && t.num[i]) + " " + c.kind.class())
					hr = append(hr, htmlCell{Text: c.text, Class: class})
				}
				ht.Rows = append(ht.Rows, hr)
			}
			hb.Table = ht
		}
		hs.Blocks = append(hs.Blocks, hb)
	}
	return hs
}

func numClass(num bool) string {
	if num {
		return "num"
	}
	return ""
}

// pageStyle is the page's whole style sheet; FRAME stands for FrameColor,
// which nothing but the charts' frames may use.
const pageStyle = `
*{box-sizing:border-box}
html{background:#fff}
body{margin:0;background:#fff;color:#1f1f1f;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1000px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 16px}
h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid #d0d0d0}
h3{font-size:15px;margin:18px 0 6px}
p.note{color:#555;margin:6px 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:4px 0 12px;font-size:13px}
th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pass{color:#1b6e2a;font-weight:600}
.fail{color:#8b0000;font-weight:600}
.bad{color:#8b0000;font-weight:600}
figure.chart{display:block;box-sizing:content-box;width:fit-content;margin:16px 0 24px;padding:10px;border:3px solid FRAME;background:#fff}
figure.chart img{display:block;max-width:none}
figure.chart figcaption{margin-top:6px;font-weight:600;color:#1f1f1f}
`

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Blocks}}{{if .Title}}<h3>{{.Title}}</h3>
{{end}}{{if .Note}}<p class="note">{{.Note}}</p>
{{end}}{{with .Table}}<div class="scroll"><table>
<thead><tr>{{range .Head}}<th{{with .Class}} class="{{.}}"{{end}}>{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td{{with .Class}} class="{{.}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{end}}</section>
{{end}}<section id="charts">
<h2>Charts</h2>
{{range .Charts}}<figure class="chart" id="chart-{{.Name}}">
<img {{.Src}} width="{{.Width}}" height="{{.Height}}" alt="{{.Title}}">
<figcaption>{{.Title}}</figcaption>
</figure>
{{end}}</section>
</main>
</body>
</html>
`))
