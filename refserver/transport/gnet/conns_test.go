package gnet

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/refserver/server"
)

func TestConnBound(t *testing.T) {
	if n, err := connBound(7); err != nil || n != 7 {
		t.Fatalf("connBound(7) = %d, %v; want the configured 7", n, err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	n, err := connBound(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(lim.Cur) - fdReserve(int(lim.Cur)); n != want {
		t.Fatalf("connBound(0) = %d with RLIMIT_NOFILE %d; want %d", n, lim.Cur, want)
	}
	for _, tt := range []struct{ limit, reserve int }{{1024, 256}, {20000, 1000}, {1 << 20, 1 << 20 / 20}} {
		if got := fdReserve(tt.limit); got != tt.reserve {
			t.Errorf("fdReserve(%d) = %d, want %d", tt.limit, got, tt.reserve)
		}
	}
}

func TestSweepInterval(t *testing.T) {
	def := server.DefaultConfig()
	if got := sweepInterval(def); got != time.Second {
		t.Errorf("default sweep every %s, want 1s", got)
	}
	short := def
	short.FrameTimeout = 200 * time.Millisecond
	if got := sweepInterval(short); got != 50*time.Millisecond {
		t.Errorf("sweep every %s with a 200ms frame timeout, want 50ms", got)
	}
	short.FrameTimeout = 0 // none
	short.HelloTimeout = time.Millisecond
	if got := sweepInterval(short); got != 10*time.Millisecond {
		t.Errorf("sweep every %s with a 1ms hello timeout, want the 10ms floor", got)
	}
}
