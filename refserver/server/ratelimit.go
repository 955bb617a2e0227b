package server

import "time"

// rateLimiter bounds the frames one connection sends: a token bucket of
// Config.RateBurst frames refilled at Config.RateLimit a second, kept as the
// "theoretical arrival time" of the generic cell rate algorithm (GCRA), so
// it costs one int64 per connection and no allocation per frame.
type rateLimiter struct {
	// tat is when, on the limiter clock (nanoseconds), the bucket would be
	// full again; 0 for a connection that has sent nothing.
	tat int64
}

// limiterEpoch is the origin of the limiter clock. Durations from it keep
// Go's monotonic reading, so a wall-clock step neither grants nor takes
// away credit.
var limiterEpoch = time.Now()

// limiterNow returns t on the limiter clock, in nanoseconds.
func limiterNow(t time.Time) int64 { return int64(t.Sub(limiterEpoch)) }

// allow takes one frame arriving at now from the bucket and reports whether
// it was within the limit: perSecond frames a second sustained, burst at
// once. A refused frame takes nothing.
func (r *rateLimiter) allow(now int64, perSecond float64, burst int) bool {
	interval := int64(float64(time.Second) / perSecond)
	if interval < 1 {
		interval = 1
	}
	tat := r.tat
	if tat < now || tat == 0 { // 0: the first frame, whatever the clock
		tat = now
	}
	tat += interval
	if tat-now > int64(max(burst, 1))*interval {
		return false
	}
	r.tat = tat
	return true
}
