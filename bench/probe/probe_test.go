package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

var hello = &wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "probe-test", Device: "phone"}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections and never writes.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = c.Read(make([]byte, 1<<16)); time.Sleep(5 * time.Second); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// offline is a resolver that asks no DNS server: a test reaches no address
// beyond loopback.
var offline = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS server in tests")
}}

// TestCheck probes what a user may point bench at: each failure names its
// cause, is classified, and comes back within a bound.
func TestCheck(t *testing.T) {
	gnetSrv := refservertest.NewServer()
	t.Cleanup(gnetSrv.Close)
	pollSrv := refservertest.NewServer(refservertest.WithTransport("poll"))
	t.Cleanup(pollSrv.Close)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "hello from a web server", http.StatusNotFound)
	}))
	t.Cleanup(web.Close)
	webAddr := strings.TrimPrefix(web.URL, "http://")

	for _, c := range []struct {
		name   string
		target Target
		want   error    // nil: a ready
		says   []string // what the error must say
	}{
		{"refserver over tcp", Target{Addr: gnetSrv.Addr}, nil, nil},
		{"refserver over http", Target{Addr: pollSrv.Addr, HTTP: true}, nil, nil},
		{"closed port", Target{Addr: closedPort(t)}, ErrUnreachable, []string{"connection refused", "nothing listens"}},
		{"closed port over http", Target{Addr: closedPort(t), HTTP: true}, ErrUnreachable, []string{"connection refused"}},
		{"unknown host", Target{Addr: "no-such-host.example:7400", Resolver: offline}, ErrUnreachable, []string{"unknown host", "no-such-host.example"}},
		{"http server as tcp", Target{Addr: webAddr}, ErrNotProtocol, []string{"HTTP", "--target http://" + webAddr}},
		{"http binding as tcp", Target{Addr: pollSrv.Addr}, ErrNotProtocol, []string{"HTTP", "--target http://" + pollSrv.Addr}},
		{"web server as http binding", Target{Addr: webAddr, HTTP: true}, ErrNotProtocol, []string{"404", "not the protocol's HTTP binding"}},
		{"frames as http", Target{Addr: gnetSrv.Addr, HTTP: true}, ErrNotProtocol, []string{"drop the scheme", "--target " + gnetSrv.Addr}},
		{"silent", Target{Addr: silentServer(t), Timeout: 500 * time.Millisecond}, ErrNotProtocol, []string{"answered no hello"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			ready, err := Check(context.Background(), c.target, hello)
			took := time.Since(start)
			if c.want == nil {
				if err != nil || ready == nil {
					t.Fatalf("got %v, want a ready", err)
				}
				return
			}
			t.Logf("%v (%v)", err, took.Round(time.Millisecond))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// Each step is bounded by the timeout: a dial, a hello, an HTTP
			// question. Not a latency assertion: a bound of the code's own.
			if bound := 4 * max(c.target.timeout(), DefaultTimeout); took > bound {
				t.Errorf("took %v, beyond the probe's own bound %v", took, bound)
			}
		})
	}
}

// TestCheckRefused: a protocol server that refuses the hello is named as
// such, with its code.
func TestCheckRefused(t *testing.T) {
	srv := refservertest.NewServer()
	t.Cleanup(srv.Close)
	h := *hello
	h.Tenant = "no-such-tenant"
	_, err := Check(context.Background(), Target{Addr: srv.Addr}, &h)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "103") {
		t.Fatalf("got %v, want a refusal with code 103", err)
	}
}
