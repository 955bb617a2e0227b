package render

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// HTML writes the report as one self-contained HTML page: a contents list,
// the runs, their objectives, the summary tables, and the charts Charts
// returns, grouped as ChartGroups says and laid out side by side where
// the screen is wide enough, each in a thin frame of FrameColor. The page
// loads nothing: its style is inline, it has no scripts, and the charts
// are data: URIs.
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
		hs := htmlSectionOf(s)
		page.Sections = append(page.Sections, hs)
		entry := tocEntry{ID: hs.ID, Title: hs.Title}
		for _, b := range hs.Blocks {
			if b.ID != "" {
				entry.Subs = append(entry.Subs, tocEntry{ID: b.ID, Title: b.Short})
			}
		}
		page.Contents = append(page.Contents, entry)
	}
	chartsEntry := tocEntry{ID: "charts", Title: "Charts"}
	for _, g := range ChartGroups {
		hg := htmlGroup{ID: "charts-" + g.ID, Title: g.Title, Note: g.Note}
		for _, c := range charts {
			if c.Group != g.ID {
				continue
			}
			hg.Charts = append(hg.Charts, htmlChart{
				Chart: c,
				// The attribute is ours: a media type and base64, no quote
				// or markup. Trusting it spares the escaping of every "+".
				Src: template.HTMLAttr(`src="data:` + c.MIME + ";base64," + base64.StdEncoding.EncodeToString(c.Image) + `"`),
			})
		}
		if len(hg.Charts) > 0 {
			page.Groups = append(page.Groups, hg)
			chartsEntry.Subs = append(chartsEntry.Subs, tocEntry{ID: hg.ID, Title: shortTitle(g.Title)})
		}
	}
	page.Contents = append(page.Contents, chartsEntry)
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

// shortTitle is a heading as the contents list shows it: up to its first
// parenthesis or colon.
func shortTitle(title string) string {
	if i := strings.IndexAny(title, "(:"); i > 0 {
		return strings.TrimSpace(title[:i])
	}
	return title
}

type htmlPage struct {
	Title    string
	Style    template.CSS
	Contents []tocEntry
	Sections []htmlSection
	Groups   []htmlGroup
}

// tocEntry is a line of the contents list: a link to a section and to
// its parts.
type tocEntry struct {
	ID, Title string
	Subs      []tocEntry
}

type htmlSection struct {
	ID, Title string
	Blocks    []htmlBlock
}

type htmlBlock struct {
	// ID is the block's anchor, "" for a block without a title.
	ID, Title, Short, Note string
	Table                  *htmlTable
}

type htmlTable struct {
	Head []htmlCell
	Rows [][]htmlCell
}

type htmlCell struct {
	Text, Class string
}

// htmlGroup is a group of charts under one heading.
type htmlGroup struct {
	ID, Title, Note string
	Charts          []htmlChart
}

type htmlChart struct {
	Chart
	Src template.HTMLAttr
}

// htmlSectionOf turns a section into the template's data, with each cell's
// class (numbers right-aligned, verdicts coloured) and each titled block's
// anchor, prefixed by the section's id.
func htmlSectionOf(s section) htmlSection {
	hs := htmlSection{ID: s.id, Title: s.title}
	for _, b := range s.blocks {
		hb := htmlBlock{Title: b.title, Short: shortTitle(b.title), Note: b.note}
		if b.title != "" && b.id != "" {
			hb.ID = s.id + "-" + b.id
		}
		if t := b.table; t != nil {
			ht := &htmlTable{}
			for i, h := range t.head {
				ht.Head = append(ht.Head, htmlCell{Text: h, Class: numClass(t.num[i])})
			}
			for _, row := range t.rows {
				var hr []htmlCell
				for i, c := range row {
					num := i < len(t.num) && t.num[i]
					class := strings.TrimSpace(numClass(num) + " " + c.kind.class())
					if num && strings.Count(c.text, " ") > 2 {
						// Words, not a figure (why an objective has no
						// verdict): wrapped within the cell's width.
						class = strings.TrimSpace(class + " words")
					}
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
// which nothing but the charts' frames may use. Colour is for meaning:
// the verdicts, and the runs' lines in the charts.
const pageStyle = `
*{box-sizing:border-box}
html{background:#fff}
body{margin:0;background:#fff;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1360px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 12px}
h2{font-size:18px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #d0d0d0}
h3{font-size:15px;margin:14px 0 6px}
a{color:#0b5cad;text-decoration:none}
a:hover{text-decoration:underline}
nav.contents{background:#f6f8fa;padding:8px 16px;margin:0 0 8px}
nav.contents h2{font-size:15px;margin:4px 0;padding:0;border:0}
nav.contents ol{margin:0;padding-left:20px}
nav.contents li{margin:2px 0}
nav.contents .subs a{margin-right:10px;white-space:nowrap}
nav.contents .subs::before{content:":"}
p.note{color:#57606a;margin:4px 0 10px}
.blocks{display:flex;flex-wrap:wrap;gap:0 36px;align-items:flex-start}
.block{max-width:100%}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:4px 0 12px;font-size:13px}
th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:left;vertical-align:top;max-width:22em}
th{background:#f2f2f2;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.num.words{white-space:normal;text-align:left}
.pass{color:#1a7f37;font-weight:600}
.fail{color:#b3261e;font-weight:600}
.nodata{color:#9a6700;font-weight:600}
.bad{color:#b3261e;font-weight:600}
section.group{margin-top:8px}
section.group h3{font-size:16px;margin:22px 0 2px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:16px}
figure.chart{margin:0;padding:8px 10px 6px;border:1px solid FRAME;background:#fff;min-width:0}
figure.chart figcaption{margin:0 0 4px;font-weight:600}
figure.chart img{display:block;width:100%;height:auto}
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
<nav class="contents" id="contents">
<h2>Contents</h2>
<ol>
{{range .Contents}}<li><a href="#{{.ID}}">{{.Title}}</a>{{with .Subs}}<span class="subs">{{range .}} <a href="#{{.ID}}">{{.Title}}</a>{{end}}</span>{{end}}</li>
{{end}}</ol>
</nav>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
<div class="blocks">
{{range .Blocks}}<div class="block"{{with .ID}} id="{{.}}"{{end}}>
{{if .Title}}<h3>{{.Title}}</h3>
{{end}}{{if .Note}}<p class="note">{{.Note}}</p>
{{end}}{{with .Table}}<div class="scroll"><table>
<thead><tr>{{range .Head}}<th{{with .Class}} class="{{.}}"{{end}}>{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td{{with .Class}} class="{{.}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}</div>
{{end}}</div>
</section>
{{end}}<section id="charts">
<h2>Charts</h2>
{{range .Groups}}<section class="group" id="{{.ID}}">
<h3>{{.Title}}</h3>
<p class="note">{{.Note}}</p>
<div class="grid">
{{range .Charts}}<figure class="chart" id="chart-{{.Name}}">
<figcaption>{{.Title}}</figcaption>
<img {{.Src}} width="{{.Width}}" height="{{.Height}}" alt="{{.Title}}">
</figure>
{{end}}</div>
</section>
{{end}}</section>
</main>
</body>
</html>
`))
