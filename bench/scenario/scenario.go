package scenario

import (
	"errors"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// FieldError is one problem in a scenario: where it is and what is wrong,
// formatted as "file:line: field: message". File and Line are empty for a
// scenario built in code. Err is ErrSyntax, ErrUnknownField or ErrInvalid.
type FieldError = strictyaml.Error

// Errors classifying what is wrong; match them with errors.Is. Each
// problem of a document is a *FieldError wrapping one of them, and Parse,
// Load, Validate, Apply and Set join every problem they find.
var (
	// ErrSyntax means the document is not YAML, or not of the shape of a
	// scenario (a list where a mapping belongs, a word where a number
	// belongs), or a distribution, ratio or objective does not parse.
	ErrSyntax = errors.New("scenario: syntax error")
	// ErrUnknownField means a key, a step or a field path the format does
	// not have: a misspelling that would otherwise be silently ignored.
	ErrUnknownField = errors.New("scenario: unknown field")
	// ErrInvalid means a value breaks a constraint (a range, a reference to
	// a tenant or skill group that does not exist, a script step out of
	// order), or a file the scenario names cannot be loaded.
	ErrInvalid = errors.New("scenario: invalid scenario")
	// ErrNotFound means LoadNamed was given a name no embedded scenario
	// has.
	ErrNotFound = errors.New("scenario: no such scenario")
)

// Scenario is a load scenario: who the customers and agents are, how they
// behave, how many arrive when, and what the run must achieve. It is plain
// configuration, apart from any runtime: bench run drives a server with it
// on real connections and bench sim in virtual time.
//
// Every duration and rate in a scenario is in scenario time, the time of
// the humans simulated; Timescale says how fast bench run plays it. The
// file format is documented in FORMAT.md beside this file.
type Scenario struct {
	// Name names the scenario in results and reports. Default: the file's
	// base name without extension.
	Name string `yaml:"name"`
	// Description says what the scenario is for.
	Description string `yaml:"description,omitempty"`
	// Seed makes the run's random choices; the same seed gives the same
	// choices. Default 1.
	Seed uint64 `yaml:"seed"`
	// Duration is the scenario time the run covers. Default: the phases'
	// total; required without phases.
	Duration Duration `yaml:"duration"`
	// Timescale is how many seconds of scenario time bench run plays per
	// second of wall time, so that minutes of human chat fit in seconds of
	// load. Default 1. bench sim runs in virtual time and ignores it.
	Timescale float64 `yaml:"timescale"`
	// Phases shape the arrivals over time, as levels relative to the base
	// (customers.rate or customers.population). None: the base, steady,
	// for Duration.
	Phases []Phase `yaml:"phases,omitempty"`
	// Tenants are the tenants customers belong to. Default: the demo
	// tenant.
	Tenants []Tenant `yaml:"tenants"`
	// Agents are the human agents and their behaviour.
	Agents Agents `yaml:"agents"`
	// Customers are the customers: how they arrive and their script.
	Customers Customers `yaml:"customers"`
	// Messages is the mix of chat messages customers and agents send.
	Messages Messages `yaml:"messages"`
	// Broadcast is the admin's broadcasts to every connected customer.
	// None by default.
	Broadcast Broadcast `yaml:"broadcast,omitempty"`
	// Storms are moments when many customers lose their connection at
	// once and reconnect.
	Storms []Storm `yaml:"storms,omitempty"`
	// Objectives are the conditions the run must meet.
	Objectives []Objective `yaml:"objectives,omitempty"`

	// file is the name the scenario was parsed under ("" if built in
	// code); dir the directory files it names are relative to ("" if
	// none); root its document, for the lines of problems.
	file, dir string
	root      *yaml.Node
	// tenantConfigs holds the configuration of each tenant whose skill
	// groups and menu are known (the demo, or a loaded file), by tenant id.
	tenantConfigs map[string]*tenant.Config
	// corpus is the question corpus once loaded.
	corpus *loadedCorpus
}

// Phase is a stretch of the run with a target level of arrivals: a rate of
// new customers per second (customers.arrival poisson) or a number of
// connected customers (population).
type Phase struct {
	// Name names the phase in progress and reports. Default: its kind.
	Name string `yaml:"name,omitempty"`
	// Kind is ramp (linear from the previous level to Target), steady
	// (hold Target; by default the previous level) or spike (jump to
	// Target at once). Default steady.
	Kind PhaseKind `yaml:"kind"`
	// Duration is the phase's length in scenario time; above 0.
	Duration Duration `yaml:"duration"`
	// Target is the level at the end of the phase, relative to the base:
	// "150%" is one and a half times customers.rate (or population). At
	// most 2000%. Required for ramp and spike.
	Target Ratio `yaml:"target"`
}

// PhaseKind is the shape of a phase.
type PhaseKind string

// The phase kinds.
const (
	// PhaseRamp changes the level linearly from the previous phase's
	// (0 at the start) to its target.
	PhaseRamp PhaseKind = "ramp"
	// PhaseSteady holds its target, by default the previous level.
	PhaseSteady PhaseKind = "steady"
	// PhaseSpike jumps to its target at once and holds it.
	PhaseSpike PhaseKind = "spike"
)

// MaxTarget is the highest phase target, as a multiple of the base.
const MaxTarget = 20

// Tenant is a tenant the scenario's customers and agents belong to.
type Tenant struct {
	// ID is the tenant's id in the protocol; the demo tenant is "demo".
	ID string `yaml:"id"`
	// File is the tenant file (refserver --config) when the server should
	// run this tenant rather than the built-in demo, relative to the
	// scenario file. When the scenario is read from a file, it is loaded
	// to check skill groups and menu items against it.
	File string `yaml:"file,omitempty"`
	// Weight is the tenant's share of arriving customers, relative to the
	// other tenants'. Default 1.
	Weight float64 `yaml:"weight"`
}

// Agents are the human agents: their pools per skill group and how each
// one behaves.
type Agents struct {
	// Online is how long after the start each agent goes online (staggered
	// sign-in). Default const(0s).
	Online Dist `yaml:"online"`
	// Greet is the time from being assigned a chat to the agent's first
	// message in it. Default lognormal(median=5s, p90=20s).
	Greet Dist `yaml:"greet"`
	// Typing is the time an agent takes to write one reply, from the
	// customer's message. An agent writes one reply at a time, so replies
	// wait for each other when the agent carries several chats. Default
	// lognormal(median=8s, p90=30s).
	Typing Dist `yaml:"typing"`
	// CloseAfter is after how many exchanges (a customer message and its
	// reply) the agent closes the chat; 0 leaves closing to the customer.
	// Default 0.
	CloseAfter int `yaml:"close_after"`
	// IdleClose is how long a chat may go without a customer message
	// before the agent closes it; 0 never. Default 2m.
	IdleClose Duration `yaml:"idle_close"`
	// WrapUp is the time after closing a chat before the agent's slot is
	// free again. Default const(10s).
	WrapUp Dist `yaml:"wrap_up"`
	// Away is the agents' breaks. Default: none.
	Away Away `yaml:"away,omitempty"`
	// Groups are the pools of agents, per skill group.
	Groups []AgentGroup `yaml:"groups,omitempty"`
}

// Away is how often and how long agents take breaks: while away, an agent
// takes no new chat but keeps those it has.
type Away struct {
	// Every is the online time between breaks; unset: no breaks.
	Every Dist `yaml:"every,omitempty"`
	// For is a break's length; required with Every.
	For Dist `yaml:"for,omitempty"`
}

// AgentGroup is a pool of identical agents serving one skill group.
// Several pools may serve the same group, with different limits.
type AgentGroup struct {
	// Tenant is the id of the agents' tenant. Default: the only tenant.
	Tenant string `yaml:"tenant"`
	// Group is the skill group the agents serve. Required.
	Group string `yaml:"group"`
	// Count is the number of agents. Default 1.
	Count int `yaml:"count"`
	// MaxChats is how many chats each agent carries at once. Default 3.
	MaxChats int `yaml:"max_chats"`
}

// Arrival is how customers arrive.
type Arrival string

// The arrival models.
const (
	// ArrivalPoisson starts new customers as a Poisson process at
	// customers.rate per second (an open model: arrivals do not wait for
	// the server).
	ArrivalPoisson Arrival = "poisson"
	// ArrivalPopulation keeps customers.population customers connected (a
	// closed model); one who leaves is replaced.
	ArrivalPopulation Arrival = "population"
)

// Customers are the simulated customers: how they arrive and what each one
// does.
type Customers struct {
	// Arrival is poisson or population. Default poisson.
	Arrival Arrival `yaml:"arrival"`
	// Rate is the base arrival rate, in new customers per second of
	// scenario time (poisson).
	Rate float64 `yaml:"rate,omitempty"`
	// Population is the base number of connected customers (population).
	Population int `yaml:"population,omitempty"`
	// Stay keeps a customer connected after its script until the end of
	// the run (an app left open, receiving broadcasts) instead of leaving.
	Stay bool `yaml:"stay,omitempty"`
	// Devices is the number of connections each customer holds (phone,
	// web, ...); every message reaches each. Default 1.
	Devices int `yaml:"devices"`
	// Corpus is where questions come from: "sample" (the sample knowledge
	// base's held-out probes) or a probe file (bot.LoadProbes format)
	// relative to the scenario file. Default sample.
	Corpus string `yaml:"corpus"`
	// Answerable is the share of asked questions drawn from those the bot
	// should answer; the rest are off-topic. Default 80%.
	Answerable Ratio `yaml:"answerable"`
	// Script is what each customer does, in order.
	Script []Step `yaml:"script"`
}

// Messages is the mix of chat messages sent in conversations with agents.
type Messages struct {
	// Mix is the kinds sent, with their weights and sizes. Default: text
	// only.
	Mix []Mix `yaml:"mix"`
}

// Mix is one kind of message in the mix.
type Mix struct {
	// Kind is text, image, location or order-card.
	Kind string `yaml:"kind"`
	// Weight is the kind's share of messages, relative to the other
	// kinds'. Default 1.
	Weight float64 `yaml:"weight"`
	// Size is the body size in bytes. Default by kind: text
	// lognormal(median=24, p90=120), image const(96) (a reference),
	// location const(32), order-card uniform(300, 1500).
	Size SizeDist `yaml:"size"`
}

// WireKind returns the protocol's kind for m.Kind, and false if there is
// none.
func (m Mix) WireKind() (wire.Kind, bool) { return wireKind(m.Kind) }

// messageKinds are the kinds a mix or broadcast may send, by name.
var messageKinds = []wire.Kind{wire.KindText, wire.KindImage, wire.KindLocation, wire.KindOrderCard}

func wireKind(name string) (wire.Kind, bool) {
	for _, k := range messageKinds {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// defaultSize is a kind's size when a mix entry gives none.
func defaultSize(kind string) SizeDist {
	switch kind {
	case "image":
		return ConstSize(96)
	case "location":
		return ConstSize(32)
	case "order-card":
		return SizeDist{shape{kind: distUniform, a: 300, b: 1500}}
	}
	return SizeDist{shape{kind: distLogNormal, a: 24, b: 120}}
}

// Broadcast is the admin's announcements to every connected customer of a
// tenant. It is off unless Every or At is given.
type Broadcast struct {
	// Every is the time between broadcasts (const for a fixed period, exp
	// for Poisson); unset: only At.
	Every Dist `yaml:"every,omitempty"`
	// Start is the offset of the first periodic broadcast. Default 0s.
	Start Duration `yaml:"start,omitempty"`
	// At are offsets from the start at which to broadcast.
	At []Duration `yaml:"at,omitempty"`
	// Tenant is the id of the tenant broadcast to. Default: the first.
	Tenant string `yaml:"tenant,omitempty"`
	// Kind is the message kind. Default text.
	Kind string `yaml:"kind"`
	// Size is the body size in bytes. Default const(200).
	Size SizeDist `yaml:"size"`
}

// Enabled reports whether the scenario broadcasts at all.
func (b Broadcast) Enabled() bool { return b.Every.IsSet() || len(b.At) > 0 }

// Storm is a moment when a share of the connected customers lose their
// connections at once (a network blip, a load balancer restart) and
// reconnect, resuming their conversations.
type Storm struct {
	// At is the offset from the start.
	At Duration `yaml:"at"`
	// Share is the share of customer connections dropped. Default 100%.
	Share Ratio `yaml:"share"`
	// ReconnectAfter is how long each dropped customer waits before
	// reconnecting. Default uniform(0s, 5s).
	ReconnectAfter Dist `yaml:"reconnect_after"`
}

// MaxDuration is the longest scenario: 31 days of scenario time.
const MaxDuration = 31 * 24 * time.Hour

// Default returns a Scenario holding every top-level default and nothing
// else: no duration, arrivals, agents or script. Parse decodes a file over
// it and fills the defaults of list elements (phases, agent groups, steps)
// where the file leaves keys out; a Scenario built in code from Default
// must set every field of the elements it adds.
func Default() *Scenario {
	return &Scenario{
		Seed:      1,
		Timescale: 1,
		Tenants:   []Tenant{{ID: DemoTenant, Weight: 1}},
		Agents: Agents{
			Online:    Const(0),
			Greet:     LogNormal(5*time.Second, 20*time.Second),
			Typing:    LogNormal(8*time.Second, 30*time.Second),
			IdleClose: Duration(2 * time.Minute),
			WrapUp:    Const(10 * time.Second),
		},
		Customers: Customers{
			Arrival:    ArrivalPoisson,
			Devices:    1,
			Corpus:     SampleCorpus,
			Answerable: 0.8,
		},
		Messages:  Messages{Mix: []Mix{{Kind: "text", Weight: 1, Size: defaultSize("text")}}},
		Broadcast: Broadcast{Kind: "text", Size: ConstSize(200)},
	}
}

// DemoTenant is the id of refserver's built-in demo tenant, whose skill
// groups and menu are known without a file.
const DemoTenant = "demo"

// CustomerTenant is the tenant customers sign in to: the first tenant's,
// or the demo tenant.
func (s *Scenario) CustomerTenant() string {
	if len(s.Tenants) > 0 && s.Tenants[0].ID != "" {
		return s.Tenants[0].ID
	}
	return DemoTenant
}

// File returns the name the scenario was parsed under: the path given to
// Load, "scenarios/NAME.yaml" for an embedded scenario, the name given to
// Parse; "" for a scenario built in code.
func (s *Scenario) File() string { return s.file }

// Wall converts a span of scenario time to the wall time bench run plays
// it in.
func (s *Scenario) Wall(d time.Duration) time.Duration {
	if !(s.Timescale > 0) {
		return d
	}
	return time.Duration(float64(d) / s.Timescale)
}

// WallDuration is how long bench run takes to play the scenario.
func (s *Scenario) WallDuration() time.Duration { return s.Wall(time.Duration(s.Duration)) }

// AgentCount returns the number of agents over all pools (a negative
// count, which Validate refuses, counts as none).
func (s *Scenario) AgentCount() int {
	n := 0
	for _, g := range s.Agents.Groups {
		n += max(g.Count, 0)
	}
	return n
}
