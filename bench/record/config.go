package record

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("record: invalid config")

// Config says what a Recorder tracks and where its interval logs go. It
// comes from the scenario and flags; DefaultConfig gives the defaults.
type Config struct {
	// Lowest is the smallest latency told apart from zero (the histograms'
	// lowest discernible value). Default 1µs.
	Lowest time.Duration
	// Highest is the largest latency recorded as itself; longer ones are
	// recorded as Highest and counted out of range. Default 1 hour.
	Highest time.Duration
	// Digits is the number of significant decimal digits kept, 1 to 5.
	// Default 3: a recorded value is within 0.1% of the true one.
	Digits int
	// Interval is the length of a recording interval: one .hlog entry per
	// metric and one time-series point per interval. Default 1s.
	Interval time.Duration
	// Dir is where the interval logs go, one <metric>.hlog per metric and
	// lag.hlog; empty writes none.
	Dir string
	// LateBound is how late an action may start before it counts as late.
	// Default 25ms: on a 2-core machine running the server beside the
	// generator, OS scheduling alone delays timers by up to ~20ms now and
	// then (GC pauses measured under 1ms), so a tighter bound invalidates
	// healthy runs. Lateness under the bound is not hidden: latencies are
	// measured from the intended time.
	LateBound time.Duration
	// MaxLateFraction is the share of late or dropped actions, out of all
	// scheduled ones, beyond which the run is invalid; above 0, never less
	// than one action, so a run of under 100 actions allows one. Default
	// 0.01.
	MaxLateFraction float64
	// MaxChats is the highest agent concurrency whose reply latency gets its
	// own histogram; replies at higher concurrency are counted at MaxChats.
	// Default 64.
	MaxChats int
	// CutOff is how shortly before the end of the run (Recorder.Close) a
	// message may have been sent and, still in flight then, count as cut
	// off rather than lost or unacked (reports.Messages.CutOff): the run
	// gave it too little time to tell late from lost. In the recorder's
	// clock, as Interval. 0 means ten intervals: ten wall seconds in bench
	// run, whose interval is a wall second, far beyond any delivery a
	// scenario's objectives accept.
	CutOff time.Duration
}

// cutOff returns c.CutOff, or its default.
func (c Config) cutOff() time.Duration {
	if c.CutOff > 0 {
		return c.CutOff
	}
	return 10 * c.Interval
}

// DefaultConfig returns the defaults: 1µs to 1 hour at 3 significant
// digits, 1s intervals, no interval logs, actions late after 10ms, invalid
// beyond 1% late.
func DefaultConfig() Config {
	return Config{
		Lowest:          time.Microsecond,
		Highest:         time.Hour,
		Digits:          3,
		Interval:        time.Second,
		LateBound:       25 * time.Millisecond,
		MaxLateFraction: 0.01,
		MaxChats:        64,
	}
}

// Validate reports every problem with c, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.Lowest <= 0 {
		bad("lowest %v: must be positive", c.Lowest)
	}
	if c.Highest < 2*c.Lowest {
		bad("highest %v: must be at least twice lowest %v", c.Highest, c.Lowest)
	}
	if c.Digits < 1 || c.Digits > 5 {
		bad("digits %d: must be 1 to 5", c.Digits)
	}
	if c.Interval <= 0 {
		bad("interval %v: must be positive", c.Interval)
	}
	if c.LateBound < 0 {
		bad("late bound %v: must not be negative", c.LateBound)
	}
	if !(c.MaxLateFraction >= 0 && c.MaxLateFraction <= 1) {
		bad("max late fraction %g: must be 0 to 1", c.MaxLateFraction)
	}
	if c.MaxChats < 1 {
		bad("max chats %d: must be at least 1", c.MaxChats)
	}
	if c.CutOff < 0 {
		bad("cut off %v: must not be negative", c.CutOff)
	}
	return errors.Join(errs...)
}
