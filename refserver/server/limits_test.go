package server

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestConnBound(t *testing.T) {
	if n, err := ConnBound(7); err != nil || n != 7 {
		t.Fatalf("ConnBound(7) = %d, %v; want the configured 7", n, err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	n, err := ConnBound(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(lim.Cur) - FDReserve(int(lim.Cur)); n != want {
		t.Fatalf("ConnBound(0) = %d with RLIMIT_NOFILE %d; want %d", n, lim.Cur, want)
	}
	for _, tt := range []struct{ limit, reserve int }{{1024, 256}, {20000, 1000}, {1 << 20, 1 << 20 / 20}} {
		if got := FDReserve(tt.limit); got != tt.reserve {
			t.Errorf("FDReserve(%d) = %d, want %d", tt.limit, got, tt.reserve)
		}
	}
}

func TestSweepInterval(t *testing.T) {
	def := DefaultConfig()
	if got := SweepInterval(def); got != time.Second {
		t.Errorf("default sweep every %s, want 1s", got)
	}
	short := def
	short.FrameTimeout = 200 * time.Millisecond
	if got := SweepInterval(short); got != 50*time.Millisecond {
		t.Errorf("sweep every %s with a 200ms frame timeout, want 50ms", got)
	}
	short.FrameTimeout = 0 // none
	short.HelloTimeout = time.Millisecond
	if got := SweepInterval(short); got != 10*time.Millisecond {
		t.Errorf("sweep every %s with a 1ms hello timeout, want the 10ms floor", got)
	}
}
