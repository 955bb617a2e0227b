package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestPlain checks that to a pipe a status is a plain line, at most one per
// interval, and notices pass through.
func TestPlain(t *testing.T) {
	var buf bytes.Buffer
	l := NewPlain(&buf, 10*time.Second)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	l.Status("one")
	now = now.Add(3 * time.Second)
	l.Status("two") // within the interval: not written
	_, _ = l.Write([]byte("notice\n"))
	now = now.Add(8 * time.Second)
	l.Status("three")
	l.Done("last")
	if got, want := buf.String(), "one\nnotice\nthree\nlast\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(buf.String(), "\r") || strings.Contains(buf.String(), "\x1b") {
		t.Error("control characters written to a pipe")
	}
}

// TestTerminal checks drawing in place: a status overwrites the last, is
// cut to the width, and a notice goes above it with the status drawn again.
func TestTerminal(t *testing.T) {
	var buf bytes.Buffer
	l := &Line{w: &buf, tty: true, width: 10, now: time.Now}
	l.Status("0123456789abcdef")
	_, _ = l.Write([]byte("note\n"))
	l.Status("short")
	l.Done("")
	want := "\r012345678…\x1b[K" + "\r\x1b[K" + "note\n" + "012345678…" + "\rshort\x1b[K" + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestEstimate checks the time left from the fraction done.
func TestEstimate(t *testing.T) {
	for _, c := range []struct {
		elapsed  time.Duration
		fraction float64
		want     string
	}{
		{30 * time.Second, 0.25, "~1m30s left"},
		{10 * time.Second, 0, ""},
		{10 * time.Second, 1, "finishing"},
		{2 * time.Hour, 0.5, "~2h00m left"},
	} {
		if got := Estimate(c.elapsed, c.fraction); got != c.want {
			t.Errorf("Estimate(%v, %g) = %q, want %q", c.elapsed, c.fraction, got, c.want)
		}
	}
	if got := Join("a", "", "b"); got != "a  b" {
		t.Errorf("Join = %q", got)
	}
}
