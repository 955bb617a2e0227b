package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead checks that Read never panics, and that whatever it accepts
// writes back to a document it accepts again, unchanged.
func FuzzRead(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "result.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"schema":"swarmdesk.result/v1","shard":{"index":0,"count":1},"valid":true}`))
	f.Add([]byte(`{"schema":"swarmdesk.result/v1","shard":{"index":0,"count":1},"valid":false,"invalid_reasons":["x"],` +
		`"latency":{"delivery":{"count":0,"histogram":"","raw":{"count":0,"histogram":""}}}}`))
	f.Add([]byte(`{"schema":"swarmdesk.result/v2"}`))
	f.Add([]byte(`{"schema":"swarmdesk.result/v1","shard":{"index":0,"count":1},"valid":true,"bogus":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for name := range r.Latency {
			for _, raw := range []bool{false, true} {
				if _, err := r.Histogram(name, raw); err != nil && r.Latency[name].Count != 0 {
					t.Fatalf("Read accepted latency %q whose histogram does not decode: %v", name, err)
				}
			}
		}
		var once bytes.Buffer
		if err := Write(&once, r); err != nil {
			t.Fatalf("Write of an accepted document: %v", err)
		}
		r2, err := Read(bytes.NewReader(once.Bytes()))
		if err != nil {
			t.Fatalf("Read of a written document: %v\n%s", err, once.String())
		}
		var twice bytes.Buffer
		if err := Write(&twice, r2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("a write-read-write cycle changed the document:\n%s\n%s", once.String(), twice.String())
		}
	})
}
