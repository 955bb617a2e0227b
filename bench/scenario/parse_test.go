package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
	"github.com/swarmdesk/swarmdesk/scenarios"
)

// TestParseMinimal checks the defaults a file gets when it gives only what
// is required.
func TestParseMinimal(t *testing.T) {
	s, err := Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if s.Name != "minimal" || s.Seed != want.Seed || s.Timescale != 1 || s.Duration != Duration(time.Minute) {
		t.Errorf("name %q, seed %d, timescale %v, duration %v", s.Name, s.Seed, s.Timescale, s.Duration)
	}
	if !reflect.DeepEqual(s.Tenants, want.Tenants) || !reflect.DeepEqual(s.Agents, want.Agents) || !reflect.DeepEqual(s.Messages, want.Messages) {
		t.Errorf("tenants %+v, agents %+v, messages %+v; want the defaults", s.Tenants, s.Agents, s.Messages)
	}
	c := s.Customers
	if c.Arrival != ArrivalPoisson || c.Rate != 2 || c.Devices != 1 || c.Corpus != SampleCorpus || c.Answerable != 0.8 || c.Stay {
		t.Errorf("customers %+v", c)
	}
	if len(c.Script) != 3 || c.Script[1].Open.Channel != "app" || c.Script[2].Ask.Count != 1 || c.Script[2].Ask.Think != Exp(10*time.Second) {
		t.Errorf("script %+v", c.Script)
	}
	if s.Broadcast.Enabled() || len(s.Storms) != 0 || len(s.Objectives) != 0 || len(s.Phases) != 0 {
		t.Errorf("broadcast, storms, objectives or phases where none were given: %+v", s)
	}
	if s.File() != "testdata/minimal.yaml" {
		t.Errorf("File = %q", s.File())
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestParseSteps checks every step in each form a file may write it.
func TestParseSteps(t *testing.T) {
	s, err := Load("testdata/steps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	script := s.Customers.Script
	chance := func(r Ratio) *Ratio { return &r }
	think := Const(2 * time.Second)
	abandon := Exp(2 * time.Minute)
	bg := LogNormal(10*time.Second, time.Minute)
	want := []Step{
		{Connect: &Connect{}},
		{Open: &Open{Channel: "app"}},
		{ExpectMenu: &ExpectMenu{}},
		{Think: &think},
		{Ask: &Ask{Count: 3, Think: Exp(10 * time.Second)}},
		{Choose: &Choose{Items: []string{"1", "2"}}},
		{AbandonAfter: &abandon},
		{AskPerson: &AskPerson{Group: "general"}, Chance: chance(0.25)},
		{Chat: &Chat{Messages: 5, Think: Uniform(5*time.Second, 15*time.Second)}},
		{Background: &bg},
		{Kill: &Kill{ReconnectAfter: Const(2 * time.Second)}},
		{Kill: &Kill{ReconnectAfter: Uniform(time.Second, 3*time.Second)}},
		{Close: &Close{}},
		{Open: &Open{Channel: "web", Group: "vip"}},
		{Chat: &Chat{Messages: 3, Think: LogNormal(10*time.Second, 40*time.Second)}},
		{Close: &Close{}, Chance: chance(0.5)},
	}
	if len(script) != len(want) {
		t.Fatalf("%d steps; want %d", len(script), len(want))
	}
	kinds := []StepKind{StepConnect, StepOpen, StepExpectMenu, StepThink, StepAsk, StepChoose, StepAbandonAfter, StepAskPerson, StepChat, StepBackground, StepKill, StepKill, StepClose, StepOpen, StepChat, StepClose}
	for i := range want {
		if !reflect.DeepEqual(script[i], want[i]) {
			t.Errorf("step %d = %s; want %s", i, stepString(script[i]), stepString(want[i]))
		}
		if got := script[i].Kind(); got != kinds[i] {
			t.Errorf("step %d: Kind = %q; want %q", i, got, kinds[i])
		}
	}
	if p := script[7].Probability(); p != 0.25 {
		t.Errorf("Probability = %v; want 0.25", p)
	}
	if p := script[0].Probability(); p != 1 {
		t.Errorf("Probability without chance = %v; want 1", p)
	}
	// Every step type is in the file, so StepKinds is covered.
	seen := map[StepKind]bool{}
	for _, k := range kinds {
		seen[k] = true
	}
	for _, k := range StepKinds() {
		if !seen[k] {
			t.Errorf("steps.yaml lacks %s", k)
		}
	}
}

// stepString shows a step with its settings, for failures.
func stepString(s Step) string {
	var b strings.Builder
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			fmt.Fprintf(&b, "%s:%v ", v.Type().Field(i).Name, f.Elem().Interface())
		}
	}
	return b.String()
}

// TestParseErrors checks that every problem of a broken file is reported,
// each naming the file, the line and the field.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		is   error    // sentinel the first problem matches
		want []string // each must begin one line of the error, one problem per line
	}{
		{
			file: "testdata/typo.yaml",
			is:   ErrUnknownField,
			want: []string{"testdata/typo.yaml:3: custmers: field not found in scenario.Scenario (did you mean customers?)"},
		},
		{
			file: "testdata/mistyped.yaml",
			is:   ErrSyntax,
			want: []string{
				"testdata/mistyped.yaml:4: customers.rate: cannot unmarshal !!str `lots` into float64",
				"testdata/mistyped.yaml:5: customers.devices: cannot unmarshal !!float `1.5` into int: want an integer, without fraction or exponent",
				"testdata/mistyped.yaml:8: customers.script[1].think: cannot unmarshal `5` into a distribution: \"5\" is not a duration: want a number with a unit",
				"testdata/mistyped.yaml:9: customers.script[2].think: cannot unmarshal `uniform(5s, 1s)` into a distribution: min 5s exceeds max 1s",
				`testdata/mistyped.yaml:10: customers.script[3]: unknown step "conect" (did you mean connect?)`,
				"testdata/mistyped.yaml:11: customers.script[4].chat.mesages: field not found in scenario.Chat (did you mean messages?)",
				"testdata/mistyped.yaml:14: agents.groups[0].count: cannot unmarshal !!str `many` into int",
				"testdata/mistyped.yaml:16: objectives[0]: cannot parse objective `delivery.p99 < 50`: column 16: 50 needs a time unit, e.g. 50ms",
				"testdata/mistyped.yaml:17: objectives[1]: cannot parse objective `delivry.p99 < 50ms`: column 1: unknown metric \"delivry\" (did you mean delivery?)",
			},
		},
		{
			file: "testdata/many_problems.yaml",
			is:   ErrInvalid,
			want: []string{
				`testdata/many_problems.yaml:1: name: "many problems": want 1 to 64 characters`,
				"testdata/many_problems.yaml:2: timescale: 0: must be above 0 and at most 10000",
				"testdata/many_problems.yaml:3: duration: 5m0s does not match the phases' total 3m0s",
				"testdata/many_problems.yaml:5: phases[0].target: required for a ramp phase",
				`testdata/many_problems.yaml:6: phases[1].kind: unknown phase kind "stedy" (want ramp, steady or spike) (did you mean steady?)`,
				"testdata/many_problems.yaml:6: phases[1].target: 3000%: must be between 0% and 2000%",
				`testdata/many_problems.yaml:9: tenants[1].id: duplicate tenant "demo" (also tenants[0])`,
				"testdata/many_problems.yaml:9: tenants[1].weight: 0: must be above 0",
				"testdata/many_problems.yaml:11: agents.away.for: required with away.every",
				`testdata/many_problems.yaml:13: agents.groups[0].group: no skill group "sales" in tenant demo (groups: general, presales, aftersales, vip)`,
				"testdata/many_problems.yaml:13: agents.groups[0].max_chats: 80: must be between 1 and 50 (tenant demo's max_chats_cap)",
				"testdata/many_problems.yaml:14: agents.groups[1].tenant: required when there are several tenants",
				"testdata/many_problems.yaml:14: agents.groups[1].count: -1: must be between 0 and 1000000",
				"testdata/many_problems.yaml:17: customers.rate: 0: must be above 0 and at most 1000000",
				"testdata/many_problems.yaml:18: customers.population: applies to arrival: population",
				"testdata/many_problems.yaml:19: customers.devices: 9: must be between 1 and 8",
				"testdata/many_problems.yaml:20: customers.answerable: 120%: must be between 0% and 100%",
				"testdata/many_problems.yaml:22: customers.script[0]: open needs a connection: connect first",
				"testdata/many_problems.yaml:24: customers.script[2].chat.messages: 0: must be between 1 and 10000",
				`testdata/many_problems.yaml:25: customers.script[3].choose.items[0]: no menu item "9" in tenant demo`,
				"testdata/many_problems.yaml:27: customers.script[5]: close needs an open conversation",
				`testdata/many_problems.yaml:28: customers.script[6].ask_person.group: no skill group "billing" in tenant demo`,
				"testdata/many_problems.yaml:28: customers.script[6]: ask_person needs an open conversation",
				"testdata/many_problems.yaml:29: customers.script[7]: already connected",
				"testdata/many_problems.yaml:30: customers.script[7].chance: not allowed on connect",
				"testdata/many_problems.yaml:31: customers.script[8]: one step per list item, found think and background",
				`testdata/many_problems.yaml:34: messages.mix[0].kind: unknown message kind "txt" (want text, image, location, order-card) (did you mean text?)`,
				"testdata/many_problems.yaml:35: messages.mix[1].weight: 0: must be above 0",
				"testdata/many_problems.yaml:35: messages.mix[1].size: const(0): a message has at least 1 byte",
				"testdata/many_problems.yaml:37: broadcast.at[0]: 10m0s: must be between 0s and the duration, 5m0s",
				"testdata/many_problems.yaml:39: storms[0].at: required",
				"testdata/many_problems.yaml:39: storms[0].share: 0%: must be above 0% and at most 100%",
			},
		},
		{
			file: "testdata/withfiles/broken.yaml",
			is:   ErrInvalid,
			want: []string{
				"testdata/withfiles/broken.yaml:5: tenants[1].file: load tenant testdata/withfiles/no-such-tenant.yaml: open ",
				`testdata/withfiles/broken.yaml:8: agents.groups[0].group: no skill group "general" in tenant acme (groups: support)`,
				"testdata/withfiles/broken.yaml:8: agents.groups[0].max_chats: 11: must be between 1 and 10 (tenant acme's max_chats_cap)",
				"testdata/withfiles/broken.yaml:11: customers.corpus: load corpus: open testdata/withfiles/no-such-corpus.yaml: no such file",
				`testdata/withfiles/broken.yaml:15: customers.script[2].choose.items[0]: no menu item "2" in tenant acme (items: 1, 0)`,
			},
		},
		{
			file: "testdata/withfiles/wrong-id.yaml",
			is:   ErrInvalid,
			want: []string{`testdata/withfiles/wrong-id.yaml:3: tenants[0].id: "books", but the tenant file acme.yaml is tenant "acme"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			checkProblems(t, err, tt.is, tt.want)
		})
	}
}

// checkProblems checks that err holds exactly the problems want (each a
// prefix of one line of err, in order), that each is a *FieldError, and
// that the first matches is.
func checkProblems(t *testing.T, err error, is error, want []string) {
	t.Helper()
	lines := strings.Split(err.Error(), "\n")
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			got := ""
			if i < len(lines) {
				got = lines[i]
			}
			t.Errorf("problem %d:\n got %q\nwant %q...", i, got, w)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Errorf("problem %q is not a *FieldError", e)
		}
	}
	if is != nil && !errors.Is(errs[0], is) {
		t.Errorf("first problem %q does not match %v", errs[0], is)
	}
}

// TestParseDocumentErrors checks problems of a document as a whole and of
// single fields, from Parse.
func TestParseDocumentErrors(t *testing.T) {
	tests := []struct {
		name, in string
		is       error
		want     []string
	}{
		{"empty", "", ErrSyntax, []string{"doc.yaml: empty document"}},
		{"a list", "- a\n", ErrSyntax, []string{"doc.yaml:1: cannot unmarshal !!seq into scenario.Scenario"}},
		{"not yaml", "name: [x\n", ErrSyntax, []string{"doc.yaml:1: did not find expected"}},
		{"two documents", "name: a\n---\nname: b\n", ErrSyntax, []string{"doc.yaml:2: more than one YAML document"}},
		{"no duration or script", "customers: {rate: 1}\n", ErrInvalid, []string{
			"doc.yaml:1: duration: required: give a duration, or phases",
			"doc.yaml:1: customers.script: at least one step is required",
		}},
		{"bare step needing a value", "duration: 1m\ncustomers:\n  rate: 1\n  script: [connect, think]\n", ErrInvalid, []string{
			`doc.yaml:4: customers.script[1]: think needs a distribution, e.g. "- think: exp(10s)"`,
		}},
		{"key without value needing one", "duration: 1m\ncustomers:\n  rate: 1\n  script:\n    - connect\n    - background:\n", ErrInvalid, []string{
			"doc.yaml:6: customers.script[1]: background needs a distribution",
		}},
		{"empty list items", "duration: 1m\ncustomers:\n  rate: 1\n  script:\n    - connect\n    -\n    - think: 1s\nobjectives: [lost == 0, ~]\n", ErrSyntax, []string{
			"doc.yaml:6: customers.script[1]: empty list item",
			"doc.yaml:8: objectives[1]: empty list item",
		}},
		{"empty step", "duration: 1m\ncustomers:\n  rate: 1\n  script:\n    - connect\n    - {}\n", ErrInvalid, []string{
			"doc.yaml:6: customers.script[1]: empty step",
		}},
		{"unknown step in a mapping", "duration: 1m\ncustomers:\n  rate: 1\n  script:\n    - connect\n    - thnk: 1s\n", ErrUnknownField, []string{
			"doc.yaml:6: customers.script[1].thnk: field not found in scenario.Step (did you mean think?)",
		}},
		{"corpus file without a directory", "duration: 1m\ncustomers:\n  rate: 1\n  corpus: q.yaml\n  script: [connect]\n", ErrInvalid, []string{
			`doc.yaml:4: customers.corpus: "q.yaml": a scenario not read from a file cannot name a corpus file`,
		}},
		{"duration as a number", "duration: 60\ncustomers: {rate: 1, script: [connect]}\n", ErrSyntax, []string{
			"doc.yaml:1: duration: cannot unmarshal `60` into a duration",
		}},
		{"a distribution with commas in a flow mapping", "duration: 1m\nagents: {away: {every: exp(1h), for: uniform(1m, 2m)}}\ncustomers: {rate: 1, script: [connect]}\n", ErrSyntax, []string{
			"doc.yaml:2: agents.away.for: cannot unmarshal `uniform(1m` into a distribution: missing closing parenthesis (inside {...}, quote a distribution with commas",
			"doc.yaml:2: agents.away.2m): field not found in scenario.Away",
		}},
		{"population without stay or time", "duration: 1m\ncustomers: {arrival: population, population: 5, script: [connect]}\n", ErrInvalid, []string{
			"doc.yaml:2: customers.stay: false, and the script takes no time",
		}},
		{"unknown arrival", "duration: 1m\ncustomers: {arrival: poison, rate: 1, script: [connect]}\n", ErrInvalid, []string{
			`doc.yaml:2: customers.arrival: unknown arrival "poison" (want poisson or population) (did you mean poisson?)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "doc.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			checkProblems(t, err, tt.is, tt.want)
		})
	}
}

// TestLoadFiles checks that tenant and corpus files are loaded relative to
// the scenario file, whatever the working directory.
func TestLoadFiles(t *testing.T) {
	abs, err := filepath.Abs("testdata/withfiles/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"testdata/withfiles/scenario.yaml", abs} {
		s, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Path("acme.yaml"), filepath.Join(filepath.Dir(path), "acme.yaml"); got != want {
			t.Errorf("Path = %q; want %q", got, want)
		}
		c, err := s.Corpus()
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Answerable) != 2 || len(c.OffTopic) != 1 {
			t.Errorf("corpus %+v; want 2 answerable, 1 off-topic", c)
		}
		if cfg := s.tenantConfig("acme"); cfg == nil || cfg.Limits.MaxChatsCap != 10 {
			t.Errorf("tenant acme's config %+v; want the file's", cfg)
		}
	}
	if _, err := Load("testdata/no-such.yaml"); !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "load scenario testdata/no-such.yaml: ") {
		t.Errorf("missing file: %v", err)
	}
	// Parse has no directory: a tenant file is not loaded (nor checked).
	data, err := os.ReadFile("testdata/withfiles/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "corpus: questions.yaml", "corpus: sample", 1))
	s, err := Parse(data, "inline")
	if err != nil {
		t.Fatal(err)
	}
	if s.tenantConfig("acme") != nil || s.Path("acme.yaml") != "acme.yaml" {
		t.Error("Parse loaded a tenant file")
	}

	// A corpus must hold the kinds of question the answerable share asks
	// for.
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("offtopic.yaml", "- {question: what is the weather, expect: \"\"}\n")
	write("bad.yaml", "- {question: x, expct: y}\n")
	for _, tt := range []struct{ corpus, answerable, want string }{
		{"offtopic.yaml", "80%", `customers.answerable: 80%, but corpus "offtopic.yaml" has no answerable questions`},
		{"offtopic.yaml", "0", ""},
		{"bad.yaml", "80%", "customers.corpus: load corpus: "},
	} {
		path := write("s.yaml", "duration: 1m\ncustomers:\n  rate: 1\n  corpus: "+tt.corpus+"\n  answerable: "+tt.answerable+"\n  script: [connect, open, ask]\n")
		_, err := Load(path)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("corpus %s, answerable %s: %v", tt.corpus, tt.answerable, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("corpus %s, answerable %s: err %v; want %q", tt.corpus, tt.answerable, err, tt.want)
		}
	}
}

func TestCorpus(t *testing.T) {
	s, err := Parse([]byte("duration: 1m\ncustomers: {rate: 1, script: [connect]}\n"), "doc")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Corpus()
	if err != nil {
		t.Fatal(err)
	}
	probes := bot.SampleHeldout()
	if len(c.Answerable)+len(c.OffTopic) != len(probes) || len(c.OffTopic) == 0 || len(c.Answerable) == 0 {
		t.Fatalf("sample corpus: %d answerable, %d off-topic of %d", len(c.Answerable), len(c.OffTopic), len(probes))
	}
	r := newRand(7)
	answerable := 0
	const n = 20000
	for range n {
		if p := c.Draw(r, 0.8); p.Expect != "" {
			answerable++
		}
	}
	if share := float64(answerable) / n; share < 0.78 || share > 0.82 {
		t.Errorf("answerable share %v; want about 0.8", share)
	}
	only := NewCorpus([]bot.Probe{{Question: "q", Expect: "e"}})
	if p := only.Draw(r, 0); p.Expect != "e" {
		t.Errorf("Draw from a corpus without off-topic questions gave %+v", p)
	}
	// A changed corpus name loads again.
	s.Customers.Corpus = "testdata/withfiles/questions.yaml"
	s.file = ""
	c2, err := s.Corpus()
	if err != nil || len(c2.Answerable) != 2 {
		t.Errorf("reloaded corpus %+v, %v", c2, err)
	}
}

func TestLoadNamed(t *testing.T) {
	s, err := LoadNamed("smoke")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "smoke" || s.File() != "scenarios/smoke.yaml" {
		t.Errorf("name %q, file %q", s.Name, s.File())
	}
	if s, err := LoadNamed("testdata/minimal.yaml"); err != nil || s.Name != "minimal" {
		t.Errorf("a path: %v, %v", s, err)
	}
	if _, err := LoadNamed("./testdata/no-such"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a path with a slash is a file: %v", err)
	}
	_, err = LoadNamed("smoek")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"smoek" (did you mean smoke?)`) || !strings.Contains(err.Error(), strings.Join(scenarios.Names(), ", ")) {
		t.Errorf("unknown name: %v", err)
	}
}

// TestFormatExample checks that the example in FORMAT.md is a valid
// scenario and that every key of the format is documented there.
func TestFormatExample(t *testing.T) {
	data, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(m) < 2 {
		t.Fatal("FORMAT.md has no yaml example")
	}
	s, err := Parse([]byte(m[0][1]), "FORMAT.md example")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tenants) != 2 || len(s.Customers.Script) != 12 || len(s.Objectives) != 8 || !s.Broadcast.Enabled() || len(s.Storms) != 1 {
		t.Errorf("example decoded to %+v", s)
	}
	for _, typ := range []string{"scenario.Scenario", "scenario.Phase", "scenario.Tenant", "scenario.Agents", "scenario.Away", "scenario.AgentGroup",
		"scenario.Customers", "scenario.Step", "scenario.Open", "scenario.Ask", "scenario.Choose", "scenario.AskPerson", "scenario.Chat", "scenario.Kill",
		"scenario.Messages", "scenario.Mix", "scenario.Broadcast", "scenario.Storm"} {
		keys := fieldsOf(typ)
		if len(keys) == 0 && typ != "scenario.Step" {
			t.Errorf("fieldsOf(%s) is empty", typ)
		}
		for _, k := range keys {
			if !strings.Contains(doc, "`"+k+"`") {
				t.Errorf("FORMAT.md does not document %s key `%s`", typ, k)
			}
		}
	}
	for _, m := range Metrics() {
		if !strings.Contains(doc, "| `"+m.Name+"` |") {
			t.Errorf("FORMAT.md does not list metric %s", m.Name)
		}
	}
	for _, k := range StepKinds() {
		if !strings.Contains(doc, "| `"+string(k)+"` |") {
			t.Errorf("FORMAT.md does not list step %s", k)
		}
	}
}

// fieldsOf returns the YAML keys of the struct type named typ (e.g.
// "scenario.Chat") reachable from Scenario.
func fieldsOf(typ string) []string {
	return strictyaml.Keys(reflect.TypeFor[Scenario](), typ)
}

// newRand returns a deterministic source for tests.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

// TestMarshalRoundTrip checks that a scenario written back with
// yaml.Marshal parses to the same scenario.
func TestMarshalRoundTrip(t *testing.T) {
	var all []*Scenario
	for _, name := range scenarios.Names() {
		s, err := LoadNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	for _, file := range []string{"testdata/steps.yaml", "testdata/minimal.yaml"} {
		s, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			out, err := yaml.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out, s.Name+".yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !reflect.DeepEqual(exported(back), exported(s)) {
				t.Errorf("round trip changed the scenario:\n%s", out)
			}
		})
	}
}

// exported returns a copy of s without what a Scenario keeps of where it
// came from.
func exported(s *Scenario) *Scenario {
	c := s.Clone()
	c.file, c.dir, c.root, c.tenantConfigs, c.corpus = "", "", nil, nil, nil
	for i := range c.Objectives {
		c.Objectives[i].Expr = ""
	}
	return c
}
