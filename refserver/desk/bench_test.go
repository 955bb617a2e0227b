package desk

import (
	"fmt"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// BenchmarkMessageAssigned measures the desk's hottest path: a message in a
// conversation that has an agent (store, dedupe lookup, ack and delivery
// effects), over 1,000 open conversations.
func BenchmarkMessageAssigned(b *testing.B) {
	h := newHarness(&testing.T{})
	const convs = 1000
	h.agentOnline(ag1, convs)
	ids := make([]uint64, convs)
	custs := make([]Session, convs)
	for i := range ids {
		custs[i] = Session{User: fmt.Sprintf("c%d", i), Role: wire.RoleCustomer}
		ids[i] = h.open(custs[i])
		h.handoff(custs[i], ids[i])
	}
	body := make([]byte, 120)
	var m wire.Message
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % convs
		s := custs[k]
		if i&1 == 1 {
			s = ag1
		}
		m = wire.Message{ClientID: uint64(i + 1), Conv: ids[k], Kind: wire.KindText, Body: body}
		h.d.Message(h.now, s, &m, &h.fx)
		h.fx.Reset()
		h.now = h.now.Add(time.Microsecond)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "messages/s")
}
