package conform_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/swarmdesk/swarmdesk/bench/conform"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, rt.LeakOptions()...) }

// run runs the suite against addr and logs the report.
func run(t *testing.T, cfg conform.Config) *conform.Report {
	t.Helper()
	rep := conform.Run(context.Background(), cfg)
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", b.String())
	return rep
}

// TestRefserver: a real refserver passes every case; with the demo tenant,
// which is open, the token cases are skipped and say why.
//
// It runs against every design refserver has: gnet and netstd over long
// connections, poll over the HTTP binding.
func TestRefserver(t *testing.T) {
	for _, design := range []struct{ transport, scheme string }{{"gnet", "tcp://"}, {"netstd", "tcp://"}, {"poll", "http://"}} {
		t.Run(design.transport, func(t *testing.T) { refserver(t, design.transport, design.scheme) })
	}
}

func refserver(t *testing.T, transport, scheme string) {
	srv := rt.NewServer(rt.WithTransport(transport))
	defer srv.Close()
	rep := run(t, conform.Config{Target: scheme + srv.Addr})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(rep.Cases), len(conform.Names()); got != want {
		t.Fatalf("%d cases ran, want %d", got, want)
	}
	for _, c := range rep.Cases {
		token := strings.HasPrefix(c.Name, "tokens/")
		switch {
		case token && (c.Status != conform.Skip || !strings.Contains(c.Skipped, "open")):
			t.Errorf("%s: %s %q, want skipped because the tenant is open", c.Name, c.Status, c.Skipped)
		case !token && c.Status != conform.Pass:
			t.Errorf("%s: %s", c.Name, c.Status)
		}
	}
}

// lockedTenant is a tenant whose hellos need a token.
const lockedTenant = `id: locked
name: Locked shop
secret: conform-test-secret-0123456789
default_group: general
groups:
  - name: general
  - name: presales
menu:
  title: How can we help?
  items:
    - {id: "1", label: Opening hours, answer: hours}
    - {id: "0", label: Talk to a person, handoff: general}
knowledge:
  - id: hours
    questions: ["when are you open", "opening hours"]
    answer: We answer chats around the clock.
`

// TestRefserverTokens: against a tenant with a secret, every case passes,
// the token cases too; without the secret, the token cases are skipped
// and the others, refused at hello, fail.
func TestRefserverTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.yaml")
	if err := os.WriteFile(path, []byte(lockedTenant), 0o644); err != nil {
		t.Fatal(err)
	}
	// Over HTTP too: a session begins with the hello and its token.
	hsrv := rt.NewServer(rt.WithConfig(path), rt.WithTransport("poll"))
	defer hsrv.Close()
	srv := rt.NewServer(rt.WithConfig(path))
	defer srv.Close()
	for _, target := range []string{"tcp://" + srv.Addr, "http://" + hsrv.Addr} {
		rep := run(t, conform.Config{Target: target, Tenant: "locked", Secret: "conform-test-secret-0123456789"})
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Cases {
			if c.Status != conform.Pass {
				t.Errorf("%s: %s: %s", target, c.Name, c.Status)
			}
		}
	}

	rep := conform.Run(context.Background(), conform.Config{Target: srv.Addr, Tenant: "locked", Only: []string{"^customer/open$", "^tokens/valid$"}})
	var f *conform.Failure
	if !errors.As(rep.Err(), &f) || !slices.Equal(f.Names(), []string{"customer/open"}) {
		t.Fatalf("without the secret: %v, want customer/open failed (its hello refused)", rep.Err())
	}
	if !strings.Contains(rep.Err().Error(), "103") {
		t.Errorf("the failure does not say the hello was refused with 103:\n%v", rep.Err())
	}
}

// TestConfig: a bad target or filter is one failed case "config"; Only
// selects cases.
func TestConfig(t *testing.T) {
	for _, target := range []string{"", "localhost", "udp://x:1", "tcp://x:1/path", "http://"} {
		rep := conform.Run(context.Background(), conform.Config{Target: target})
		if len(rep.Cases) != 1 || rep.Cases[0].Name != "config" || rep.Err() == nil {
			t.Errorf("target %q: %+v, want one failed case config", target, rep.Cases)
		}
	}
	cfg := conform.Config{Target: "127.0.0.1:1", Only: []string{"("}}
	if err := cfg.Validate(); err == nil {
		t.Errorf("filter %q validated", cfg.Only)
	}
	cfg = conform.Config{Target: "127.0.0.1:1"}
	if err := conform.Probe(context.Background(), cfg); err == nil {
		t.Errorf("probe of a closed port succeeded")
	}
	cfg.Only = []string{"^session/", "dedupe"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := conform.Run(ctx, cfg)
	var f *conform.Failure
	if !errors.As(rep.Err(), &f) || len(f.Failed) != 8 || !strings.Contains(f.Failed[0].Problems[0], "not run: context canceled") {
		t.Errorf("an interrupted run: %v, want the 8 cases selected failed as not run", rep.Err())
	}
}
