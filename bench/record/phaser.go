package record

import (
	"math"
	"runtime"
	"sync/atomic"
)

// phaser lets one writer record without locks while a reader takes what it
// wrote, as HdrHistogram's Java WriterReaderPhaser does: the writer brackets
// each record with enter and exit (an atomic add each); the reader, having
// pointed the writer at the other buffer, calls flip, which returns once
// every record begun before it has finished. The buffer the writer left is
// then the reader's alone.
//
// The counters of an even phase count up from 0, those of an odd phase from
// math.MinInt64, so a writer's entry value tells which phase it entered.
type phaser struct {
	start   atomic.Int64
	evenEnd atomic.Int64
	oddEnd  atomic.Int64
}

// enter marks the start of a write and returns the value to pass to exit.
func (p *phaser) enter() int64 { return p.start.Add(1) - 1 }

// exit marks the end of the write that enter began.
func (p *phaser) exit(entered int64) {
	if entered < 0 {
		p.oddEnd.Add(1)
	} else {
		p.evenEnd.Add(1)
	}
}

// flip starts a new phase and waits for the writes of the old one to end.
// Readers must not call it concurrently.
func (p *phaser) flip() {
	nextEven := p.start.Load() < 0
	var initial int64
	if nextEven {
		initial = 0
		p.evenEnd.Store(0)
	} else {
		initial = math.MinInt64
		p.oddEnd.Store(math.MinInt64)
	}
	startAtFlip := p.start.Swap(initial)
	for {
		var done bool
		if nextEven {
			done = p.oddEnd.Load() == startAtFlip
		} else {
			done = p.evenEnd.Load() == startAtFlip
		}
		if done {
			return
		}
		// A write takes nanoseconds; a writer descheduled mid-write takes
		// a time slice.
		runtime.Gosched()
	}
}
