package desk

import "github.com/swarmdesk/swarmdesk/refserver/tenant"

// Runtime returns the tenant configuration the desk runs now (Reconfigure
// replaces it), for the driver's own checks such as a hello's token. The
// caller holds the desk's lock and does not modify what it gets.
func (d *Desk) Runtime() *tenant.Runtime { return d.rt }
