package daemon_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/desk"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// TestConcurrentRouting: many customers ask for a person at once while
// agents with small limits accept, chat and close. No agent ever holds more
// chats than its max, and no conversation is assigned twice.
//
// SWARMDESK_STRESS=1 scales it to 100 agents and 3,000 customers (about
// 6,200 descriptors in this process).
func TestConcurrentRouting(t *testing.T) {
	agents, customers := 8, 80
	if os.Getenv("SWARMDESK_STRESS") != "" {
		agents, customers = 100, 3000
	}
	srv := rt.NewServer()
	defer srv.Close()

	var (
		mu       sync.Mutex
		assigned = map[uint64]string{} // conversation → agent
		problems []string
	)
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}

	var agentsWG sync.WaitGroup
	agentConns := make([]*rt.Client, agents)
	for i := range agents {
		id := fmt.Sprintf("agent-%d", i)
		max := uint64(1 + i%3)
		c := connect(t, srv.Addr, wire.RoleAgent, "demo", id, "console")
		c.Timeout = time.Minute
		online(t, c, max)
		agentConns[i] = c
		agentsWG.Add(1)
		go func() {
			defer agentsWG.Done()
			active := map[uint64]bool{}
			for {
				m, err := c.Next()
				if err != nil {
					return // closed by the test
				}
				switch m := m.(type) {
				case *wire.Assignment:
					if active[m.Conv] {
						report("%s got conversation %d twice", id, m.Conv)
					}
					active[m.Conv] = true
					if uint64(len(active)) > max {
						report("%s holds %d chats, max %d", id, len(active), max)
					}
					mu.Lock()
					if prev, ok := assigned[m.Conv]; ok {
						problems = append(problems, fmt.Sprintf("conversation %d assigned to %s and to %s", m.Conv, prev, id))
					}
					assigned[m.Conv] = id
					mu.Unlock()
					if _, err := c.Say(m.Conv, "您好，我来帮您"); err != nil {
						report("%s: %v", id, err)
						return
					}
					if err := c.Send(&wire.Close{ClientID: c.NextID(), Conv: m.Conv, Reason: "resolved"}); err != nil {
						report("%s: %v", id, err)
						return
					}
				case *wire.Close:
					delete(active, m.Conv)
				case *wire.Error:
					report("%s got error %+v", id, m)
				}
			}
		}()
	}

	var wg sync.WaitGroup
	for i := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("cust-%d", i)
			c, _, err := rt.Connect(srv.Addr, wire.RoleCustomer, "demo", user, "phone")
			if err != nil {
				report("%s: %v", user, err)
				return
			}
			defer c.Close()
			c.Timeout = time.Minute
			conv, err := c.Open("")
			if err != nil {
				report("%s: %v", user, err)
				return
			}
			if _, err := c.Say(conv, "转人工"); err != nil {
				report("%s: %v", user, err)
				return
			}
			// Read until the agent closes the chat.
			for {
				m, err := c.Next()
				if err != nil {
					report("%s waiting for its chat to end: %v", user, err)
					return
				}
				if cl, ok := m.(*wire.Close); ok && cl.Conv == conv {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range agentConns {
		c.Close()
	}
	agentsWG.Wait()

	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d customers served by %d agents", len(assigned), agents)
	if len(assigned) != customers {
		t.Errorf("%d conversations assigned, want %d", len(assigned), customers)
	}
	// The server agrees: every agent is back to no chats.
	err := srv.Core().WithDesk("demo", func(d *desk.Desk) {
		for _, id := range d.Agents() {
			if a, ok := d.Router().Agent(id); ok && a.Active != 0 {
				t.Errorf("server: %s still holds %d chats", id, a.Active)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
