package server_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/swarmdesk/swarmdesk/refserver/server"
	"github.com/swarmdesk/swarmdesk/refserver/store"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz")

// The fuzzed server runs on a fixed clock, so the tokens of the seeds stay
// valid and a run is deterministic.
var (
	fuzzNow    = time.Unix(1_790_000_000, 0)
	vaultKey   = "vault-fuzz-secret-0123456789"
	tenantsMu  sync.Mutex
	tenantsRTs []*tenant.Runtime
)

// runtimes builds the fuzzed tenants once: demo (open) and vault (with a
// secret).
func runtimes(tb testing.TB) []*tenant.Runtime {
	tenantsMu.Lock()
	defer tenantsMu.Unlock()
	if tenantsRTs != nil {
		return tenantsRTs
	}
	demo, err := tenant.Build(tenant.Demo())
	if err != nil {
		tb.Fatal(err)
	}
	vc := tenant.Demo()
	vc.ID, vc.Secret = "vault", vaultKey
	vault, err := tenant.Build(vc)
	if err != nil {
		tb.Fatal(err)
	}
	tenantsRTs = []*tenant.Runtime{demo, vault}
	return tenantsRTs
}

// sink is a connection that keeps what the server sends it.
type sink struct {
	mu     sync.Mutex
	frames []byte
}

func (s *sink) Send(frame []byte) bool {
	s.mu.Lock()
	s.frames = append(s.frames, frame...)
	s.mu.Unlock()
	return true
}

// fuzzServer is a server with both tenants and an agent online in demo, so
// a fuzzed customer's handoff reaches a person.
func fuzzServer(tb testing.TB) (*server.Server, *server.Session, *sink) {
	cfg := server.DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 100, 50
	srv := server.New(cfg, store.NewMem(0), metrics.NewSet(), server.WithClock(func() time.Time { return fuzzNow }))
	for _, rt := range runtimes(tb) {
		if err := srv.LoadTenant(rt); err != nil {
			tb.Fatal(err)
		}
	}
	agent, out := &server.Session{}, &sink{}
	agent.Init(srv, out)
	for _, m := range []wire.Msg{
		&wire.Hello{Role: wire.RoleAgent, Tenant: "demo", User: "a1", Device: "console"},
		&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 5},
	} {
		if err := agent.Handle(m.AppendFrame(nil)[wire.HeaderSize:]); err != nil {
			tb.Fatal(err)
		}
	}
	return srv, agent, out
}

// FuzzSession feeds an arbitrary byte stream, as a transport would, to a
// session on a server without network: frames are split off the stream
// and handled in order until the first fault, then the session closes.
// Nothing may panic; Handle either succeeds or returns a *Fault with a
// connection-fatal (1xx) code; every frame the server sends, to the
// fuzzed client or the agent beside it, decodes; and once closed the
// session is unregistered.
func FuzzSession(f *testing.F) {
	for _, s := range sessionSeeds() {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { runStream(t, data) })
}

// runStream runs FuzzSession's checks on one stream and returns the fault
// that ended it (nil: none) and what the server sent the client and the
// agent.
func runStream(t *testing.T, data []byte) (fault *server.Fault, client, agent []byte) {
	srv, ag, agentOut := fuzzServer(t)
	defer srv.Close()
	ss, out := &server.Session{}, &sink{}
	ss.Init(srv, out)
	max := srv.Config().MaxFrame
	for fault == nil {
		body, n, err := wire.Split(data, max)
		if errors.Is(err, wire.ErrShort) {
			break // the transport waits for more
		}
		if err != nil {
			fault = server.AsFault(err)
			if !fault.Code.Fatal() {
				t.Fatalf("a frame error classified as %d", fault.Code)
			}
			break
		}
		data = data[n:]
		herr := ss.Handle(body)
		if herr == nil {
			continue
		}
		if !errors.As(herr, &fault) {
			t.Fatalf("Handle returned %T %v, want a *Fault", herr, herr)
		}
		if !fault.Code.Fatal() || fault.Text == "" {
			t.Fatalf("Handle's fault %d %q: want a 1xx code and a text", fault.Code, fault.Text)
		}
	}
	who := ss.Who()
	srv.Tick()
	ss.Closed()
	ag.Closed()
	checkFrames(t, "client", out.frames)
	checkFrames(t, "agent", agentOut.frames)
	if who.User != "" {
		for _, tn := range srv.Tenants() {
			if n := srv.Hub().Devices(tn, who.User); n != 0 {
				t.Fatalf("%s/%s has %d devices after its session closed", tn, who.User, n)
			}
		}
	}
	return fault, out.frames, agentOut.frames
}

// TestSessionSeeds runs FuzzSession's seeds and checks each ends as it
// should: the well-behaved ones reach deep (a chat assigned to the agent,
// a token accepted), the hostile ones get their codes.
func TestSessionSeeds(t *testing.T) {
	want := map[string]wire.Code{
		"forged-token": wire.CodeAuth, "before-hello": wire.CodeNotHello, "dup-hello": wire.CodeDupHello,
		"bad-text": wire.CodeBadText, "server-message": wire.CodeBadFrame, "flood": wire.CodeRateLimited,
		"unknown-type": wire.CodeUnknownType, "oversize": wire.CodeTooLarge,
	}
	for _, s := range sessionSeeds() {
		t.Run(s.name, func(t *testing.T) {
			fault, client, agent := runStream(t, s.data)
			var got wire.Code
			if fault != nil {
				got = fault.Code
			}
			if got != want[s.name] {
				t.Fatalf("ended with %+v, want code %d", fault, want[s.name])
			}
			switch s.name {
			case "chat-to-person":
				if !hasType(agent, wire.TAssignment) {
					t.Fatal("the agent was not assigned the chat")
				}
			case "token", "supervisor", "agent", "resume-on-hello":
				if !hasType(client, wire.TReady) {
					t.Fatal("hello not answered with ready")
				}
			}
		})
	}
}

func hasType(stream []byte, ty wire.Type) bool {
	for len(stream) > 0 {
		body, n, err := wire.Split(stream, wire.HardMaxFrame)
		if err != nil {
			return false
		}
		if wire.Type(body[0]) == ty {
			return true
		}
		stream = stream[n:]
	}
	return false
}

// checkFrames checks that what the server sent is whole frames that decode,
// and that its errors carry codes of the protocol.
func checkFrames(t *testing.T, who string, stream []byte) {
	t.Helper()
	for len(stream) > 0 {
		body, n, err := wire.Split(stream, wire.HardMaxFrame)
		if err != nil {
			t.Fatalf("the server sent the %s a bad frame: %v", who, err)
		}
		stream = stream[n:]
		m, err := wire.Decode(body)
		if err != nil {
			t.Fatalf("the server sent the %s a frame that does not decode: %v", who, err)
		}
		if e, ok := m.(*wire.Error); ok && !(e.Code >= wire.CodeBadFrame && e.Code <= wire.CodeBadText || e.Code >= wire.CodeForbidden && e.Code <= wire.CodeBusy) {
			t.Fatalf("the server sent the %s error code %d", who, e.Code)
		}
	}
}

type seed struct {
	name string
	msgs []wire.Msg
	raw  []byte // appended after msgs
}

func (s seed) stream() []byte {
	var b []byte
	for _, m := range s.msgs {
		b = m.AppendFrame(b)
	}
	return append(b, s.raw...)
}

// sessionSeeds are conversations a client may hold, well-behaved and not:
// each a stream of frames.
func sessionSeeds() []struct {
	name string
	data []byte
} {
	cust := &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c1", Device: "phone"}
	text := func(id, conv uint64, s string) *wire.Message {
		return &wire.Message{ClientID: id, Conv: conv, Kind: wire.KindText, Body: []byte(s)}
	}
	token := tenant.SignToken(vaultKey, "vault", wire.RoleCustomer, "v1", fuzzNow.Add(time.Hour))
	var flood []wire.Msg
	for i := range 60 {
		flood = append(flood, &wire.Ping{Nonce: uint64(i)})
	}
	seeds := []seed{
		{name: "chat-to-person", msgs: []wire.Msg{cust, &wire.Open{ClientID: 1, Channel: "app", Group: "general"},
			text(2, 1, "我的快递到哪里了"), text(3, 1, "转人工"), text(4, 1, "你好"), &wire.Ping{Nonce: 9},
			&wire.Close{ClientID: 5, Conv: 1, Reason: "resolved"}}},
		{name: "menu-and-retry", msgs: []wire.Msg{cust, &wire.Open{ClientID: 1, Channel: "app"},
			&wire.Message{ClientID: 2, Conv: 1, Kind: wire.KindMenuChoice, Body: []byte("1")},
			&wire.Message{ClientID: 2, Conv: 1, Kind: wire.KindMenuChoice, Body: []byte("1")},
			&wire.Transfer{ClientID: 3, Conv: 1}, &wire.Resume{Points: []wire.ResumePoint{{Conv: 1, Seq: 0}}}}},
		{name: "agent", msgs: []wire.Msg{&wire.Hello{Role: wire.RoleAgent, Tenant: "demo", User: "a2", Device: "console"},
			&wire.AgentStatus{State: wire.AgentOnline, MaxChats: 3, Groups: []string{"general"}},
			&wire.Transfer{ClientID: 1, Conv: 1, ToAgent: "a1"}, &wire.AgentStatus{State: wire.AgentAway}}},
		{name: "supervisor", msgs: []wire.Msg{&wire.Hello{Role: wire.RoleSupervisor, Tenant: "demo", User: "s1", Device: "web"},
			&wire.Watch{}, &wire.Watch{Groups: []string{"vip"}}, &wire.Message{ClientID: 1, Conv: 1, Kind: wire.KindText, Body: []byte("x")}}},
		{name: "token", msgs: []wire.Msg{&wire.Hello{Role: wire.RoleCustomer, Tenant: "vault", User: "v1", Token: token},
			&wire.Open{ClientID: 1, Channel: "web"}}},
		{name: "forged-token", msgs: []wire.Msg{&wire.Hello{Role: wire.RoleCustomer, Tenant: "vault", User: "v2", Token: token}}},
		{name: "resume-on-hello", msgs: []wire.Msg{&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c1", Resume: []wire.ResumePoint{{Conv: 1, Seq: 0}, {Conv: 9}}}}},
		{name: "before-hello", msgs: []wire.Msg{text(1, 1, "hi")}},
		{name: "dup-hello", msgs: []wire.Msg{cust, cust}},
		{name: "bad-text", msgs: []wire.Msg{cust, &wire.Open{ClientID: 1, Channel: "app"}, text(2, 1, "\xff\xfe")}},
		{name: "server-message", msgs: []wire.Msg{cust, &wire.Delivery{Conv: 1, Seq: 1}}},
		{name: "flood", msgs: append([]wire.Msg{cust}, flood...)},
		{name: "unknown-type", msgs: []wire.Msg{cust}, raw: []byte{0, 0, 0, 2, 99, 0}},
		{name: "oversize", msgs: []wire.Msg{cust}, raw: []byte{0, 1, 0, 1, byte(wire.TPing)}},
		{name: "partial", msgs: []wire.Msg{cust}, raw: []byte{0, 0, 0, 9, byte(wire.TMessage), 1}},
	}
	out := make([]struct {
		name string
		data []byte
	}, len(seeds))
	for i, s := range seeds {
		out[i].name, out[i].data = s.name, s.stream()
	}
	return out
}

// TestFuzzCorpus checks that testdata/fuzz/FuzzSession holds the seeds
// (rewritten by -update).
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzSession")
	for _, s := range sessionSeeds() {
		path := filepath.Join(dir, s.name)
		want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s.data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (go test ./refserver/server -run TestFuzzCorpus -update): %v", path, err)
		}
	}
}
