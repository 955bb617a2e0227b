package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes the report as Markdown: the same runs, objectives and
// summary tables as the HTML page, with the time series condensed to a
// table per run in place of the charts. It has no images, so it reads
// well in a terminal, a pull request or a wiki.
func Markdown(w io.Writer, runs []Run) error {
	rs, err := prepare(runs)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# swarmdesk report: %s\n", mdEscape(joinLabels(rs)))
	for _, s := range sections(rs, true) {
		fmt.Fprintf(bw, "\n## %s\n", mdEscape(s.title))
		for _, b := range s.blocks {
			if b.title != "" {
				fmt.Fprintf(bw, "\n### %s\n", mdEscape(b.title))
			}
			if b.note != "" {
				fmt.Fprintf(bw, "\n%s\n", mdEscape(b.note))
			}
			if b.table != nil {
				bw.WriteString("\n")
				writeMDTable(bw, b.table)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render markdown: %w", err)
	}
	return nil
}

// writeMDTable writes a GitHub-flavoured Markdown table.
func writeMDTable(w *bufio.Writer, t *table) {
	w.WriteString("|")
	for _, h := range t.head {
		w.WriteString(" " + mdEscape(h) + " |")
	}
	w.WriteString("\n|")
	for _, num := range t.num {
		if num {
			w.WriteString("---:|")
		} else {
			w.WriteString("---|")
		}
	}
	w.WriteString("\n")
	for _, row := range t.rows {
		w.WriteString("|")
		for _, c := range row {
			text := mdEscape(c.text)
			switch c.kind {
			case pass:
				text = "✅ " + text
			case fail, noData:
				text = "❌ " + text
			case bad:
				text = "**" + text + "**"
			}
			w.WriteString(" " + text + " |")
		}
		w.WriteString("\n")
	}
}

// mdEscape makes text taken from a result safe inline Markdown: it cannot
// end a table cell, start emphasis, code or a link, or be read as an HTML
// tag or entity. Comparisons such as "p99 < 50ms" stay readable, since a
// "<" not followed by a letter, "/", "!" or "?" cannot start a tag.
func mdEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		var prev, next byte
		if i > 0 {
			prev = s[i-1]
		}
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch {
		case c == '\r' || c == '\n':
			b.WriteByte(' ')
		case c == '<' && (isLetter(next) || next == '/' || next == '!' || next == '?'):
			b.WriteString("&lt;")
		case c == '&' && (isLetter(next) || next == '#'):
			b.WriteString("&amp;")
		case c == '_' && isAlnum(prev) && isAlnum(next):
			// Inside a word (queue_wait) it cannot start emphasis.
			b.WriteByte(c)
		case strings.IndexByte("\\|*_`[]", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' }
