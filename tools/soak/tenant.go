package main

import (
	"fmt"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/tenant"
)

// soakTenant returns the tenant file the soak's server runs: refserver's
// built-in demo tenant (the scenario's), with closed conversations kept for
// retain instead of demo's retain_closed. The server forgets a closed
// conversation only after that retention, in wall time; with demo's ten
// minutes the memory of a ten-minute soak would climb for the whole run
// by design, and forgetting would never be exercised. With a retention well
// inside the warm-up, the state the server holds reaches its plateau before
// the growth is judged.
//
// The file is the demo tenant written back as YAML, so it follows the demo
// tenant as it changes; it is parsed again and compared, so a field that
// does not survive the round trip is an error rather than a silent change.
func soakTenant(retain time.Duration) ([]byte, error) {
	if retain <= 0 {
		return nil, fmt.Errorf("soak tenant: retention %v: must be above 0", retain)
	}
	want := tenant.Demo()
	want.Limits.RetainClosed = tenant.Duration(retain)
	doc := want
	if doc.KnowledgeFile != "" {
		doc.Knowledge = nil // loaded from the file again by Parse
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("soak tenant: encode: %w", err)
	}
	got, err := tenant.Parse(data, "soak-tenant.yaml")
	if err != nil {
		return nil, fmt.Errorf("soak tenant: the demo tenant does not survive a round trip: %w", err)
	}
	if !reflect.DeepEqual(got, want) {
		return nil, fmt.Errorf("soak tenant: the demo tenant changes in a round trip through YAML")
	}
	return data, nil
}
