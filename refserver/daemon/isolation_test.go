package daemon_test

import (
	"strings"
	"testing"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// TestTenantIsolationSupervisors: a supervisor of tenant acme can neither
// watch, read, write, close nor transfer a conversation of tenant demo, and
// an acme agent cannot hand its chat to a demo agent; the demo chat goes on
// untouched, seen by demo's own supervisor and by nobody of acme.
func TestTenantIsolationSupervisors(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	loadTenant(t, srv, "testdata/acme.yaml")

	// A demo chat with an agent, watched by demo's supervisor.
	da := connect(t, srv.Addr, wire.RoleAgent, "demo", "agent-demo", "console")
	online(t, da, 3)
	demoSup := connect(t, srv.Addr, wire.RoleSupervisor, "demo", "sup", "dashboard")
	check(t, demoSup.Send(&wire.Watch{}))
	barrier(t, demoSup)
	cust := connect(t, srv.Addr, wire.RoleCustomer, "demo", "cust", "phone")
	conv := openChat(t, cust)
	askPerson(t, cust, conv)
	expectAssigned(t, da, conv, "cust")
	barrier(t, demoSup)
	// chat checks the demo chat goes on: acked, delivered to the agent and
	// to demo's supervisor.
	chat := func(text string) {
		t.Helper()
		must(cust.Say(conv, text))
		must(rt.Expect[*wire.Ack](cust))
		if d := must(rt.Expect[*wire.Delivery](da)); string(d.Body) != text {
			t.Fatalf("demo agent got %q, want %q", d.Body, text)
		}
		if d := must(rt.Expect[*wire.Delivery](demoSup)); string(d.Body) != text {
			t.Fatalf("demo supervisor got %q, want %q", d.Body, text)
		}
	}
	chat("my card number is 4711")

	// acme's supervisor (same user name as demo's on purpose) watches all of acme.
	sup := connect(t, srv.Addr, wire.RoleSupervisor, "acme", "sup", "dashboard")
	check(t, sup.Send(&wire.Watch{}))
	if got := barrier(t, sup); len(got) != 0 {
		t.Fatalf("watch answered %+v", got)
	}

	refused := func(what string, m wire.Msg, code wire.Code, clientID uint64) {
		t.Helper()
		check(t, sup.Send(m))
		got := barrier(t, sup)
		if len(got) != 1 {
			t.Fatalf("%s: got %+v, want one error %d", what, got, code)
		}
		if e, ok := got[0].(*wire.Error); !ok || e.Code != code || e.ClientID != clientID {
			t.Fatalf("%s: got %+v, want error %d for client id %d", what, got[0], code, clientID)
		}
		chat("still here after " + what)
	}
	refused("write into demo's conversation", &wire.Message{ClientID: 21, Conv: conv, Kind: wire.KindText, Body: []byte("hi from acme")}, wire.CodeForbidden, 21)
	refused("close demo's conversation", &wire.Close{ClientID: 22, Conv: conv, Reason: "hijacked"}, wire.CodeForbidden, 22)
	refused("transfer demo's conversation", &wire.Transfer{ClientID: 23, Conv: conv, ToAgent: "agent-demo"}, wire.CodeForbidden, 23)
	// Reading is refused as for a conversation that does not exist, as
	// for an agent (TestTenantIsolation): nothing of it leaks.
	refused("resume demo's conversation", &wire.Resume{Points: []wire.ResumePoint{{Conv: conv}}}, wire.CodeForbidden, 0)
	// Group names resolve in the supervisor's own tenant: demo's "general"
	// does not exist in acme.
	refused("watch demo's group", &wire.Watch{Groups: []string{"general"}}, wire.CodeUnknownGroup, 0)

	// An acme agent with an acme chat cannot hand it to a demo-only agent:
	// agent names resolve in the agent's own tenant.
	aa := connect(t, srv.Addr, wire.RoleAgent, "acme", "acme-agent", "console")
	online2(t, aa, "support")
	ac := connect(t, srv.Addr, wire.RoleCustomer, "acme", "acme-cust", "phone")
	aconv := must(ac.Open(""))
	barrier(t, ac)
	check(t, ac.Send(&wire.Transfer{ClientID: ac.NextID(), Conv: aconv}))
	until[*wire.Assignment](t, ac)
	until[*wire.Assignment](t, aa)
	check(t, aa.Send(&wire.Transfer{ClientID: 31, Conv: aconv, ToAgent: "agent-demo"}))
	if e := must(rt.Expect[*wire.Error](aa)); e.Code != wire.CodeNoAgent || e.ClientID != 31 {
		t.Fatalf("transfer to another tenant's agent got %+v, want no-agent", e)
	}
	chat("still here after the transfer attempt")

	// Nothing of demo reached acme's supervisor (which does see acme's
	// own chat); nothing of acme reached demo.
	sawAcme := false
	for _, m := range barrier(t, sup) {
		switch m := m.(type) {
		case *wire.Delivery:
			if strings.Contains(string(m.Body), "card number") || strings.Contains(string(m.Body), "still here") {
				t.Fatalf("acme's supervisor received demo's %q", m.Body)
			}
			sawAcme = true
		case *wire.Assignment:
			if m.Customer == "cust" {
				t.Fatalf("acme's supervisor received demo's assignment %+v", m)
			}
		}
	}
	if !sawAcme {
		t.Fatal("acme's supervisor saw nothing of acme's own chat: is it watching at all?")
	}
	if extra := barrier(t, da); len(extra) != 0 {
		t.Fatalf("demo agent received %+v", extra)
	}
	if extra := barrier(t, cust); len(extra) != 0 {
		t.Fatalf("demo customer received %+v", extra)
	}
}

// online2 sets an agent online in group.
func online2(t *testing.T, c *rt.Client, group string) {
	t.Helper()
	check(t, c.Send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 2, Groups: []string{group}}))
	barrier(t, c)
}

// until reads c until a message of type T arrives and returns it.
func until[T wire.Msg](t *testing.T, c *rt.Client) T {
	t.Helper()
	v, _, err := rt.Until[T](c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
