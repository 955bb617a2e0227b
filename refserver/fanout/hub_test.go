package fanout

import (
	"fmt"
	"sync"
	"testing"

	"github.com/swarmdesk/swarmdesk/refserver/desk"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// fakeConn queues copies of frames as a transport does, with a bound.
type fakeConn struct {
	mu      sync.Mutex
	pending []byte
	frames  int
	limit   int
}

func (c *fakeConn) Send(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit > 0 && len(c.pending)+len(frame) > c.limit {
		return false
	}
	c.pending = append(c.pending, frame...)
	c.frames++
	return true
}

func (c *fakeConn) drain() { c.mu.Lock(); c.pending = c.pending[:0]; c.mu.Unlock() }

func TestDeliverAudiences(t *testing.T) {
	h := NewHub()
	phone, web, agent, sup, other := &fakeConn{}, &fakeConn{}, &fakeConn{}, &fakeConn{}, &fakeConn{}
	h.Add("t", "cust", wire.RoleCustomer, phone)
	h.Add("t", "cust", wire.RoleCustomer, web)
	h.Add("t", "agent", wire.RoleAgent, agent)
	h.Add("t", "sup", wire.RoleSupervisor, sup)
	h.Add("u", "cust", wire.RoleCustomer, other) // same user id, other tenant

	o := desk.Out{Audience: desk.ToMembers, Members: []string{"cust", "agent"}, Watchers: []string{"sup"},
		SkipOrigin: true, Type: wire.TDelivery, Delivery: wire.Delivery{Conv: 1, Seq: 1, Body: []byte("hi")}}
	r := h.Deliver("t", &o, phone)
	if r.Sent != 3 || phone.frames != 0 || web.frames != 1 || agent.frames != 1 || sup.frames != 1 || other.frames != 0 {
		t.Fatalf("members delivery: %+v phone=%d web=%d agent=%d sup=%d other=%d", r, phone.frames, web.frames, agent.frames, sup.frames, other.frames)
	}
	// Every recipient holds the same bytes: encoded once.
	want := o.Delivery.AppendFrame(nil)
	if string(web.pending) != string(want) || string(agent.pending) != string(want) {
		t.Fatal("recipients hold different bytes")
	}

	r = h.Broadcast("t", &wire.Broadcast{ID: 1, Kind: wire.KindText, Body: []byte("sale")})
	if r.Sent != 2 || phone.frames != 1 || web.frames != 2 || agent.frames != 1 || other.frames != 0 {
		t.Fatalf("broadcast reached %+v: phone=%d web=%d agent=%d other=%d", r, phone.frames, web.frames, agent.frames, other.frames)
	}

	if n := h.Remove("t", "cust", phone); n != 1 {
		t.Fatalf("after removing the phone, %d devices", n)
	}
	if n := h.Remove("t", "cust", web); n != 0 || h.Devices("t", "cust") != 0 {
		t.Fatalf("after removing both, %d devices", n)
	}

	slow := &fakeConn{limit: 4}
	h.Add("t", "slow", wire.RoleCustomer, slow)
	r = h.Deliver("t", &desk.Out{Audience: desk.ToUser, User: "slow", Type: wire.TDelivery, Delivery: o.Delivery}, nil)
	if r.Dropped != 1 || r.Sent != 0 {
		t.Fatalf("a connection over its bound: %+v, want one dropped", r)
	}
}

// BenchmarkDeliver measures one chat message fanned out to a customer with
// two devices, an agent and a supervisor: the hot path of a conversation.
func BenchmarkDeliver(b *testing.B) {
	h := NewHub()
	var conns []*fakeConn
	for _, u := range []string{"cust", "cust", "agent", "sup"} {
		c := &fakeConn{}
		conns = append(conns, c)
		h.Add("t", u, wire.RoleCustomer, c)
	}
	o := desk.Out{Audience: desk.ToMembers, Members: []string{"cust", "agent"}, Watchers: []string{"sup"},
		Type: wire.TDelivery, Delivery: wire.Delivery{Conv: 12345, Seq: 77, Sender: []byte("customer-000001"),
			SenderRole: wire.RoleCustomer, Kind: wire.KindText, ClientID: 9, ServerTime: 1, Body: make([]byte, 120)}}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += h.Deliver("t", &o, nil).Sent
		if n%4096 == 0 {
			for _, c := range conns {
				c.drain()
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkBroadcast measures a tenant broadcast to N connected customers:
// one encode, one queue copy per device.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			h := NewHub()
			conns := make([]*fakeConn, n)
			for i := range conns {
				conns[i] = &fakeConn{}
				h.Add("t", fmt.Sprintf("c%d", i), wire.RoleCustomer, conns[i])
			}
			m := &wire.Broadcast{ID: 1, Kind: wire.KindText, Body: make([]byte, 64)}
			b.ReportAllocs()
			total := 0
			for b.Loop() {
				total += h.Broadcast("t", m).Sent
				for _, c := range conns {
					c.drain()
				}
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
