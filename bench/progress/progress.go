// Package progress writes how a long command is getting on, for the person
// watching it: on a terminal, one status line rewritten in place and no
// wider than the terminal (at most Width columns); to a pipe or a file,
// plain lines, fewer of them, that a log keeps readable. Notices written
// through the Line (io.Writer) go above the status line.
//
// A Line is safe for concurrent use: the run's goroutines write notices
// while its ticker updates the status.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Width is the widest a status line is drawn on a terminal.
const Width = 100

// PipeEvery is how often a status goes to a pipe or file: a log line every
// ten seconds is enough to follow a run and short enough to read.
const PipeEvery = 10 * time.Second

// Line is a status line and the notices written around it.
type Line struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	width int
	every time.Duration
	last  time.Time // when a status was last written to a pipe
	shown string    // the status on screen (terminal), "" when none
	now   func() time.Time
}

// New returns a Line writing to w, drawn in place when w is a terminal.
func New(w io.Writer) *Line {
	l := &Line{w: w, width: Width, every: PipeEvery, now: time.Now}
	if f, ok := w.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			l.tty = true
			if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
				// One column short: a line that fills the last column makes
				// some terminals wrap before the carriage return.
				l.width = min(Width, int(ws.Col)-1)
			}
		}
	}
	return l
}

// NewPlain returns a Line that writes plain lines to w, a status at most
// every interval (every status when interval is 0), as to a pipe.
func NewPlain(w io.Writer, interval time.Duration) *Line {
	return &Line{w: w, width: Width, every: interval, now: time.Now}
}

// Terminal reports whether the line is drawn in place.
func (l *Line) Terminal() bool { return l.tty }

// Status shows s as the current status: in place on a terminal (cut to
// the width), as a plain line to a pipe when PipeEvery has passed since the
// last one.
func (l *Line) Status(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty {
		s = cut(s, l.width)
		fmt.Fprintf(l.w, "\r%s\x1b[K", s)
		l.shown = s
		return
	}
	if now := l.now(); l.last.IsZero() || now.Sub(l.last) >= l.every {
		l.last = now
		fmt.Fprintln(l.w, s)
	}
}

// Write writes a notice: above the status line on a terminal (which is
// drawn again under it), as it is to a pipe.
func (l *Line) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty && l.shown != "" {
		fmt.Fprint(l.w, "\r\x1b[K")
	}
	n, err := l.w.Write(p)
	if l.tty && l.shown != "" {
		fmt.Fprint(l.w, l.shown)
	}
	return n, err
}

// Done ends the status line: on a terminal it stays on screen and the
// cursor moves under it; a pipe gets s as the last status whatever the
// time. s "" keeps the status shown.
func (l *Line) Done(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty {
		if s != "" {
			l.shown = cut(s, l.width)
			fmt.Fprintf(l.w, "\r%s\x1b[K", l.shown)
		}
		if l.shown != "" {
			fmt.Fprintln(l.w)
		}
		l.shown = ""
		return
	}
	if s != "" {
		fmt.Fprintln(l.w, s)
	}
}

// cut shortens s to width runes.
func cut(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// Estimate says how long is left of a job done fraction of the way after
// elapsed, for a status line ("~2m10s left"); "" before there is anything
// to go on.
func Estimate(elapsed time.Duration, fraction float64) string {
	if fraction <= 0.01 || elapsed < time.Second {
		return ""
	}
	if fraction >= 1 {
		return "finishing"
	}
	left := time.Duration(float64(elapsed) * (1 - fraction) / fraction)
	return "~" + Duration(left) + " left"
}

// Duration writes d shortly, to the second: "42s", "2m10s", "1h05m".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Join joins the non-empty fields of a status with two spaces.
func Join(fields ...string) string {
	var b strings.Builder
	for _, f := range fields {
		if f == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("  ")
		}
		b.WriteString(f)
	}
	return b.String()
}
