package suite

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/swarmdesk/swarmdesk/tools/floor/floor"
)

// FloorFile is the report the floor entry has tools/floor write (--json)
// into its directory.
const FloorFile = "floor.json"

// Floor is tools/floor's report: a bare client and server doing the
// connections scenario's connect and hello beside it, the floor under
// bench's CPU against the server's.
type Floor struct {
	*floor.Result
}

// readFloor reads entry id's floor.json. Fields tools/floor adds are
// ignored: its schema says when one changes meaning.
func readFloor(id, dir string) (f *Floor, err error) {
	err = readOutput(id, dir, FloorFile, func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r := &floor.Result{}
		if err := json.Unmarshal(b, r); err != nil {
			return err
		}
		switch {
		case r.Schema != floor.Schema:
			return fmt.Errorf("schema %q, want %q", r.Schema, floor.Schema)
		case r.Tried <= 0:
			return fmt.Errorf("no connections tried")
		}
		f = &Floor{r}
		return nil
	})
	return f, err
}
