package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestWriteReadRoundTrip(t *testing.T) {
	r, _, _ := shardResult(t, 0, 1)
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip changed the result:\n got %+v\nwant %+v", got, r)
	}
}

// TestChaosRoundTrip: the sections of a crash test read back as written.
func TestChaosRoundTrip(t *testing.T) {
	r, _, _ := shardResult(t, 0, 1)
	r.Reconnects = &Reconnects{Dropped: 184, Attempts: 310, Failed: 127, Resumed: 183}
	r.Chaos = &Chaos{Fault: "kill-server", EveryS: 5, Durability: "sync", Count: 2, InFlight: 1, MaxServerRestartS: 0.12, MaxClientsResumedS: 0.41, NotResumed: 1,
		Kills: []ChaosKill{
			{AtS: 5, Pid: 10, NewPid: 11, InFlight: 1, Connections: 74, ServerRestartS: 0.03, ClientsResumedS: 0.41, Resumed: true},
			{AtS: 10, Pid: 11, NewPid: 12, Connections: 110, ServerRestartS: 0.12},
		}}
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Count(buf.String(), `"clients_resumed_s"`) != 1 {
		t.Errorf("clients_resumed_s written for a kill whose clients did not all come back:\n%s", buf.String())
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip changed the result:\n got %+v\nwant %+v", got, r)
	}
}

func TestWriteFileReadFile(t *testing.T) {
	r, _, _ := shardResult(t, 0, 1)
	path := filepath.Join(t.TempDir(), "result.json")
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatal("file round trip changed the result")
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only result.json (no temporary left)", len(entries))
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("ReadFile of a missing file: error %v, want one naming the file", err)
	}
}

func TestWriteSchema(t *testing.T) {
	r, _, _ := shardResult(t, 0, 1)
	r.Schema = ""
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n  \"schema\": \""+Schema+"\"") {
		t.Fatalf("document does not open with the schema: %.60s", buf.String())
	}
	if r.Schema != "" {
		t.Fatal("Write changed its argument")
	}
	r.Schema = "swarmdesk.result/v0"
	if err := Write(&buf, r); !errors.Is(err, ErrSchema) {
		t.Fatalf("Write of another schema: %v, want ErrSchema", err)
	}
}

// TestReadStrict checks that Read refuses documents that are not exactly
// of this schema, with an error that says where.
func TestReadStrict(t *testing.T) {
	good, _, _ := shardResult(t, 0, 1)
	var buf bytes.Buffer
	if err := Write(&buf, good); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	// edit decodes the good document, lets f change it, and encodes it.
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	latency := func(m map[string]any, name string) map[string]any {
		return m["latency"].(map[string]any)[name].(map[string]any)
	}
	otherHist := summaryOf(t, 1000, 2000, 3000).Histogram

	tests := []struct {
		name string
		doc  string
		is   error  // errors.Is target, or nil
		want string // substring of the error
	}{
		{"unknown top-level field", edit(func(m map[string]any) { m["colour"] = "blue" }), nil, `unknown field "colour"`},
		{"unknown nested field", edit(func(m map[string]any) { latency(m, "delivery")["p95_ms"] = 1.0 }), nil, `unknown field "p95_ms"`},
		{"misspelt counter", edit(func(m map[string]any) { m["messages"].(map[string]any)["lostt"] = 0 }), nil, `unknown field "lostt"`},
		{"wrong type", edit(func(m map[string]any) { m["messages"].(map[string]any)["lost"] = "none" }), nil, "messages.lost"},
		{"unknown schema", edit(func(m map[string]any) { m["schema"] = "swarmdesk.result/v2"; m["new_field"] = 1 }), ErrSchema, `"swarmdesk.result/v2"`},
		{"missing schema", edit(func(m map[string]any) { delete(m, "schema") }), ErrSchema, "no \"schema\""},
		{"not JSON", "{", nil, "unexpected end"},
		{"data after the document", doc + "{}", nil, "after top-level value"},
		{"count off its histogram", edit(func(m map[string]any) { latency(m, "delivery")["count"] = 7 }), ErrInvalid, "latency.delivery: "},
		{"raw count off", edit(func(m map[string]any) { latency(m, "queue_wait")["raw"].(map[string]any)["histogram"] = otherHist }), ErrInvalid, "latency.queue_wait.raw"},
		{"corrupt histogram", edit(func(m map[string]any) { latency(m, "delivery")["histogram"] = "HISTFAAAnotbase64!" }), ErrInvalid, "latency.delivery"},
		{"count without histogram", edit(func(m map[string]any) { latency(m, "delivery")["histogram"] = "" }), ErrInvalid, "without a histogram"},
		{"lag count off", edit(func(m map[string]any) { m["actions"].(map[string]any)["lag"].(map[string]any)["count"] = 1 }), ErrInvalid, "actions.lag"},
		{"shard out of range", edit(func(m map[string]any) { m["shard"] = map[string]any{"index": 2, "count": 2} }), ErrInvalid, "shard 2 of 2"},
		{"no shard count", edit(func(m map[string]any) { m["shard"] = map[string]any{"index": 0, "count": 0} }), ErrInvalid, "shard 0 of 0"},
		{"invalid without reason", edit(func(m map[string]any) { m["valid"] = false }), ErrInvalid, "without invalid_reasons"},
		{"valid with reasons", edit(func(m map[string]any) { m["invalid_reasons"] = []string{"x"} }), ErrInvalid, "valid run with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatal("Read accepted it")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "read result: ") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestHistogram(t *testing.T) {
	r, dc, dr := shardResult(t, 0, 1)
	tests := []struct {
		name   string
		raw    bool
		values []int64
	}{
		{"delivery", false, dc},
		{"delivery", true, dr},
	}
	for _, tt := range tests {
		h, err := r.Histogram(tt.name, tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := histOf(t, tt.values...); !h.Equals(want) {
			t.Errorf("Histogram(%q, %v) differs from the values recorded", tt.name, tt.raw)
		}
	}
	if _, err := r.Histogram("nope", false); !errors.Is(err, ErrNoMetric) {
		t.Fatalf("unknown metric: %v, want ErrNoMetric", err)
	}
	// The histogram is the caller's: changing it leaves the result alone.
	h, _ := r.Histogram("delivery", false)
	_ = h.RecordValue(5000)
	h2, _ := r.Histogram("delivery", false)
	if h2.TotalCount() != int64(len(dc)) {
		t.Fatal("the returned histogram shares storage with the result")
	}
}

func TestNewSummary(t *testing.T) {
	tests := []struct {
		name   string
		values []int64
		want   Summary
	}{
		{"empty", nil, Summary{}},
		{"one value", []int64{1_000_000}, Summary{
			Count: 1, MinMs: 0.999936, MeanMs: 1.000192, P50Ms: 1.000447, P90Ms: 1.000447,
			P99Ms: 1.000447, P999Ms: 1.000447, P9999Ms: 1.000447, MaxMs: 1.000447,
		}},
		{"hundred values", seq(1, 100, 1_000_000), Summary{Count: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := histOf(t, tt.values...)
			got, err := NewSummary(h)
			if err != nil {
				t.Fatal(err)
			}
			if got.Histogram == "" {
				t.Fatal("no histogram encoded")
			}
			back, err := DecodeHistogram(got.Histogram)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equals(h) {
				t.Fatal("the encoded histogram does not decode to the one summarised")
			}
			if enc := NewSummaryEncoded(back, []byte(got.Histogram)); enc != got {
				t.Errorf("NewSummaryEncoded of the decoded histogram and its encoding\n got %+v\nwant %+v", enc, got)
			}
			got.Histogram = ""
			if tt.name == "hundred values" {
				// 1..100 ms: percentiles within the 3 significant digits.
				for _, c := range []struct {
					name      string
					got, want float64
				}{{"p50", got.P50Ms, 50}, {"p90", got.P90Ms, 90}, {"p99", got.P99Ms, 99}, {"max", got.MaxMs, 100}, {"min", got.MinMs, 1}, {"mean", got.MeanMs, 50.5}} {
					if c.got < c.want*0.999 || c.got > c.want*1.001 {
						t.Errorf("%s = %v, want %v within 0.1%%", c.name, c.got, c.want)
					}
				}
				return
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// seq returns from..to (inclusive) times unit.
func seq(from, to, unit int64) []int64 {
	var out []int64
	for v := from; v <= to; v++ {
		out = append(out, v*unit)
	}
	return out
}

// TestGolden pins the document's shape: a change to it shows as a diff of
// testdata/result.golden.json, and RESULT.md's example must be that file.
func TestGolden(t *testing.T) {
	r, _, _ := shardResult(t, 0, 1)
	r.Latency = map[string]Latency{"delivery": r.Latency["delivery"]}
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "result.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("document differs from %s (run with -update if the change is meant):\n%s", golden, buf.String())
	}
}

// TestResultDocExample checks that RESULT.md's example is a document Read
// accepts, that it is the golden document, and that it documents every
// field.
func TestResultDocExample(t *testing.T) {
	md, err := os.ReadFile("RESULT.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(md)
	if m == nil {
		t.Fatal("RESULT.md has no ```json example")
	}
	example := m[1]
	if _, err := Read(bytes.NewReader(example)); err != nil {
		t.Fatalf("RESULT.md's example: %v", err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "result.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, golden) {
		t.Error("RESULT.md's example is not testdata/result.golden.json; paste it in")
	}
	for _, key := range jsonKeys(reflect.TypeOf(Result{})) {
		if !bytes.Contains(md, []byte("`"+key+"`")) {
			t.Errorf("RESULT.md does not document `%s`", key)
		}
	}
}

// jsonKeys lists the JSON keys of a struct type and the struct types it
// holds, embedded ones flattened.
func jsonKeys(typ reflect.Type) []string {
	seen := map[reflect.Type]bool{}
	var keys []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeOf(Result{}).PkgPath() {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			keys = append(keys, name)
			walk(f.Type)
		}
	}
	walk(typ)
	return keys
}
