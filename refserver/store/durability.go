package store

import "fmt"

// Durability says when a stored message survives a crash.
type Durability uint8

// Durabilities.
const (
	// DurabilityNone keeps messages in memory only (Mem): they are lost
	// when the process ends.
	DurabilityNone Durability = iota
	// DurabilityBatch writes messages to disk and syncs them every few
	// milliseconds in the background; acknowledgements do not wait, so a
	// crash may lose the last interval.
	DurabilityBatch
	// DurabilitySync writes messages to disk, and the server calls Sync (a
	// group commit shared by concurrent callers) before it acknowledges
	// or delivers anything.
	DurabilitySync
)

var durabilityNames = [...]string{
	DurabilityNone:  "none",
	DurabilityBatch: "batch",
	DurabilitySync:  "sync",
}

// String returns the name ParseDurability accepts: none, batch or sync.
func (d Durability) String() string {
	if int(d) < len(durabilityNames) {
		return durabilityNames[d]
	}
	return fmt.Sprintf("Durability(%d)", uint8(d))
}

// ParseDurability parses a durability name: none, batch or sync.
func ParseDurability(s string) (Durability, error) {
	for d, name := range durabilityNames {
		if s == name {
			return Durability(d), nil
		}
	}
	return 0, fmt.Errorf("store: unknown durability %q (choices: none, batch, sync)", s)
}
