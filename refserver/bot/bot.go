package bot

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// MenuItem is one item of a tenant's navigation menu.
type MenuItem struct {
	ID      string `yaml:"id"`                // what the customer sends back to choose it, e.g. "1"
	Label   string `yaml:"label"`             // what the menu shows
	Answer  string `yaml:"answer,omitempty"`  // entry ID answered when chosen
	Handoff string `yaml:"handoff,omitempty"` // skill group to hand off to when chosen ("talk to a person")
}

// Menu is a tenant's navigation menu, shown when a conversation opens and
// whenever the bot cannot help with what the customer typed.
type Menu struct {
	Title string     `yaml:"title"`
	Items []MenuItem `yaml:"items"`
}

// Config tunes the bot. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	// Threshold is the confidence in [0,1] below which a question is a miss.
	Threshold float64 `yaml:"threshold"`
	// MaxMisses is how many misses a conversation may have before the next
	// one hands off (0: the first miss hands off), at most 255.
	MaxMisses int `yaml:"max_misses"`
	// HumanWords are phrases that request a person, matched ignoring case
	// and full-width forms; Latin phrases match whole words only.
	HumanWords []string `yaml:"human_words"`
	// HandoffGroup is the skill group a handoff goes to, unless a menu item
	// names its own; "" leaves the choice to the caller.
	HandoffGroup string `yaml:"handoff_group"`
	// MissText is the reply to a question the bot did not understand;
	// "" selects a bilingual default.
	MissText string `yaml:"miss_text,omitempty"`
	// HandoffText is the notice sent when handing off; "" selects a
	// bilingual default.
	HandoffText string `yaml:"handoff_text,omitempty"`
}

// DefaultThreshold is the default Config.Threshold, measured on the
// held-out probes of the sample knowledge base (sample/heldout.yaml, 105
// answerable paraphrases and 30 off-topic questions, half Chinese, half
// English). Off-topic questions score 0 to 0.5 (most below 0.3: they share
// only words like "how" or 怎么 with some entry); correctly matched
// paraphrases score 0.2 to 1, nearly all above 0.3. At 0.3 the bot answers
// 88.6% of the answerable probes correctly and lets 13.3% of the off-topic
// ones through; 0.25 would let a third through, 0.35 would turn away 10%
// more good answers. TestSampleHeldout re-measures these figures.
const DefaultThreshold = 0.3

// Default texts of Config.MissText and Config.HandoffText.
const (
	DefaultMissText    = "抱歉，我没有理解您的问题，请换个说法或从菜单中选择。Sorry, I didn't catch that: please rephrase, or pick an item from the menu."
	DefaultHandoffText = "正在为您转接人工客服，请稍候。Connecting you to a person, please wait."
)

// DefaultConfig returns the configuration used when a tenant sets none:
// the measured threshold, two misses before a handoff, Chinese and English
// ways of asking for a person, and the "general" skill group.
func DefaultConfig() Config {
	return Config{
		Threshold:    DefaultThreshold,
		MaxMisses:    2,
		HumanWords:   []string{"人工", "转人工", "真人", "人工客服", "human", "agent", "real person", "operator", "representative"},
		HandoffGroup: "general",
		MissText:     DefaultMissText,
		HandoffText:  DefaultHandoffText,
	}
}

// ErrInvalidConfig means a Config value is out of range.
var ErrInvalidConfig = errors.New("bot: invalid config")

// Session is the per-conversation bot state the caller keeps. It is small
// on purpose: one lives in every open conversation.
type Session struct {
	// Misses counts the questions of the conversation the bot could not
	// answer and apologised for. It is not reset by a later answer: a
	// customer who keeps getting lost should reach a person.
	Misses uint8
}

// Action is what the caller should do with a Reply.
type Action uint8

// Actions of a Reply.
const (
	// ActionAnswer: send Reply.Text, the answer of Reply.EntryID.
	ActionAnswer Action = iota + 1
	// ActionMenu: send Reply.Text, then show the menu again.
	ActionMenu
	// ActionHandoff: send Reply.Text and route the conversation to a human
	// agent of skill group Reply.Group.
	ActionHandoff
)

// String returns the action's lowercase name.
func (a Action) String() string {
	switch a {
	case ActionAnswer:
		return "answer"
	case ActionMenu:
		return "menu"
	case ActionHandoff:
		return "handoff"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Reasons for a handoff, in Reply.Reason.
const (
	// ReasonRequested: the customer asked for a person.
	ReasonRequested = "requested"
	// ReasonLowConfidence: the bot did not understand a question and is
	// configured to tolerate no misses (MaxMisses 0).
	ReasonLowConfidence = "low-confidence"
	// ReasonMisses: the bot did not understand a question after MaxMisses
	// earlier misses.
	ReasonMisses = "misses"
	// ReasonMenu: the customer chose a menu item that hands off.
	ReasonMenu = "menu"
)

// Reply is the bot's decision for one customer input.
type Reply struct {
	Action Action
	// Text is the answer (ActionAnswer), an apology or the menu title
	// (ActionMenu), or a short notice (ActionHandoff).
	Text string
	// EntryID is the entry answered (ActionAnswer only).
	EntryID string
	// Group is the skill group of a handoff; "" means the caller's default.
	Group string
	// Confidence is the match confidence in [0,1]: 1 for a menu choice, 0
	// when nothing matched.
	Confidence float64
	// Reason says why a handoff happens: ReasonRequested,
	// ReasonLowConfidence, ReasonMisses or ReasonMenu.
	Reason string
	// Link is the menu item the answer points to, from Entry.Link.
	Link string
}

// Bot answers customers from a knowledge base and a menu and decides when
// to hand off to a person. It is a pure function of its inputs and the
// Session passed in, and is safe for concurrent use (each Session by one
// goroutine at a time).
type Bot struct {
	kb    *KnowledgeBase
	menu  Menu
	cfg   Config
	items map[string]int // normalised item id -> index in menu.Items
	human []phrase
}

// phrase is a normalised HumanWords phrase.
type phrase struct {
	text        []byte
	left, right bool // must start / end at a word boundary (Latin ends)
}

// New checks cfg and menu against kb and returns a bot. Menu items must
// answer entries kb has, and entry links must name menu items. Every
// problem found is returned, joined. The menu and config are copied.
func New(kb *KnowledgeBase, menu Menu, cfg Config) (*Bot, error) {
	if kb == nil {
		return nil, fmt.Errorf("%w: nil knowledge base", ErrInvalidConfig)
	}
	var errs []error
	if math.IsNaN(cfg.Threshold) || cfg.Threshold < 0 || cfg.Threshold > 1 {
		errs = append(errs, fmt.Errorf("%w: threshold %v outside [0,1]", ErrInvalidConfig, cfg.Threshold))
	}
	if cfg.MaxMisses < 0 || cfg.MaxMisses > math.MaxUint8 {
		errs = append(errs, fmt.Errorf("%w: max_misses %d outside [0,255]", ErrInvalidConfig, cfg.MaxMisses))
	}
	b := &Bot{kb: kb, cfg: cfg, items: make(map[string]int, len(menu.Items))}
	b.cfg.HumanWords = append([]string(nil), cfg.HumanWords...)
	if b.cfg.MissText == "" {
		b.cfg.MissText = DefaultMissText
	}
	if b.cfg.HandoffText == "" {
		b.cfg.HandoffText = DefaultHandoffText
	}
	for i, w := range cfg.HumanWords {
		p := phrase{text: normalize(nil, w)}
		if len(p.text) == 0 {
			errs = append(errs, fmt.Errorf("%w: human_words[%d] %q has no letter, digit or CJK character", ErrInvalidConfig, i, w))
			continue
		}
		first, _ := utf8.DecodeRune(p.text)
		last, _ := utf8.DecodeLastRune(p.text)
		p.left, p.right = !isCJK(first), !isCJK(last)
		b.human = append(b.human, p)
	}

	for _, p := range menuProblems(&menu) {
		if p.index < 0 {
			errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidMenu, p.field, p.msg))
		} else {
			errs = append(errs, fmt.Errorf("%w: item %d (%q): %s: %s", ErrInvalidMenu, p.index, menu.Items[p.index].ID, p.field, p.msg))
		}
	}
	b.menu = Menu{Title: menu.Title, Items: append([]MenuItem(nil), menu.Items...)}
	for i, it := range b.menu.Items {
		if it.Answer != "" {
			if _, ok := kb.Entry(it.Answer); !ok {
				errs = append(errs, fmt.Errorf("%w: item %d (%q): answer: no entry %q", ErrInvalidMenu, i, it.ID, it.Answer))
			}
		}
		if id := string(normalize(nil, it.ID)); id != "" {
			if _, dup := b.items[id]; !dup {
				b.items[id] = i
			}
		}
	}
	for i := range kb.entries {
		e := &kb.entries[i]
		if e.Link == "" {
			continue
		}
		if _, ok := b.items[string(normalize(nil, e.Link))]; !ok {
			errs = append(errs, fmt.Errorf("%w: entry %q: link: no menu item %q", ErrInvalidMenu, e.ID, e.Link))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b, nil
}

// Menu returns the bot's menu. It belongs to the bot: do not modify it.
func (b *Bot) Menu() *Menu { return &b.menu }

// KnowledgeBase returns the knowledge base the bot answers from.
func (b *Bot) KnowledgeBase() *KnowledgeBase { return b.kb }

// Ask decides the reply to a free-text question, in this order:
//
//   - nothing but punctuation, emoji or greetings ("hi", "谢谢"): show the
//     menu, not counted as a miss;
//   - exactly a menu item id ("1", "１"): as Choose;
//   - a HumanWords phrase: hand off (ReasonRequested);
//   - a match with confidence ≥ Threshold: answer;
//   - otherwise a miss: hand off if the session already had MaxMisses
//     misses (ReasonMisses; ReasonLowConfidence when MaxMisses is 0, so the
//     first miss hands off), else apologise, count the miss and show the
//     menu (ActionMenu).
//
// s is updated in place; a nil s is treated as a fresh session.
func (b *Bot) Ask(s *Session, question string) Reply {
	sc := b.kb.pool.Get().(*scratch)
	defer b.kb.pool.Put(sc)
	sc.norm = normalize(sc.norm[:0], question)
	if len(sc.norm) == 0 {
		return b.showMenu()
	}
	if i, ok := b.items[string(sc.norm)]; ok {
		return b.choose(i)
	}
	if b.requested(sc.norm) {
		return Reply{Action: ActionHandoff, Text: b.cfg.HandoffText, Group: b.cfg.HandoffGroup, Reason: ReasonRequested}
	}
	m, content := b.kb.match(sc, sc.norm)
	if !content {
		return b.showMenu()
	}
	if m.Entry != nil && m.Confidence >= b.cfg.Threshold {
		return Reply{Action: ActionAnswer, Text: m.Entry.Answer, EntryID: m.Entry.ID, Confidence: m.Confidence, Link: m.Entry.Link}
	}
	var misses uint8
	if s != nil {
		misses = s.Misses
	}
	if int(misses) >= b.cfg.MaxMisses {
		reason := ReasonMisses
		if b.cfg.MaxMisses == 0 {
			reason = ReasonLowConfidence
		}
		return Reply{Action: ActionHandoff, Text: b.cfg.HandoffText, Group: b.cfg.HandoffGroup, Confidence: m.Confidence, Reason: reason}
	}
	if s != nil {
		s.Misses++ // < MaxMisses ≤ 255: cannot overflow
	}
	return Reply{Action: ActionMenu, Text: b.cfg.MissText, Confidence: m.Confidence}
}

// Choose decides the reply to a menu choice: the item's answer, or a
// handoff to the item's skill group (ReasonMenu). An unknown item shows the
// menu again. Item ids match ignoring case, surrounding space and
// full-width forms. A choice never counts as a miss.
func (b *Bot) Choose(s *Session, itemID string) Reply {
	if i, ok := b.items[itemID]; ok {
		return b.choose(i)
	}
	var buf [64]byte
	if i, ok := b.items[string(normalize(buf[:0], itemID))]; ok {
		return b.choose(i)
	}
	return b.showMenu()
}

func (b *Bot) choose(i int) Reply {
	it := &b.menu.Items[i]
	if it.Handoff != "" {
		return Reply{Action: ActionHandoff, Text: b.cfg.HandoffText, Group: it.Handoff, Confidence: 1, Reason: ReasonMenu}
	}
	e, _ := b.kb.Entry(it.Answer) // checked by New
	return Reply{Action: ActionAnswer, Text: e.Answer, EntryID: e.ID, Confidence: 1, Link: e.Link}
}

func (b *Bot) showMenu() Reply {
	return Reply{Action: ActionMenu, Text: b.menu.Title}
}

// requested reports whether normalised text norm contains a HumanWords
// phrase.
func (b *Bot) requested(norm []byte) bool {
	for i := range b.human {
		p := &b.human[i]
		for off := 0; off < len(norm); {
			j := bytes.Index(norm[off:], p.text)
			if j < 0 {
				break
			}
			at := off + j
			end := at + len(p.text)
			if (!p.left || boundaryBefore(norm, at)) && (!p.right || boundaryAfter(norm, end)) {
				return true
			}
			off = at + 1
		}
	}
	return false
}

// boundaryBefore reports whether a word may start at norm[i].
func boundaryBefore(norm []byte, i int) bool {
	if i == 0 || norm[i-1] == ' ' {
		return true
	}
	r, _ := utf8.DecodeLastRune(norm[:i])
	return isCJK(r)
}

// boundaryAfter reports whether a word may end at norm[i], allowing a
// plural s ("agents").
func boundaryAfter(norm []byte, i int) bool {
	if i < len(norm) && norm[i] == 's' {
		i++
	}
	if i == len(norm) || norm[i] == ' ' {
		return true
	}
	r, _ := utf8.DecodeRune(norm[i:])
	return isCJK(r)
}
