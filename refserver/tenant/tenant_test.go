package tenant

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
	"github.com/swarmdesk/swarmdesk/refserver/routing"
)

func TestDemo(t *testing.T) {
	c := Demo()
	if err := c.Validate(); err != nil {
		t.Fatalf("Demo().Validate: %v", err)
	}
	rt, err := Build(c)
	if err != nil {
		t.Fatalf("Build(Demo()): %v", err)
	}
	if c.ID != "demo" || c.DefaultGroup != "general" {
		t.Errorf("id %q, default_group %q; want demo, general", c.ID, c.DefaultGroup)
	}
	wantGroups := []struct {
		name     string
		policy   routing.Policy
		priority int
	}{
		{"general", routing.LeastLoaded, 0},
		{"presales", routing.LeastLoaded, 0},
		{"aftersales", routing.LongestIdle, 0},
		{"vip", routing.LeastLoaded, 10},
	}
	if len(c.Groups) != len(wantGroups) {
		t.Fatalf("groups %+v; want %d", c.Groups, len(wantGroups))
	}
	for i, w := range wantGroups {
		g := c.Groups[i]
		if g.Name != w.name || g.Priority != w.priority || rt.Policies[g.Name] != w.policy {
			t.Errorf("groups[%d] = %+v, policy %v; want %s, %v, priority %d", i, g, rt.Policies[g.Name], w.name, w.policy, w.priority)
		}
	}
	if got, want := len(c.Knowledge), len(bot.SampleEntries()); got != want {
		t.Errorf("knowledge has %d entries; want bot.SampleEntries' %d", got, want)
	}
	// The demo's menu is the sample menu, written out in demo.yaml as an
	// example of the format.
	if sample := bot.SampleMenu(); !reflect.DeepEqual(c.Menu, sample) {
		t.Errorf("menu %+v; want bot.SampleMenu %+v", c.Menu, sample)
	}
	if r := rt.Bot.Choose(&bot.Session{}, "0"); r.Group != "general" {
		t.Errorf("menu item 0 hands off to %q; want general", r.Group)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		file      string
		load      bool // Load the file rather than Parse its bytes
		knowledge []string
	}{
		{file: "testdata/minimal.yaml", knowledge: []string{"order-status", "returns", "opening-hours"}},
		{file: "testdata/minimal.yaml", load: true, knowledge: []string{"order-status", "returns", "opening-hours"}},
		{file: "testdata/withfile/tenant.yaml", load: true, knowledge: []string{"hours", "shipping"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var c Config
			var err error
			if tt.load {
				c, err = Load(tt.file)
			} else {
				c, err = Parse(readFile(t, tt.file), tt.file)
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != "acme" || c.DefaultGroup != "support" || c.Groups[0].Policy != "least-loaded" {
				t.Errorf("id %q, default_group %q, policy %q; want acme, support (the only group), least-loaded",
					c.ID, c.DefaultGroup, c.Groups[0].Policy)
			}
			want := Default().Limits
			if c.Limits != want {
				t.Errorf("limits %+v; want defaults %+v", c.Limits, want)
			}
			if c.Bot.Threshold != bot.DefaultThreshold || c.Bot.HandoffGroup != "support" {
				t.Errorf("bot threshold %v, handoff group %q; want %v, support", c.Bot.Threshold, c.Bot.HandoffGroup, bot.DefaultThreshold)
			}
			var ids []string
			for _, e := range c.Knowledge {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.knowledge, ",") {
				t.Errorf("knowledge %v; want %v", ids, tt.knowledge)
			}
			rt, err := Build(c)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			q := c.Knowledge[0].Questions[0]
			if r := rt.Bot.Ask(&bot.Session{}, q); r.EntryID != c.Knowledge[0].ID {
				t.Errorf("bot answered %q with %+v; want entry %s", q, r, c.Knowledge[0].ID)
			}
		})
	}
}

// TestParseErrors checks that every problem of a broken file is reported,
// each naming the file, the line and the field.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		load bool
		is   error    // sentinel every problem matches
		want []string // each must appear in the error, one problem per line
	}{
		{
			file: "testdata/unknown_field.yaml",
			is:   ErrUnknownField,
			want: []string{"testdata/unknown_field.yaml:3: grops: field not found in tenant.Config (did you mean groups?)"},
		},
		{
			file: "testdata/mistyped.yaml",
			is:   ErrSyntax,
			want: []string{"testdata/mistyped.yaml:7: agents[0].max_chats: cannot unmarshal !!str `lots` into int"},
		},
		{
			file: "testdata/unknown_nested.yaml",
			want: []string{
				"testdata/unknown_nested.yaml:4: groups[0].polcy: field not found in tenant.Group (did you mean policy?)",
				"testdata/unknown_nested.yaml:6: limits.retain_closed: cannot unmarshal `90` into a duration",
			},
		},
		{
			file: "testdata/fraction.yaml",
			is:   ErrSyntax,
			want: []string{
				"testdata/fraction.yaml:5: agents[0].max_chats: cannot unmarshal !!float `2.5` into int: want an integer, without fraction or exponent",
				"testdata/fraction.yaml:8: limits.transcript_max: cannot unmarshal !!str `many` into int",
				"testdata/fraction.yaml:9: limits.max_chats_cap: cannot unmarshal !!float `1e1` into int: want an integer, without fraction or exponent",
			},
		},
		{
			file: "testdata/many_problems.yaml",
			is:   ErrInvalid,
			want: []string{
				`testdata/many_problems.yaml:2: id: "Acme Books": want 1 to 64 characters`,
				`testdata/many_problems.yaml:3: default_group: no skill group "sales" (groups: support, billing)`,
				`testdata/many_problems.yaml:7: groups[1].policy: unknown policy "fastest"`,
				`testdata/many_problems.yaml:8: groups[2].name: duplicate group "support" (also groups[0])`,
				`testdata/many_problems.yaml:11: agents[0].groups[1]: no skill group "shipping"`,
				`testdata/many_problems.yaml:12: agents[0].max_chats: 80 exceeds limits.max_chats_cap 50`,
				`testdata/many_problems.yaml:16: menu.items[0].answer: no knowledge entry "no-such-entry"`,
				`testdata/many_problems.yaml:17: menu.items[1].handoff: no skill group "sales"`,
				`testdata/many_problems.yaml:23: bot.threshold: 1.5: must be between 0 and 1`,
				`testdata/many_problems.yaml:25: limits.default_max_chats: 60 exceeds max_chats_cap 50`,
				`testdata/many_problems.yaml:27: limits.retain_closed: -1m0s: must not be negative`,
			},
		},
		{
			file: "testdata/withfile/missing.yaml",
			load: true,
			is:   ErrKnowledge,
			want: []string{"testdata/withfile/missing.yaml:8: knowledge_file: open testdata/withfile/no-such-file.yaml: no such file"},
		},
		{
			// Parse has no directory to resolve knowledge files against.
			file: "testdata/withfile/tenant.yaml",
			is:   ErrKnowledge,
			want: []string{`testdata/withfile/tenant.yaml:10: knowledge_file: "faq.yaml": a document not read from a file cannot refer to knowledge files`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var err error
			if tt.load {
				_, err = Load(tt.file)
			} else {
				_, err = Parse(readFile(t, tt.file), tt.file)
			}
			if err == nil {
				t.Fatal("no error")
			}
			checkProblems(t, err, tt.is, tt.want)
		})
	}
}

// checkProblems checks that err holds exactly the problems want (each a
// prefix of one line of err) and that each matches is, if given.
func checkProblems(t *testing.T, err error, is error, want []string) {
	t.Helper()
	lines := strings.Split(err.Error(), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, w)
		}
		if !found {
			t.Errorf("missing problem %q in:\n%v", w, err)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	if is == nil {
		return
	}
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) || !errors.Is(e, is) {
			t.Errorf("problem %q: want a *FieldError matching %v", e, is)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := Default()
		c.ID = "acme"
		c.DefaultGroup = "support"
		c.Groups = []Group{{Name: "support"}, {Name: "sales", Policy: "round-robin"}}
		c.Menu = bot.Menu{Title: "Hi", Items: []bot.MenuItem{{ID: "1", Label: "Hours", Answer: "hours"}, {ID: "0", Label: "Person", Handoff: "sales"}}}
		c.Knowledge = []bot.Entry{{ID: "hours", Questions: []string{"When are you open?"}, Answer: "9 to 5.", Link: "1"}}
		return c
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"valid", func(*Config) {}, nil},
		{"zero policy, max_chats and handoff group mean defaults", func(c *Config) {
			c.Agents = []Agent{{ID: "alice"}}
			c.Bot.HandoffGroup = ""
		}, nil},
		{"no id, groups or knowledge", func(c *Config) {
			c.ID, c.Groups, c.DefaultGroup, c.Knowledge, c.Menu.Items = "", nil, "", nil, nil
		}, []string{
			"id: required",
			"groups: at least one skill group is required",
			"knowledge: no entries",
			"menu.items: at least one item is required",
		}},
		{"id too long", func(c *Config) { c.ID = strings.Repeat("a", 65) }, []string{"id: "}},
		{"default group required with several groups", func(c *Config) { c.DefaultGroup = "" }, []string{
			"default_group: required when there is more than one group (groups: support, sales)",
		}},
		{"agents", func(c *Config) {
			c.Agents = []Agent{{ID: "a", MaxChats: -1}, {ID: "a", Groups: []string{"nope"}}, {Groups: []string{"sales"}}}
		}, []string{
			"agents[0].max_chats: -1: must not be negative",
			`agents[1].id: duplicate agent "a" (also agents[0])`,
			`agents[1].groups[0]: no skill group "nope"`,
			"agents[2].id: required",
		}},
		{"menu", func(c *Config) {
			c.Menu.Title = ""
			c.Menu.Items = append(c.Menu.Items, bot.MenuItem{ID: "1", Label: "Again"}, bot.MenuItem{ID: "2", Answer: "hours", Handoff: "sales"})
		}, []string{
			"menu.title: required",
			`menu.items[2].id: duplicate item "1" (also menu.items[0])`,
			"menu.items[2]: give an answer (knowledge entry id) or a handoff (skill group)",
			"menu.items[3].label: required",
			"menu.items[3].handoff: give an answer or a handoff, not both",
		}},
		{"knowledge", func(c *Config) {
			c.Knowledge = append(c.Knowledge, bot.Entry{ID: "hours", Questions: []string{"q"}, Answer: "a", Link: "7"},
				bot.Entry{Questions: []string{"q", " "}})
		}, []string{
			`knowledge[1].id: duplicate entry "hours"`,
			"knowledge[2].id: required",
			"knowledge[2].questions[1]: blank question",
			"knowledge[2].answer: required",
			`knowledge[1].link: no menu item "7"`,
		}},
		{"limits and bot", func(c *Config) {
			c.Limits = Limits{DefaultMaxChats: 0, MaxChatsCap: -2, TranscriptMax: -1, QueuePositionInterval: Duration(-time.Second)}
			c.Bot.MaxMisses = -1
			c.Bot.Threshold = -0.1
			c.Bot.HandoffGroup = "billing"
		}, []string{
			"limits.default_max_chats: 0: must be at least 1",
			"limits.max_chats_cap: -2: must be at least 1",
			"limits.transcript_max: -1: must not be negative",
			"limits.queue_position_interval: -1s: must not be negative",
			"bot.threshold: -0.1: must be between 0 and 1",
			"bot.max_misses: -1: must be between 0 and 255",
			`bot.handoff_group: no skill group "billing"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := Build(c); err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: no error")
			}
			checkProblems(t, err, ErrInvalid, tt.want)
			if _, err := Build(c); err == nil {
				t.Error("Build accepted an invalid Config")
			}
		})
	}
}

func TestBuild(t *testing.T) {
	c, err := Parse([]byte(`
id: acme
default_group: sales
groups:
  - {name: sales, policy: round-robin}
  - {name: support, policy: longest-idle, priority: 3}
  - {name: vip}
agents:
  - {id: alice, groups: [sales], max_chats: 8}
  - {id: bob}
menu: {title: Hi, items: [{id: "0", label: Person, handoff: support}]}
knowledge: [{id: hours, questions: ["When are you open?"], answer: 9 to 5.}]
limits: {default_max_chats: 3}
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	wantPolicies := map[string]routing.Policy{"sales": routing.RoundRobin, "support": routing.LongestIdle, "vip": routing.LeastLoaded}
	for g, p := range wantPolicies {
		if got, ok := rt.Policies[g]; !ok || got != p {
			t.Errorf("Policies[%s] = %v, %v; want %v", g, got, ok, p)
		}
	}
	if len(rt.Policies) != len(wantPolicies) {
		t.Errorf("Policies %v; want %v", rt.Policies, wantPolicies)
	}
	if a := rt.AgentDefaults["alice"]; a.MaxChats != 8 || len(a.Groups) != 1 || a.Groups[0] != "sales" {
		t.Errorf("alice %+v; want max 8, groups [sales]", a)
	}
	if b := rt.AgentDefaults["bob"]; b.MaxChats != 3 || len(b.Groups) != 0 {
		t.Errorf("bob %+v; want max 3 (limits.default_max_chats), no groups", b)
	}
	if r := rt.Bot.Ask(&bot.Session{}, "I want a human"); r.Action != bot.ActionHandoff || r.Group != "sales" {
		t.Errorf("asking for a person: %+v; want a handoff to sales (the default group)", r)
	}
}

// TestBuildDefaults checks that Build fills the zero values that mean a
// default in a Config built in code, without modifying the caller's.
func TestBuildDefaults(t *testing.T) {
	c := Default()
	c.ID = "acme"
	c.Groups = []Group{{Name: "support"}}
	c.Agents = []Agent{{ID: "alice"}}
	c.Menu = bot.Menu{Title: "Hi", Items: []bot.MenuItem{{ID: "0", Label: "Person", Handoff: "support"}}}
	c.Knowledge = []bot.Entry{{ID: "hours", Questions: []string{"When are you open?"}, Answer: "9 to 5."}}
	rt, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	got := rt.Config
	if got.DefaultGroup != "support" || got.Groups[0].Policy != DefaultPolicy || got.Bot.HandoffGroup != "support" || rt.AgentDefaults["alice"].MaxChats != DefaultMaxChats {
		t.Errorf("Runtime.Config %+v; want defaults filled", got)
	}
	if c.Groups[0].Policy != "" || c.Agents[0].MaxChats != 0 {
		t.Errorf("Build modified its argument: %+v", c)
	}
}

// TestKnowledgeFile checks that knowledge_file is resolved against the
// tenant file's directory, whatever the working directory.
func TestKnowledgeFile(t *testing.T) {
	abs, err := filepath.Abs("testdata/withfile/tenant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	faq, err := filepath.Abs("testdata/withfile/faq.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyTo := func(name, knowledgeFile string) string {
		data := strings.Replace(string(readFile(t, "testdata/withfile/tenant.yaml")), "knowledge_file: faq.yaml", "knowledge_file: "+knowledgeFile, 1)
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.WriteFile(filepath.Join(dir, "shared.yaml"), readFile(t, "testdata/withfile/faq.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"relative path, relative file", "testdata/withfile/tenant.yaml"},
		{"absolute path", abs},
		{"file in a parent directory", copyTo("sub/tenant.yaml", "../shared.yaml")},
		{"absolute knowledge file", copyTo("abs.yaml", faq)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Knowledge) != 2 || c.Knowledge[0].ID != "hours" {
				t.Errorf("knowledge %+v; want faq.yaml's two entries", c.Knowledge)
			}
		})
	}

	t.Run("samples", func(t *testing.T) {
		doc := func(file string) []byte {
			var items []string
			for _, id := range []string{"0", "1", "2", "3", "4", "5"} { // the sample entries link to items 1-5
				items = append(items, "{id: '"+id+"', label: Person, handoff: general}")
			}
			return []byte("id: x\ngroups: [{name: general}]\nmenu: {title: Hi, items: [" + strings.Join(items, ", ") + "]}\nknowledge_file: " + file + "\n")
		}
		c, err := Parse(doc("sample:shopping"), "doc")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Knowledge) != len(bot.SampleEntries()) {
			t.Errorf("sample:shopping gave %d entries; want %d", len(c.Knowledge), len(bot.SampleEntries()))
		}
		_, err = Parse(doc("sample:books"), "doc")
		checkProblems(t, err, ErrKnowledge, []string{`doc:4: knowledge_file: unknown sample "books" (known: sample:shopping)`})
	})

	t.Run("broken knowledge file", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("- id: a\n  questions: [q]\n  anwser: x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(copyTo("usesbad.yaml", "bad.yaml"))
		if err == nil || !strings.Contains(err.Error(), "usesbad.yaml:10: knowledge_file: ") ||
			!strings.Contains(err.Error(), "bad.yaml:3: field anwser") || !errors.Is(err, bot.ErrUnknownField) {
			t.Errorf("err = %v; want the tenant file's line and the knowledge file's line and field", err)
		}
	})

	t.Run("both inline and file", func(t *testing.T) {
		_, err := Parse([]byte(`
id: x
groups: [{name: general}]
menu: {title: Hi, items: [{id: '0', label: Person, handoff: general}]}
knowledge: [{id: a, questions: [q], answer: x}]
knowledge_file: sample:shopping
`), "doc")
		checkProblems(t, err, ErrInvalid, []string{"doc:6: knowledge_file: give knowledge or knowledge_file, not both"})
	})

	t.Run("missing tenant file", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "load tenant ") {
			t.Errorf("err = %v; want load tenant ...: %v", err, os.ErrNotExist)
		}
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		yaml string
		want time.Duration
		err  string
	}{
		{yaml: "90s", want: 90 * time.Second},
		{yaml: "10m", want: 10 * time.Minute},
		{yaml: "1h30m", want: 90 * time.Minute},
		{yaml: "250ms", want: 250 * time.Millisecond},
		{yaml: `"2m"`, want: 2 * time.Minute},
		{yaml: "0", want: 0},
		{yaml: "-5s", want: -5 * time.Second},
		{yaml: "90", err: "line 1: cannot unmarshal `90` into a duration: want a number with a unit"},
		{yaml: "ten minutes", err: "line 1: cannot unmarshal `ten minutes` into a duration"},
		{yaml: "[1s]", err: "line 1: cannot unmarshal !!seq into a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			var d Duration
			err := yaml.Unmarshal([]byte(tt.yaml), &d)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Duration(d) != tt.want {
				t.Fatalf("got %v; want %v", time.Duration(d), tt.want)
			}
			out, err := yaml.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back Duration
			if err := yaml.Unmarshal(out, &back); err != nil || back != d {
				t.Errorf("round trip through %q: %v, %v", out, back, err)
			}
		})
	}
}

// TestFormatExample checks that the example in FORMAT.md is a valid tenant
// file, so the documentation cannot drift from the code.
func TestFormatExample(t *testing.T) {
	doc := string(readFile(t, "FORMAT.md"))
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(m) == 0 {
		t.Fatal("FORMAT.md has no yaml example")
	}
	c, err := Parse([]byte(m[0][1]), "FORMAT.md example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(c); err != nil {
		t.Fatal(err)
	}
	// Every key of every type must be documented.
	for _, typ := range []string{"tenant.Config", "tenant.Group", "tenant.Agent", "tenant.Limits", "bot.Config", "bot.Menu", "bot.MenuItem", "bot.Entry"} {
		keys := fieldsOf(typ)
		if len(keys) == 0 {
			t.Errorf("fieldsOf(%s) is empty", typ)
		}
		for _, k := range keys {
			if !strings.Contains(doc, "`"+k+"`") {
				t.Errorf("FORMAT.md does not document %s key `%s`", typ, k)
			}
		}
	}
}

// FuzzParse checks that Parse never panics and that what it accepts is
// valid and builds.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/minimal.yaml", "testdata/many_problems.yaml", "testdata/mistyped.yaml", "testdata/unknown_nested.yaml", "testdata/fraction.yaml", "demo.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a document Validate rejects: %v", err)
		}
		// bot.New also checks what only the bot can (a phrase or menu id
		// that normalises to nothing, two ids that normalise alike).
		if _, err := Build(c); err != nil && !errors.Is(err, bot.ErrInvalidConfig) && !errors.Is(err, bot.ErrInvalidMenu) && !errors.Is(err, bot.ErrInvalidEntry) {
			t.Fatalf("Parse accepted a document Build rejects: %v", err)
		}
	})
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
