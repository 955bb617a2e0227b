package tenant

import (
	_ "embed"
	"fmt"
)

//go:embed demo.yaml
var demoYAML []byte

// Demo returns the built-in demo tenant, parsed from the embedded demo.yaml:
// id "demo"; skill groups "general", "presales" and "vip" (least-loaded, vip
// with queue priority 10) and "aftersales" (longest-idle); default group
// "general"; the sample shopping menu and knowledge base (bot.SampleMenu,
// bot.SampleEntries). It panics only if the embedded file is broken, which
// the tests rule out.
func Demo() Config {
	c, err := Parse(demoYAML, "demo.yaml")
	if err != nil {
		panic(fmt.Sprintf("tenant: embedded demo.yaml: %v", err))
	}
	return c
}
