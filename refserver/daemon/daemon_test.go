package daemon_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/swarmdesk/swarmdesk/refserver/daemon"
)

func testOptions(config string) daemon.Options {
	o := daemon.DefaultOptions()
	o.Listen, o.Admin, o.Loops, o.ConfigFile = "127.0.0.1:0", "", 1, config
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return o
}

// TestConfigFile: --config serves the file's tenant instead of the demo.
func TestConfigFile(t *testing.T) {
	d, err := daemon.Start(testOptions("testdata/acme.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	}()
	if got := d.Server().Tenants(); len(got) != 1 || got[0] != "acme" {
		t.Fatalf("tenants %v, want [acme]", got)
	}
}

// TestBadConfigFile: a bad tenant file stops startup with an error naming
// the file, the line and the field.
func TestBadConfigFile(t *testing.T) {
	d, err := daemon.Start(testOptions("testdata/bad.yaml"))
	if err == nil {
		d.Close()
		t.Fatal("started with a bad tenant file")
	}
	for _, want := range []string{"testdata/bad.yaml:5", "polcy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
