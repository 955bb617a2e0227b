package daemon_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// TestBadInput: each bad input gets an error frame with its code and a
// close, while a well-behaved client on the same server goes on.
func TestBadInput(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()

	bystander := connect(t, srv.Addr, wire.RoleCustomer, "demo", "bystander", "phone")
	conv := openChat(t, bystander)

	oversize := make([]byte, 4)
	binary.BigEndian.PutUint32(oversize, wire.DefaultMaxFrame+1)
	tests := []struct {
		name  string
		hello bool // say hello before sending raw
		raw   []byte
		code  wire.Code
	}{
		{"oversize frame, refused from its header", true, oversize, wire.CodeTooLarge},
		{"oversize before hello", false, oversize, wire.CodeTooLarge},
		{"garbage bytes", true, []byte{0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0x01}, wire.CodeUnknownType},
		{"malformed payload", true, []byte{0, 0, 0, 3, byte(wire.TMessage), 0x80, 0x80}, wire.CodeBadFrame},
		{"zero-length frame", true, []byte{0, 0, 0, 0}, wire.CodeBadFrame},
		{"message before hello", false, (&wire.Message{ClientID: 1, Conv: conv, Kind: wire.KindText, Body: []byte("hi")}).AppendFrame(nil), wire.CodeNotHello},
		{"second hello", true, (&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "x"}).AppendFrame(nil), wire.CodeDupHello},
		{"server-only message from a client", true, (&wire.Delivery{Conv: conv, Seq: 1}).AppendFrame(nil), wire.CodeBadFrame},
		{"unknown tenant", false, (&wire.Hello{Role: wire.RoleCustomer, Tenant: "nobody", User: "x"}).AppendFrame(nil), wire.CodeAuth},
		{"bot is not a role one connects as", false, (&wire.Hello{Role: wire.RoleBot, Tenant: "demo", User: "x"}).AppendFrame(nil), wire.CodeAuth},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := must(rt.Dial(srv.Addr))
			defer c.Close()
			if tt.hello {
				must(c.Hello(&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: fmt.Sprintf("hostile-%d", i)}))
			}
			must(c.Conn().Write(tt.raw))
			expectFault(t, c, tt.code)

			// The bystander is unaffected: its chat goes on.
			must(bystander.Say(conv, "还好吗"))
			if _, err := rt.Expect[*wire.Ack](bystander); err != nil {
				t.Fatalf("bystander after %s: %v", tt.name, err)
			}
			barrier(t, bystander)
		})
	}
}

// TestRequestErrors: refused requests get an error naming their client id
// and the connection goes on.
func TestRequestErrors(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	c := connect(t, srv.Addr, wire.RoleCustomer, "demo", "c", "phone")
	conv := openChat(t, c)
	tests := []struct {
		name string
		msg  wire.Msg
		code wire.Code
	}{
		{"unknown conversation", &wire.Message{ClientID: 11, Conv: 999999, Kind: wire.KindText, Body: []byte("x")}, wire.CodeForbidden},
		{"empty body", &wire.Message{ClientID: 12, Conv: conv, Kind: wire.KindText}, wire.CodeBadRequest},
		{"system kind from a client", &wire.Message{ClientID: 13, Conv: conv, Kind: wire.KindSystem, Body: []byte("x")}, wire.CodeBadRequest},
		{"customer sets agent status", &wire.AgentStatus{State: wire.AgentOnline, MaxChats: 3}, wire.CodeWrongRole},
		{"unknown group", &wire.Open{ClientID: 14, Group: "no-such-group"}, wire.CodeUnknownGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, c.Send(tt.msg))
			e := must(rt.Expect[*wire.Error](c))
			if e.Code != tt.code {
				t.Fatalf("error %+v, want code %d", e, tt.code)
			}
			barrier(t, c)
		})
	}
}

// TestTenantIsolation: an agent of tenant acme can neither read nor write
// a conversation of tenant demo, whatever id it names.
func TestTenantIsolation(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()
	loadTenant(t, srv, "testdata/acme.yaml")

	// A demo conversation with an agent.
	da := connect(t, srv.Addr, wire.RoleAgent, "demo", "agent-demo", "console")
	online(t, da, 3)
	cust := connect(t, srv.Addr, wire.RoleCustomer, "demo", "cust", "phone")
	conv := openChat(t, cust)
	askPerson(t, cust, conv)
	expectAssigned(t, da, conv, "cust")
	must(cust.Say(conv, "secret order 4711"))
	must(rt.Expect[*wire.Ack](cust))
	must(rt.Expect[*wire.Delivery](da))

	// The acme agent, same user name as the demo agent on purpose.
	intruder := connect(t, srv.Addr, wire.RoleAgent, "acme", "agent-demo", "console")
	online(t, intruder, 3)

	// Write: refused as forbidden, and nothing reaches the demo side.
	check(t, intruder.Send(&wire.Message{ClientID: 7, Conv: conv, Kind: wire.KindText, Body: []byte("hello from acme")}))
	if e := must(rt.Expect[*wire.Error](intruder)); e.Code != wire.CodeForbidden || e.ClientID != 7 {
		t.Fatalf("cross-tenant write got %+v, want forbidden", e)
	}
	// Read: a resume of the demo conversation yields no message.
	check(t, intruder.Send(&wire.Resume{Points: []wire.ResumePoint{{Conv: conv, Seq: 0}}}))
	got := barrier(t, intruder)
	for _, m := range got {
		if d, ok := m.(*wire.Delivery); ok {
			t.Fatalf("cross-tenant resume leaked %q", d.Body)
		}
	}
	if len(got) != 1 || got[0].(*wire.Error).Code != wire.CodeForbidden {
		t.Fatalf("cross-tenant resume got %+v, want one forbidden error (200), as for a conversation that does not exist", got)
	}
	// Close and transfer are refused too.
	check(t, intruder.Send(&wire.Close{ClientID: 8, Conv: conv}))
	if e := must(rt.Expect[*wire.Error](intruder)); e.Code != wire.CodeForbidden {
		t.Fatalf("cross-tenant close got %+v", e)
	}
	check(t, intruder.Send(&wire.Transfer{ClientID: 9, Conv: conv, ToAgent: "agent-demo"}))
	if e := must(rt.Expect[*wire.Error](intruder)); e.Code != wire.CodeForbidden {
		t.Fatalf("cross-tenant transfer got %+v", e)
	}
	// The demo side saw nothing of it, and its chat is intact.
	if extra := barrier(t, da); len(extra) != 0 {
		t.Fatalf("demo agent received %+v", extra)
	}
	if extra := barrier(t, cust); len(extra) != 0 {
		t.Fatalf("demo customer received %+v", extra)
	}
	// A supervisor of acme watching everything sees none of demo's traffic.
	sup := connect(t, srv.Addr, wire.RoleSupervisor, "acme", "sup", "dashboard")
	check(t, sup.Send(&wire.Watch{}))
	barrier(t, sup)
	must(cust.Say(conv, "more secrets"))
	must(rt.Expect[*wire.Ack](cust))
	must(rt.Expect[*wire.Delivery](da))
	if extra := barrier(t, sup); len(extra) != 0 {
		t.Fatalf("acme supervisor received demo traffic: %+v", extra)
	}
}

func loadTenant(t *testing.T, srv *rt.Server, path string) {
	t.Helper()
	doc := must(os.ReadFile(path))
	resp := must(http.Post(srv.AdminURL+"/admin/tenants", "application/yaml", bytes.NewReader(doc)))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("load tenant %s: %s: %s", path, resp.Status, body)
	}
}

// TestAdmin: health, metrics series, a broadcast reaching every device of
// every customer, and clear errors for bad admin requests.
func TestAdmin(t *testing.T) {
	srv := rt.NewServer()
	defer srv.Close()

	phone := connect(t, srv.Addr, wire.RoleCustomer, "demo", "bc", "phone")
	web := connect(t, srv.Addr, wire.RoleCustomer, "demo", "bc", "web")
	agent := connect(t, srv.Addr, wire.RoleAgent, "demo", "ba", "console")
	online(t, agent, 2)

	resp := must(http.Get(srv.AdminURL + "/healthz"))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %s", resp.Status)
	}

	resp = must(http.Post(srv.AdminURL+"/admin/broadcast", "application/json", strings.NewReader(`{"tenant":"demo","body":"双十一大促开始了"}`)))
	body := must(io.ReadAll(resp.Body))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"recipients":2`) {
		t.Fatalf("broadcast: %s %s", resp.Status, body)
	}
	for _, c := range []*rt.Client{phone, web} {
		b := must(rt.Expect[*wire.Broadcast](c))
		if string(b.Body) != "双十一大促开始了" {
			t.Fatalf("broadcast body %q", b.Body)
		}
	}
	if extra := barrier(t, agent); len(extra) != 0 {
		t.Fatalf("an agent received a customer broadcast: %+v", extra)
	}

	for _, bad := range []struct{ body, want string }{
		{`{"tenant":"nobody","body":"x"}`, "unknown tenant"},
		{`{"tenant":"demo","body":"x","extra":1}`, "unknown field"},
		{`{"tenant":"demo"}`, "empty body"},
	} {
		resp := must(http.Post(srv.AdminURL+"/admin/broadcast", "application/json", strings.NewReader(bad.body)))
		b := must(io.ReadAll(resp.Body))
		resp.Body.Close()
		if resp.StatusCode < 400 || !strings.Contains(string(b), bad.want) {
			t.Errorf("broadcast %s: %s %s, want an error about %q", bad.body, resp.Status, b, bad.want)
		}
	}
	resp = must(http.Post(srv.AdminURL+"/admin/tenants", "application/yaml", strings.NewReader("id: x\ngrops: []\n")))
	b := must(io.ReadAll(resp.Body))
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "grops") {
		t.Fatalf("bad tenant document: %s %s, want 400 naming the field", resp.Status, b)
	}

	resp = must(http.Get(srv.AdminURL + "/metrics"))
	metrics := string(must(io.ReadAll(resp.Body)))
	resp.Body.Close()
	for _, series := range []string{
		`swarmdesk_connections{role="customer"} 2`,
		`swarmdesk_connections{role="agent"} 1`,
		"swarmdesk_frames_in_total", "swarmdesk_frames_out_total", "swarmdesk_deliveries_total",
		`swarmdesk_queue_length{tenant="demo",group="general"}`, `swarmdesk_agent_chats{tenant="demo"}`,
		`swarmdesk_agent_capacity{tenant="demo"} 2`, `swarmdesk_bot_total{outcome="answered"}`,
		`swarmdesk_bot_total{outcome="handoff"}`, "swarmdesk_slow_reader_disconnects_total",
		"swarmdesk_broadcasts_total 1", "process_resident_memory_bytes",
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// TestShutdownTellsClients: on shutdown, queued frames are flushed and each
// client receives error 106 before its connection closes.
func TestShutdownTellsClients(t *testing.T) {
	srv := rt.NewServer()
	c := connect(t, srv.Addr, wire.RoleCustomer, "demo", "leaving", "phone")
	conv := openChat(t, c)
	must(c.Say(conv, "在吗"))
	must(rt.Expect[*wire.Ack](c))
	srv.Close()
	expectFault(t, c, wire.CodeShutdown)
}
