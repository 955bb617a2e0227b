package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTargetNotThere: bench run and bench conform pointed at a closed port,
// an unknown host or an HTTP server exit 2 within seconds, naming the cause
// and, for the HTTP server, the scheme to use; a run leaves no results
// directory behind.
func TestTargetNotThere(t *testing.T) {
	// No DNS server is asked: host names not in /etc/hosts are unknown.
	saved := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS server in tests")
	}}
	t.Cleanup(func() { net.DefaultResolver = saved })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not here", http.StatusNotFound)
	}))
	t.Cleanup(web.Close)
	webAddr := strings.TrimPrefix(web.URL, "http://")

	for _, c := range []struct {
		name, target string
		says         []string
	}{
		{"closed port", closed, []string{"connection refused", "nothing listens on " + closed}},
		{"unknown host", "no-such-host.example:7400", []string{"unknown host", "no-such-host.example"}},
		{"http server", webAddr, []string{"HTTP", "use --target http://" + webAddr}},
		{"http server, http binding", "http://" + webAddr, []string{"404", "not the protocol's HTTP binding"}},
	} {
		for _, cmd := range []string{"run", "conform"} {
			t.Run(cmd+"/"+c.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "results")
				args := []string{cmd, "--target", c.target}
				if cmd == "run" {
					args = append(args, "--out", out)
				}
				var stdout, stderr bytes.Buffer
				start := time.Now()
				code, err := run(args, &stdout, &stderr)
				took := time.Since(start)
				if code != 2 || err == nil {
					t.Fatalf("exit %d, %v; want 2 and an error", code, err)
				}
				for _, s := range c.says {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				// The probe's steps are each bounded by 3s; the whole run
				// would take minutes.
				if took > 10*time.Second {
					t.Errorf("took %v, want the probe's few seconds", took)
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("results directory left behind: %v", err)
				}
			})
		}
	}
}
