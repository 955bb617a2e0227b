package netstd

import (
	"testing"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// TestFrameEnd: the end of the frame in flight is found from the bytes
// written, whatever part of it they cover.
func TestFrameEnd(t *testing.T) {
	var b []byte
	b = (&wire.Ping{Nonce: 1}).AppendFrame(b)
	first := len(b)
	b = (&wire.Pong{Nonce: 300}).AppendFrame(b)
	tests := []struct{ n, want int }{
		{0, 0},
		{1, first},
		{first - 1, first},
		{first, first},
		{first + 1, len(b)},
		{len(b), len(b)},
	}
	for _, tt := range tests {
		if got := frameEnd(b, tt.n); got != tt.want {
			t.Errorf("frameEnd(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
