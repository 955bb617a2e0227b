package bot

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// sampleBot returns a bot over the sample tenant with cfg.
func sampleBot(t testing.TB, cfg Config) *Bot {
	t.Helper()
	kb, err := NewKnowledgeBase(SampleEntries())
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(kb, SampleMenu(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// offTopic is a question the sample knowledge base cannot answer.
const offTopic = "what's the capital of Australia"

func TestAsk(t *testing.T) {
	b := sampleBot(t, DefaultConfig())
	title := b.Menu().Title
	tests := []struct {
		name     string
		question string
		misses   uint8 // session before
		want     Reply // Confidence is checked only for range
		after    uint8 // session misses after
	}{
		// Asking for a person.
		{"人工", "人工", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"转人工 in a sentence", "我要转人工！", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"真人 full-width punctuation", "有没有真人？？", 1, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 1},
		{"human", "can I talk to a human please", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"AGENT uppercase", "AGENT", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"full-width human", "ｈｕｍａｎ", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"plural agents", "are there any agents online", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"real person split by punctuation", "a REAL... person!", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"mixed zh and en", "refund太慢了我要找人工客服", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonRequested}, 0},
		{"agent inside a word is not a request", "reagents", 0, Reply{Action: ActionMenu, Text: DefaultMissText}, 1},

		// Answers.
		{"english question", "where is my order?", 0, Reply{Action: ActionAnswer, EntryID: "en-order-status", Link: "1"}, 0},
		{"chinese question", "退款多久能到账啊", 0, Reply{Action: ActionAnswer, EntryID: "zh-refund-time"}, 0},
		{"answer keeps earlier misses", "退款多久能到账", 2, Reply{Action: ActionAnswer, EntryID: "zh-refund-time"}, 2},

		// Misses.
		{"first miss", offTopic, 0, Reply{Action: ActionMenu, Text: DefaultMissText}, 1},
		{"second miss", "给我讲个笑话", 1, Reply{Action: ActionMenu, Text: DefaultMissText}, 2},
		{"miss after MaxMisses hands off", offTopic, 2, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Reason: ReasonMisses}, 2},
		{"unknown words only", "zxqv blorp", 0, Reply{Action: ActionMenu, Text: DefaultMissText}, 1},

		// Not a question: show the menu, count nothing.
		{"empty", "", 1, Reply{Action: ActionMenu, Text: title}, 1},
		{"punctuation", "？？？!!", 0, Reply{Action: ActionMenu, Text: title}, 0},
		{"emoji", "😀👍", 0, Reply{Action: ActionMenu, Text: title}, 0},
		{"greeting", "hi there!", 0, Reply{Action: ActionMenu, Text: title}, 0},
		{"chinese greeting", "你好", 2, Reply{Action: ActionMenu, Text: title}, 2},
		{"thanks", "谢谢！", 0, Reply{Action: ActionMenu, Text: title}, 0},

		// A menu item id typed as text.
		{"item id", "1", 0, Reply{Action: ActionAnswer, EntryID: "menu-orders", Confidence: 1, Link: "1"}, 0},
		{"full-width item id", "２", 0, Reply{Action: ActionAnswer, EntryID: "menu-returns", Confidence: 1, Link: "2"}, 0},
		{"handoff item id", " 0 ", 0, Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Confidence: 1, Reason: ReasonMenu}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Session{Misses: tt.misses}
			got := b.Ask(&s, tt.question)
			if got.Confidence < 0 || got.Confidence > 1 {
				t.Errorf("confidence %v outside [0,1]", got.Confidence)
			}
			if tt.want.Action == ActionAnswer {
				e, _ := b.KnowledgeBase().Entry(tt.want.EntryID)
				tt.want.Text = e.Answer
				if got.Confidence < DefaultThreshold {
					t.Errorf("answered with confidence %v below the threshold", got.Confidence)
				}
				if tt.want.Confidence == 0 {
					tt.want.Confidence = got.Confidence
				}
			}
			if tt.want.Action == ActionMenu || tt.want.Reason == ReasonMisses {
				tt.want.Confidence = got.Confidence
				if got.Confidence >= DefaultThreshold {
					t.Errorf("miss with confidence %v at or above the threshold", got.Confidence)
				}
			}
			if got != tt.want {
				t.Errorf("Ask(%q) =\n\t%+v, want\n\t%+v", tt.question, got, tt.want)
			}
			if s.Misses != tt.after {
				t.Errorf("session misses %d, want %d", s.Misses, tt.after)
			}
		})
	}
}

func TestAskMissSequence(t *testing.T) {
	tests := []struct {
		name      string
		maxMisses int
		want      []Reply // replies to successive off-topic questions
	}{
		{"MaxMisses 0 hands off at once", 0, []Reply{
			{Action: ActionHandoff, Reason: ReasonLowConfidence},
			{Action: ActionHandoff, Reason: ReasonLowConfidence},
		}},
		{"MaxMisses 1", 1, []Reply{
			{Action: ActionMenu},
			{Action: ActionHandoff, Reason: ReasonMisses},
		}},
		{"MaxMisses 3", 3, []Reply{
			{Action: ActionMenu}, {Action: ActionMenu}, {Action: ActionMenu},
			{Action: ActionHandoff, Reason: ReasonMisses},
			{Action: ActionHandoff, Reason: ReasonMisses},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxMisses = tt.maxMisses
			cfg.HandoffGroup = "bots-gave-up"
			b := sampleBot(t, cfg)
			var s Session
			for i, w := range tt.want {
				got := b.Ask(&s, offTopic)
				if got.Action != w.Action || got.Reason != w.Reason {
					t.Fatalf("miss %d: %v %q, want %v %q", i+1, got.Action, got.Reason, w.Action, w.Reason)
				}
				if got.Action == ActionHandoff && got.Group != "bots-gave-up" {
					t.Errorf("miss %d: group %q, want the configured one", i+1, got.Group)
				}
				if int(s.Misses) > tt.maxMisses {
					t.Errorf("miss %d: session misses %d above MaxMisses %d", i+1, s.Misses, tt.maxMisses)
				}
			}
		})
	}
}

func TestAskNilSession(t *testing.T) {
	b := sampleBot(t, DefaultConfig())
	if r := b.Ask(nil, offTopic); r.Action != ActionMenu {
		t.Errorf("miss with a nil session: %+v", r)
	}
	if r := b.Ask(nil, "where is my order"); r.Action != ActionAnswer {
		t.Errorf("answer with a nil session: %+v", r)
	}
}

func TestAskCustomTexts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MissText, cfg.HandoffText, cfg.HumanWords = "Huh?", "Hold on.", []string{"boss"}
	b := sampleBot(t, cfg)
	var s Session
	if r := b.Ask(&s, offTopic); r.Text != "Huh?" {
		t.Errorf("miss text %q", r.Text)
	}
	if r := b.Ask(&s, "get me your BOSS"); r.Action != ActionHandoff || r.Text != "Hold on." {
		t.Errorf("custom human word: %+v", r)
	}
	if r := b.Ask(&s, "人工"); r.Action == ActionHandoff {
		t.Errorf("default human word still active: %+v", r)
	}
}

func TestChoose(t *testing.T) {
	b := sampleBot(t, DefaultConfig())
	title := b.Menu().Title
	answer := func(id string) string {
		e, _ := b.KnowledgeBase().Entry(id)
		return e.Answer
	}
	tests := []struct {
		item string
		want Reply
	}{
		{"1", Reply{Action: ActionAnswer, Text: answer("menu-orders"), EntryID: "menu-orders", Confidence: 1, Link: "1"}},
		{"5", Reply{Action: ActionAnswer, Text: answer("menu-account"), EntryID: "menu-account", Confidence: 1, Link: "5"}},
		{"６", Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "aftersales", Confidence: 1, Reason: ReasonMenu}},
		{" 0 ", Reply{Action: ActionHandoff, Text: DefaultHandoffText, Group: "general", Confidence: 1, Reason: ReasonMenu}},
		{"9", Reply{Action: ActionMenu, Text: title}},
		{"", Reply{Action: ActionMenu, Text: title}},
		{"where is my order", Reply{Action: ActionMenu, Text: title}},
	}
	for _, tt := range tests {
		s := Session{Misses: 1}
		if got := b.Choose(&s, tt.item); got != tt.want {
			t.Errorf("Choose(%q) =\n\t%+v, want\n\t%+v", tt.item, got, tt.want)
		}
		if s.Misses != 1 {
			t.Errorf("Choose(%q) changed the session: %+v", tt.item, s)
		}
	}
}

func TestNewErrors(t *testing.T) {
	kb, err := NewKnowledgeBase(tinyEntries())
	if err != nil {
		t.Fatal(err)
	}
	menu := Menu{Title: "Menu", Items: []MenuItem{
		{ID: "1", Label: "Refunds", Answer: "en-refund-time"},
		{ID: "0", Label: "Person", Handoff: "general"},
	}}
	if _, err := New(kb, menu, DefaultConfig()); err != nil {
		t.Fatalf("valid bot: %v", err)
	}
	tests := []struct {
		name string
		kb   *KnowledgeBase
		menu func(*Menu)
		cfg  func(*Config)
		is   error
		want string
	}{
		{"nil knowledge base", nil, nil, nil, ErrInvalidConfig, "nil knowledge base"},
		{"threshold above 1", kb, nil, func(c *Config) { c.Threshold = 1.5 }, ErrInvalidConfig, "threshold 1.5 outside [0,1]"},
		{"negative threshold", kb, nil, func(c *Config) { c.Threshold = -0.1 }, ErrInvalidConfig, "threshold"},
		{"NaN threshold", kb, nil, func(c *Config) { c.Threshold = math.NaN() }, ErrInvalidConfig, "threshold NaN"},
		{"max misses too big", kb, nil, func(c *Config) { c.MaxMisses = 256 }, ErrInvalidConfig, "max_misses 256"},
		{"negative max misses", kb, nil, func(c *Config) { c.MaxMisses = -1 }, ErrInvalidConfig, "max_misses -1"},
		{"blank human word", kb, nil, func(c *Config) { c.HumanWords = []string{"human", "!!"} }, ErrInvalidConfig, `human_words[1] "!!"`},
		{"item answers unknown entry", kb, func(m *Menu) { m.Items[0].Answer = "nope" }, nil, ErrInvalidMenu, `item 0 ("1"): answer: no entry "nope"`},
		{"duplicate item", kb, func(m *Menu) { m.Items[1].ID = "１" }, nil, ErrInvalidMenu, `item 1 ("１"): id: duplicate id`},
		{"item with both", kb, func(m *Menu) { m.Items[1].Answer = "en-refund-time" }, nil, ErrInvalidMenu, "both an answer and a handoff"},
		{"no title", kb, func(m *Menu) { m.Title = "" }, nil, ErrInvalidMenu, "title: empty title"},
		{"no items", kb, func(m *Menu) { m.Items = nil }, nil, ErrInvalidMenu, "items: no items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Menu{Title: menu.Title, Items: append([]MenuItem(nil), menu.Items...)}
			cfg := DefaultConfig()
			if tt.menu != nil {
				tt.menu(&m)
			}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			b, err := New(tt.kb, m, cfg)
			if err == nil {
				t.Fatalf("New = %v, want an error", b)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %v containing %q", err, tt.is, tt.want)
			}
		})
	}
}

func TestNewEntryLinks(t *testing.T) {
	entries := tinyEntries()
	entries[0].Link = "7"
	kb, err := NewKnowledgeBase(entries)
	if err != nil {
		t.Fatal(err)
	}
	menu := Menu{Title: "Menu", Items: []MenuItem{{ID: "1", Label: "Refunds", Answer: "en-refund-time"}}}
	_, err = New(kb, menu, DefaultConfig())
	if !errors.Is(err, ErrInvalidMenu) || !strings.Contains(err.Error(), `entry "en-refund-time": link: no menu item "7"`) {
		t.Errorf("dangling link: error %v", err)
	}
	menu.Items = append(menu.Items, MenuItem{ID: "７", Label: "Seven", Handoff: "g"})
	if _, err := New(kb, menu, DefaultConfig()); err != nil {
		t.Errorf("link to a full-width item id: %v", err)
	}
}

func TestNewCopies(t *testing.T) {
	kb, err := NewKnowledgeBase(tinyEntries())
	if err != nil {
		t.Fatal(err)
	}
	menu := Menu{Title: "Menu", Items: []MenuItem{{ID: "1", Label: "Refunds", Answer: "en-refund-time"}}}
	cfg := DefaultConfig()
	b, err := New(kb, menu, cfg)
	if err != nil {
		t.Fatal(err)
	}
	menu.Items[0].Answer = "en-shipping-fee"
	cfg.HumanWords[0] = "refund"
	if r := b.Choose(nil, "1"); r.EntryID != "en-refund-time" {
		t.Errorf("menu changed with the caller's: %+v", r)
	}
	if r := b.Ask(nil, "refund"); r.Action == ActionHandoff {
		t.Errorf("human words changed with the caller's: %+v", r)
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{ActionAnswer: "answer", ActionMenu: "menu", ActionHandoff: "handoff", 0: "Action(0)"} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", uint8(a), got, want)
		}
	}
}

func TestAskAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	b := sampleBot(t, DefaultConfig())
	questions := []string{"where is my order", "退款多久能到账", offTopic, "人工", "1", "hi", "hasn't arrived"}
	b.Ask(nil, questions[0])
	i := 0
	n := testing.AllocsPerRun(200, func() {
		var s Session
		b.Ask(&s, questions[i%len(questions)])
		b.Choose(&s, "６")
		i++
	})
	if n != 0 {
		t.Errorf("Ask and Choose: %v allocs per run, want 0", n)
	}
}
