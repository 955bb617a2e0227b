package main

import (
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/tenant"
)

func TestSoakTenant(t *testing.T) {
	data, err := soakTenant(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tenant.Parse(data, "soak-tenant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "demo" {
		t.Errorf("tenant %q; want demo", c.ID)
	}
	if got := time.Duration(c.Limits.RetainClosed); got != time.Minute {
		t.Errorf("retain_closed %v; want 1m", got)
	}
	if _, err := soakTenant(0); err == nil {
		t.Error("a retention of 0 was accepted")
	}
}
