package swarm

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, refservertest.LeakOptions()...) }
