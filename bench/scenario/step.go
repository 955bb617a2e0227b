package scenario

import (
	"fmt"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
)

// Step is one step of the customer script. A file writes it as a one-key
// mapping naming the step, with its settings (or a distribution) as the
// value, or as the bare name for a step whose settings all have defaults:
//
//	script:
//	  - connect
//	  - open: {channel: web}
//	  - think: exp(10s)
//	  - chat: {messages: 4, think: exp(20s)}
//	  - ask_person:
//	    chance: 20%
//
// Exactly one of the step fields is set; Kind says which. A step name with
// no value ("- ask_person:") is the bare step. Chance, if set, is the
// probability that a customer takes the step at all.
type Step struct {
	// Connect opens the customer's connections (one per device) and says
	// hello.
	Connect *Connect `yaml:"connect,omitempty"`
	// Open opens a conversation; the bot answers with the menu.
	Open *Open `yaml:"open,omitempty"`
	// ExpectMenu waits for the menu of the conversation just opened.
	ExpectMenu *ExpectMenu `yaml:"expect_menu,omitempty"`
	// Think waits for a while, as a customer reading or thinking.
	Think *Dist `yaml:"think,omitempty"`
	// Ask types questions for the bot, drawn from the question corpus.
	Ask *Ask `yaml:"ask,omitempty"`
	// Choose picks a menu item.
	Choose *Choose `yaml:"choose,omitempty"`
	// AskPerson asks for a human agent.
	AskPerson *AskPerson `yaml:"ask_person,omitempty"`
	// Chat exchanges messages with the agent.
	Chat *Chat `yaml:"chat,omitempty"`
	// Background sends the app to the background for a while: it keeps
	// its connections but reads nothing, as a suspended app, then catches
	// up.
	Background *Dist `yaml:"background,omitempty"`
	// Kill kills the app: its connections drop without goodbye, and it
	// reconnects and resumes its conversations after a while.
	Kill *Kill `yaml:"kill,omitempty"`
	// Close closes the conversation.
	Close *Close `yaml:"close,omitempty"`
	// AbandonAfter sets the customer's patience: from here on, a customer
	// waiting in a queue longer than a draw of it gives up and leaves.
	AbandonAfter *Dist `yaml:"abandon_after,omitempty"`
	// Chance is the probability that a customer takes the step; unset
	// means always. Not allowed on connect and open.
	Chance *Ratio `yaml:"chance,omitempty"`

	// problem is what was wrong with a bare step name, reported by
	// Validate; bad is its sentinel.
	problem string
	bad     error
}

// Connect is the connect step; it has no settings.
type Connect struct{}

// Open is the open step's settings.
type Open struct {
	// Channel is the channel the conversation comes from ("app", "web",
	// "mini-program"). Default app.
	Channel string `yaml:"channel"`
	// Group is a skill-group hint for a later handoff; "" leaves it to the
	// tenant.
	Group string `yaml:"group,omitempty"`
}

// ExpectMenu is the expect_menu step; it has no settings.
type ExpectMenu struct{}

// Ask is the ask step's settings: questions for the bot. Once the
// conversation has gone to a person (waiting or served), the step is
// skipped: chat is what the customer does with an agent.
type Ask struct {
	// Count is how many questions, each after the answer to the previous.
	// Default 1.
	Count int `yaml:"count"`
	// Think is the wait before each question after the first. Default
	// exp(10s).
	Think Dist `yaml:"think"`
}

// Choose is the choose step's settings: a menu item sent back.
type Choose struct {
	// Items are the menu item ids to choose among, one at random; empty
	// means any item the bot answers (not a handoff).
	Items []string `yaml:"items,omitempty"`
}

// AskPerson is the ask_person step's settings: a request for a human.
// Skipped when the conversation has gone to a person already (a menu item
// or the bot handed it off).
type AskPerson struct {
	// Group is the skill group asked for; "" leaves it to the
	// conversation's hint or the tenant's default group.
	Group string `yaml:"group,omitempty"`
}

// Chat is the chat step's settings: messages exchanged with the agent.
// When no agent serves the conversation (the bot resolved it, or the
// customer gave up waiting), the step is skipped; while the customer waits
// in the queue, it waits for the agent first.
type Chat struct {
	// Messages is how many messages the customer sends, each after the
	// agent's reply to the previous one and a think time. Default 3.
	Messages int `yaml:"messages"`
	// Think is the customer's time to read a reply and write the next
	// message. Default lognormal(median=10s, p90=40s).
	Think Dist `yaml:"think"`
}

// Kill is the kill step's settings.
type Kill struct {
	// ReconnectAfter is how long the app stays dead before reconnecting
	// and resuming. Default const(2s).
	ReconnectAfter Dist `yaml:"reconnect_after"`
}

// Close is the close step; it has no settings.
type Close struct{}

// StepKind names a step type.
type StepKind string

// The step types, as a scenario file names them.
const (
	StepConnect      StepKind = "connect"
	StepOpen         StepKind = "open"
	StepExpectMenu   StepKind = "expect_menu"
	StepThink        StepKind = "think"
	StepAsk          StepKind = "ask"
	StepChoose       StepKind = "choose"
	StepAskPerson    StepKind = "ask_person"
	StepChat         StepKind = "chat"
	StepBackground   StepKind = "background"
	StepKill         StepKind = "kill"
	StepClose        StepKind = "close"
	StepAbandonAfter StepKind = "abandon_after"
)

// stepKinds lists the step types in the order of Step's fields.
var stepKinds = []StepKind{StepConnect, StepOpen, StepExpectMenu, StepThink, StepAsk, StepChoose, StepAskPerson, StepChat, StepBackground, StepKill, StepClose, StepAbandonAfter}

// StepKinds returns every step type, in the order FORMAT.md lists them.
func StepKinds() []StepKind { return append([]StepKind(nil), stepKinds...) }

// Kind returns the type of the step, or "" when none or several step
// fields are set (Validate reports both).
func (s *Step) Kind() StepKind {
	kinds := s.kinds()
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// kinds lists the step fields that are set.
func (s *Step) kinds() []StepKind {
	var ks []StepKind
	add := func(set bool, k StepKind) {
		if set {
			ks = append(ks, k)
		}
	}
	add(s.Connect != nil, StepConnect)
	add(s.Open != nil, StepOpen)
	add(s.ExpectMenu != nil, StepExpectMenu)
	add(s.Think != nil, StepThink)
	add(s.Ask != nil, StepAsk)
	add(s.Choose != nil, StepChoose)
	add(s.AskPerson != nil, StepAskPerson)
	add(s.Chat != nil, StepChat)
	add(s.Background != nil, StepBackground)
	add(s.Kill != nil, StepKill)
	add(s.Close != nil, StepClose)
	add(s.AbandonAfter != nil, StepAbandonAfter)
	return ks
}

// Probability is the chance that a customer takes the step: Chance, or 1
// when unset.
func (s *Step) Probability() float64 {
	if s.Chance == nil {
		return 1
	}
	return float64(*s.Chance)
}

// UnmarshalText decodes a bare step name ("- connect"), giving the step its
// default settings. An unknown name, or a step that needs a value, is kept
// as a problem for Validate, which knows the step's line and path.
func (s *Step) UnmarshalText(text []byte) error {
	s.setBare(string(text))
	return nil
}

// setBare sets the step named name with its default settings, or records
// why it cannot.
func (s *Step) setBare(name string) {
	switch StepKind(name) {
	case StepConnect:
		s.Connect = &Connect{}
	case StepOpen:
		s.Open = &Open{Channel: defaultChannel}
	case StepExpectMenu:
		s.ExpectMenu = &ExpectMenu{}
	case StepAsk:
		s.Ask = &Ask{Count: 1, Think: defaultAskThink}
	case StepChoose:
		s.Choose = &Choose{}
	case StepAskPerson:
		s.AskPerson = &AskPerson{}
	case StepChat:
		s.Chat = &Chat{Messages: defaultChatMessages, Think: defaultChatThink}
	case StepKill:
		s.Kill = &Kill{ReconnectAfter: defaultReconnect}
	case StepClose:
		s.Close = &Close{}
	case StepThink, StepBackground, StepAbandonAfter:
		s.problem = fmt.Sprintf("%s needs a distribution, e.g. \"- %s: exp(10s)\"", name, name)
		s.bad = ErrInvalid
	default:
		known := make([]string, len(stepKinds))
		for i, k := range stepKinds {
			known[i] = string(k)
		}
		s.problem = fmt.Sprintf("unknown step %q", name)
		if sug := strictyaml.Suggest(name, known); sug != "" {
			s.problem += fmt.Sprintf(" (did you mean %s?)", sug)
		}
		s.bad = ErrUnknownField
	}
}

// Step defaults, also applied where a file gives a step's settings but
// leaves one out.
const (
	defaultChannel      = "app"
	defaultChatMessages = 3
)

var (
	defaultAskThink  = Exp(10 * time.Second)
	defaultChatThink = LogNormal(10*time.Second, 40*time.Second)
	defaultReconnect = Const(2 * time.Second)
	defaultStormWait = Uniform(0, 5*time.Second)
)
