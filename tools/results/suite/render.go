package suite

import (
	"bytes"
	_ "embed"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed results.md.tmpl
var templateText string

// tmpl is RESULTS.md's template.
var tmpl = template.Must(template.New("results.md.tmpl").Funcs(funcs).Parse(templateText))

// Report is what the template renders: the figures of the entries that
// ran, each entry's command and status, and the §7 verdicts.
type Report struct {
	Figures
	// Targets are DESIGN.md §7's rows against the figures.
	Targets []Target
	// Quick is set when any entry ran with its --quick command.
	Quick bool
	// BuildBench is the command that built bin/bench.
	BuildBench string
	entries    map[string]*EntryView
}

// Entry returns the view of entry id; the template calls it with ids of
// the suite only, so an unknown id is a bug in the template.
func (r *Report) Entry(id string) *EntryView {
	e, ok := r.entries[id]
	if !ok {
		panic(fmt.Sprintf("template: no entry %q in the suite", id))
	}
	return e
}

// EntryView is an entry as the template shows it.
type EntryView struct {
	// ID and Title are the entry's.
	ID, Title string
	// Cmd is the command line that ran, or that would run.
	Cmd string
	// Ran reports whether its outputs are rendered; NotRun says why not.
	Ran    bool
	NotRun string
	// Quick marks an entry that ran its --quick command.
	Quick bool
	// Elsewhere is set when the entry's outputs are kept from an earlier
	// run than the machine entry's, or one at another commit: "commit
	// abc1234, 2026-11-20".
	Elsewhere string
}

// Status is "ran" or "not run (reason)".
func (e *EntryView) Status() string {
	if e.Ran {
		return "ran"
	}
	return "not run (" + e.NotRun + ")"
}

// Render renders RESULTS.md from the outputs in opts.Work, as its
// manifest records them. An entry recorded as run whose outputs are
// missing or unreadable is an error naming the entry and the file.
func Render(entries []Entry, opts Options) ([]byte, error) {
	opts = opts.withDefaults()
	work := opts.path(opts.Work)
	m := &Manifest{}
	if err := readJSON(filepath.Join(work, ManifestFile), m); err != nil {
		return nil, fmt.Errorf("%w: read the work directory's manifest (run the suite without --render-only first): %w", ErrUsage, err)
	}
	recs := map[string]*Record{}
	for i := range m.Entries {
		recs[m.Entries[i].ID] = &m.Entries[i]
	}
	r := &Report{BuildBench: shellQuote(BuildBench), entries: map[string]*EntryView{}}
	for _, e := range entries {
		rec := recs[e.ID]
		if rec == nil {
			rec = &Record{ID: e.ID, NotRun: "not in " + ManifestFile}
		}
		v := &EntryView{ID: e.ID, Title: e.Title, Ran: rec.Ran, NotRun: rec.NotRun, Quick: rec.Quick}
		switch {
		case rec.Ran && rec.Cmd != nil:
			v.Cmd = shellQuote(rec.Cmd)
		case e.Cmd != nil:
			v.Cmd = strings.ReplaceAll(shellQuote(expand(e.Cmd, filepath.Join(opts.Work, e.ID), nil)), "'{rate}'", "RATE")
		}
		if v.Ran && v.NotRun == "" {
			if err := e.parse(filepath.Join(work, e.ID), rec, &r.Figures); err != nil {
				return nil, err
			}
		}
		if v.Ran && v.Quick {
			r.Quick = true
		}
		r.entries[e.ID] = v
	}
	if r.Machine == nil {
		return nil, fmt.Errorf("%w: the manifest does not record the %s entry, which dates the results", ErrUsage, MachineID)
	}
	for _, e := range entries {
		rec, v := recs[e.ID], r.entries[e.ID]
		if rec == nil || !rec.Ran || e.ID == MachineID {
			continue
		}
		// Entries of this run start after the machine entry; one that
		// started before it was kept from an earlier run.
		if rec.Start.Before(r.Machine.Date) || rec.Commit != r.Machine.Commit || rec.Dirty != r.Machine.Dirty {
			c := "commit " + rec.Commit
			if rec.Dirty {
				c += " with uncommitted changes"
			}
			v.Elsewhere = c + ", " + rec.Start.UTC().Format("2006-01-02")
		}
	}
	r.Targets = targets(r)
	var b bytes.Buffer
	if err := tmpl.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	text := blankLines.ReplaceAllString(b.String(), "\n\n")
	text = cellSpace.ReplaceAllString(text, " |")
	return []byte(strings.TrimSpace(text) + "\n"), nil
}

// blankLines is a run of blank lines, which the template's conditional
// sections leave behind.
var blankLines = regexp.MustCompile(`\n(?:[ \t]*\n)+\n`)

// cellSpace is the space before a table cell's end, which optional
// sentences of a cell leave doubled.
var cellSpace = regexp.MustCompile(`[ \t]+\|`)
