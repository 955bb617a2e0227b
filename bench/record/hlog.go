package record

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// LagName names the generator-lag log (lag.hlog) and its tag.
const LagName = "lag"

// Tag returns the .hlog tag of metric m's corrected or raw histogram:
// "delivery.corrected", "delivery.raw".
func Tag(m Metric, raw bool) string {
	if raw {
		return m.String() + ".raw"
	}
	return m.String() + ".corrected"
}

// LogFile returns the name of metric m's interval log in Config.Dir
// ("delivery.hlog").
func LogFile(m Metric) string { return m.String() + ".hlog" }

// logs are the interval logs of a run: one file per metric holding its
// corrected and raw histograms, and one for the generator's lag.
type logs struct {
	files [NumMetrics + 1]logFile // the last is the lag's
}

type logFile struct {
	f      *os.File
	w      *bufio.Writer
	baseMs int64 // interval times are written relative to it
}

// openLogs creates the logs in dir, with the standard header: format
// version, what the file holds, start and base time, legend. Interval
// timestamps are relative to the base time, the run's start in whole
// seconds (the resolution the header line has).
func openLogs(dir string, start time.Time) (_ *logs, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("interval logs: %w", err)
	}
	l := &logs{}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.close())
		}
	}()
	startMs := start.UnixMilli()
	baseMs := startMs - startMs%1000
	for i := range l.files {
		name, what := LagName+".hlog", "tag lag: how late the generator started each action"
		if i < NumMetrics {
			m := Metric(i)
			name = LogFile(m)
			what = fmt.Sprintf("tags %s (from the intended time) and %s (from the actual start)",
				Tag(m, false), Tag(m, true))
		}
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("interval log: %w", err)
		}
		w := bufio.NewWriter(f)
		l.files[i] = logFile{f: f, w: w, baseMs: baseMs}
		lw := hdrhistogram.NewHistogramLogWriter(w)
		lw.SetBaseTime(baseMs)
		err = errors.Join(
			lw.OutputLogFormatVersion(),
			lw.OutputComment(fmt.Sprintf("[swarmdesk bench interval log, %s; values in nanoseconds, interval max in milliseconds]", what)),
			lw.OutputStartTime(startMs),
			lw.OutputBaseTime(baseMs),
			lw.OutputLegend(),
			w.Flush(),
		)
		if err != nil {
			return nil, fmt.Errorf("interval log %s: %w", path, err)
		}
	}
	return l, nil
}

// put appends one interval histogram, from start to end, to log i (a
// metric's, or NumMetrics for the lag's): HdrHistogram's interval line
// (tag, start and length in seconds from the base time, max in
// milliseconds, the histogram's compressed V2 encoding), as the library's
// log writer formats it.
func (l *logs) put(i int, tag string, start, end time.Time, max int64, enc []byte) error {
	lf := l.files[i]
	s := float64(start.UnixMilli()-lf.baseMs) / 1000
	e := float64(end.UnixMilli()-lf.baseMs) / 1000
	if _, err := fmt.Fprintf(lf.w, "Tag=%s,%f,%f,%f,%s\n", tag, s, e-s, float64(max)/hdrhistogram.MsToNsRatio, enc); err != nil {
		return fmt.Errorf("interval log %s: %w", lf.f.Name(), err)
	}
	return nil
}

// flush writes what the logs buffer.
func (l *logs) flush() error {
	var errs []error
	for _, lf := range l.files {
		if err := lf.w.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("interval log %s: %w", lf.f.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// close flushes and closes every log.
func (l *logs) close() error {
	var errs []error
	for _, lf := range l.files {
		if lf.f == nil {
			continue
		}
		if err := lf.w.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("interval log %s: %w", lf.f.Name(), err))
		}
		if err := lf.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("interval log %s: %w", lf.f.Name(), err))
		}
	}
	return errors.Join(errs...)
}
