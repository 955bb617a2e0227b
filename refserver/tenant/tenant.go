// Package tenant owns a tenant's configuration: one company using the
// service, with its skill groups (queues of human agents), routing policies,
// navigation menu and bot knowledge base.
//
// A Config is plain data, as an operator writes it in a YAML tenant file
// (documented in FORMAT.md beside this file). Parse and Load decode a file
// strictly, apply defaults and validate it; every error names the file, the
// line and the field. Build turns a valid Config into a Runtime: the bot and
// the parsed routing policies the server needs.
package tenant

import (
	"fmt"
	"slices"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
	"github.com/swarmdesk/swarmdesk/refserver/routing"
)

// Config is a tenant's configuration document (YAML), as an operator writes
// it. Zero values mean "the default" where FORMAT.md says so; Parse and Load
// fill them in.
type Config struct {
	// ID names the tenant in the protocol, metrics and admin API:
	// 1 to 64 characters of a-z, 0-9, '-' and '_'. Required.
	ID string `yaml:"id"`
	// Name is a human-readable name, for consoles and reports.
	Name string `yaml:"name"`
	// Secret signs the tenant's tokens (SignToken): when set, at least
	// MinSecretLen bytes, and a hello must carry a valid token; empty, the
	// tenant admits any hello. Optional.
	Secret string `yaml:"secret,omitempty"`
	// DefaultGroup is the skill group of a handoff that names none. It must
	// be one of Groups; it may be left out when there is only one group.
	DefaultGroup string `yaml:"default_group"`
	// Groups are the skill groups; at least one.
	Groups []Group `yaml:"groups"`
	// Agents are optional per-agent defaults, used when an agent signs in
	// without saying its groups or maximum.
	Agents []Agent `yaml:"agents,omitempty"`
	// Menu is the navigation menu the bot opens a conversation with.
	Menu bot.Menu `yaml:"menu"`
	// Bot tunes the bot; fields left out keep bot.DefaultConfig's values,
	// and an empty handoff group means DefaultGroup.
	Bot bot.Config `yaml:"bot"`
	// Knowledge holds inline FAQ entries. Exactly one of Knowledge and
	// KnowledgeFile is given.
	Knowledge []bot.Entry `yaml:"knowledge,omitempty"`
	// KnowledgeFile is a knowledge-base file (bot.LoadEntries format),
	// relative to the tenant file's directory, or "sample:shopping" for
	// bot.SampleEntries. Parse and Load load it into Knowledge.
	KnowledgeFile string `yaml:"knowledge_file,omitempty"`
	// Limits bound what agents and conversations may use.
	Limits Limits `yaml:"limits"`
}

// Group is a skill group: a queue of conversations and the human agents
// who serve it.
type Group struct {
	// Name identifies the group; unique within the tenant.
	Name string `yaml:"name"`
	// Policy picks among the group's agents with room: "least-loaded" (the
	// default), "round-robin" or "longest-idle" (see routing.ParsePolicy).
	Policy string `yaml:"policy"`
	// Priority is the queue priority of the group's conversations: higher
	// is served first. Default 0.
	Priority int `yaml:"priority"`
}

// Agent is one agent's defaults, applied when the agent signs in without
// stating them.
type Agent struct {
	// ID is the agent's user id; unique within the tenant.
	ID string `yaml:"id"`
	// Groups are the skill groups the agent serves; empty means all groups.
	Groups []string `yaml:"groups"`
	// MaxChats is how many chats the agent carries at once; 0 means
	// Limits.DefaultMaxChats.
	MaxChats int `yaml:"max_chats"`
}

// Limits bound what agents and conversations of a tenant may use.
type Limits struct {
	// DefaultMaxChats is an agent's maximum of concurrent chats when
	// neither the agent nor its defaults say. Default 5.
	DefaultMaxChats int `yaml:"default_max_chats"`
	// MaxChatsCap is the most chats any agent may carry. Default 50.
	MaxChatsCap int `yaml:"max_chats_cap"`
	// TranscriptMax is how many of the latest messages an agent receives
	// with an assignment. Default 50; 0 sends none.
	TranscriptMax int `yaml:"transcript_max"`
	// RetainClosed is how long a closed conversation is kept so the
	// customer can resume it. Default 10m.
	RetainClosed Duration `yaml:"retain_closed"`
	// QueuePositionInterval coalesces queue-position updates: a waiting
	// customer is told at most once per interval. Default 1s.
	QueuePositionInterval Duration `yaml:"queue_position_interval"`
	// IdleClose closes a conversation in which nobody wrote for this long
	// (a customer whose app died without closing), so abandoned
	// conversations do not hold memory or agent capacity for ever.
	// Default 30m; 0 never closes.
	IdleClose Duration `yaml:"idle_close"`
}

// Default values, applied by Default and by Parse for fields a file leaves
// out.
const (
	// DefaultPolicy is a group's routing policy when it names none.
	DefaultPolicy = "least-loaded"
	// DefaultMaxChats is the default Limits.DefaultMaxChats.
	DefaultMaxChats = 5
	// DefaultMaxChatsCap is the default Limits.MaxChatsCap.
	DefaultMaxChatsCap = 50
	// DefaultTranscriptMax is the default Limits.TranscriptMax.
	DefaultTranscriptMax = 50
	// DefaultRetainClosed is the default Limits.RetainClosed.
	DefaultRetainClosed = 10 * time.Minute
	// DefaultQueuePositionInterval is the default
	// Limits.QueuePositionInterval.
	DefaultQueuePositionInterval = time.Second
	// DefaultIdleClose is the default Limits.IdleClose.
	DefaultIdleClose = 30 * time.Minute
)

// Default returns a Config holding every default (limits, bot settings) and
// nothing else: no id, groups or knowledge. Parse decodes a file over it.
// It is not the demo tenant; see Demo.
func Default() Config {
	bc := bot.DefaultConfig()
	bc.HandoffGroup = "" // filled from default_group, which bot cannot know
	return Config{
		Bot: bc,
		Limits: Limits{
			DefaultMaxChats:       DefaultMaxChats,
			MaxChatsCap:           DefaultMaxChatsCap,
			TranscriptMax:         DefaultTranscriptMax,
			RetainClosed:          Duration(DefaultRetainClosed),
			QueuePositionInterval: Duration(DefaultQueuePositionInterval),
			IdleClose:             Duration(DefaultIdleClose),
		},
	}
}

// applyDefaults fills the zero values that mean "the default" and depend on
// other fields (or are per element of a list), which Default cannot fill
// before decoding.
func (c *Config) applyDefaults() {
	if c.DefaultGroup == "" && len(c.Groups) == 1 {
		c.DefaultGroup = c.Groups[0].Name
	}
	for i := range c.Groups {
		if c.Groups[i].Policy == "" {
			c.Groups[i].Policy = DefaultPolicy
		}
	}
	for i := range c.Agents {
		if c.Agents[i].MaxChats == 0 {
			c.Agents[i].MaxChats = c.Limits.DefaultMaxChats
		}
	}
	if c.Bot.HandoffGroup == "" {
		c.Bot.HandoffGroup = c.DefaultGroup
	}
}

// Runtime is what the server builds from a Config: the parts that are not
// plain data. It is immutable once built; a reload builds a new one.
type Runtime struct {
	// Config is the validated configuration the Runtime was built from.
	Config Config
	// Bot answers the tenant's customers from its knowledge base and menu.
	Bot *bot.Bot
	// Policies maps each skill group's name to its routing policy.
	Policies map[string]routing.Policy
	// AgentDefaults maps an agent id to its defaults.
	AgentDefaults map[string]Agent
}

// Build validates c and builds its Runtime: the knowledge base and bot, and
// the routing policy of each group. Zero values that mean a default (see
// Validate) are filled in Runtime.Config; c itself is not modified.
func Build(c Config) (*Runtime, error) {
	c.Groups = slices.Clone(c.Groups)
	c.Agents = slices.Clone(c.Agents)
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("build tenant %s: %w", c.ID, err)
	}
	kb, err := bot.NewKnowledgeBase(c.Knowledge)
	if err != nil {
		return nil, fmt.Errorf("build tenant %s: knowledge: %w", c.ID, err)
	}
	b, err := bot.New(kb, c.Menu, c.Bot)
	if err != nil {
		return nil, fmt.Errorf("build tenant %s: bot: %w", c.ID, err)
	}
	rt := &Runtime{
		Config:        c,
		Bot:           b,
		Policies:      make(map[string]routing.Policy, len(c.Groups)),
		AgentDefaults: make(map[string]Agent, len(c.Agents)),
	}
	for _, g := range c.Groups {
		p, err := routing.ParsePolicy(g.Policy)
		if err != nil {
			return nil, fmt.Errorf("build tenant %s: group %s: %w", c.ID, g.Name, err)
		}
		rt.Policies[g.Name] = p
	}
	for _, a := range c.Agents {
		rt.AgentDefaults[a.ID] = a
	}
	return rt, nil
}
