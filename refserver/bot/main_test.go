package bot

import (
	"testing"

	"go.uber.org/goleak"
)

// The bot starts no goroutines; goleak keeps it so.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
