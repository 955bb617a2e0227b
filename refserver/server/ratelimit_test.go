package server

import (
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	const rate, burst = 10.0, 5 // a frame every 100ms, 5 at once
	var r rateLimiter
	t0 := limiterNow(time.Now())
	at := func(d time.Duration) int64 { return t0 + int64(d) }
	for i := range burst {
		if !r.allow(at(0), rate, burst) {
			t.Fatalf("frame %d of a burst of %d refused", i+1, burst)
		}
	}
	if r.allow(at(0), rate, burst) {
		t.Fatal("a frame over the burst was allowed")
	}
	if r.allow(at(50*time.Millisecond), rate, burst) {
		t.Fatal("a frame allowed before the bucket refilled one")
	}
	if !r.allow(at(100*time.Millisecond), rate, burst) {
		t.Fatal("a frame refused after the bucket refilled one")
	}
	if r.allow(at(100*time.Millisecond), rate, burst) {
		t.Fatal("two frames allowed for one refill")
	}
	// After a long silence, the bucket holds a burst, not more.
	allowed := 0
	for range 3 * burst {
		if r.allow(at(time.Hour), rate, burst) {
			allowed++
		}
	}
	if allowed != burst {
		t.Fatalf("after an hour's silence %d frames allowed at once, want %d", allowed, burst)
	}
	// Sustained at the rate: every frame allowed.
	for i := range 100 {
		if !r.allow(at(time.Hour+time.Duration(i+1)*100*time.Millisecond), rate, burst) {
			t.Fatalf("frame %d at the sustained rate refused", i)
		}
	}
	// A burst of 0 still lets one frame through per interval.
	var z rateLimiter
	if !z.allow(at(0), rate, 0) || z.allow(at(0), rate, 0) {
		t.Fatal("burst 0 should allow exactly one frame at once")
	}
}

func TestRateLimiterAllocs(t *testing.T) {
	var r rateLimiter
	now := limiterNow(time.Now())
	if a := testing.AllocsPerRun(1000, func() { now += 1e6; r.allow(now, 1000, 2000) }); a != 0 {
		t.Fatalf("allow allocates %.1f times per frame", a)
	}
}
