// Package routing decides which human agent serves a conversation that needs
// a person, and queues the conversation when no agent of its skill group has
// room.
//
// Agents belong to one or more skill groups and carry several chats at once,
// up to their own maximum. Each group picks among its agents with a Policy.
// When nobody has room, conversations wait in the group's queue: higher
// priority first, first come first served within a priority, and customers
// are told their position (coalesced, see Router.Positions). Whenever an
// agent gains room (a chat ends, it comes online, its maximum rises, it joins
// a group) waiting conversations of its groups are assigned to it at once:
// the highest priority first, then the longest waiting, across all its
// groups. So no conversation waits while an agent of its group has room.
//
// The package is a pure state machine, like the desk core that uses it: it
// does no I/O, starts no goroutine and never reads the clock; every call that
// depends on time is given it. The server and the virtual-time simulator run
// the same code. A Router is not safe for concurrent use: its owner
// serialises calls (the server owns routing by skill-group partition).
// Slices of assignments a Router returns are reused by its next call that
// returns one; consume them first.
//
// A routing decision costs O(k log n) for an agent in k groups of n agents:
// each group keeps an indexed heap of its agents that can take a chat,
// ordered by the group's policy. Queue operations are O(1) amortised
// (cancellation is lazy); only Positions and Position walk a queue. Which
// agent holds each conversation is kept in one hash table of 16-byte slots,
// at most 3/4 full, rather than a set per agent, so an agent costs the same
// whatever its maximum. Route and Release do not allocate once the Router has
// grown to its working size.
package routing

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Policy is how a skill group chooses among its agents that have room.
type Policy uint8

// Policies.
const (
	// LeastLoaded picks the agent with the fewest active chats; among equals,
	// the one assigned a chat longest ago (agents never assigned first).
	LeastLoaded Policy = iota
	// RoundRobin rotates over the agents with room: it picks the agent that
	// was assigned a chat longest ago (through any of its groups), so each
	// agent gets one before any gets a second.
	RoundRobin
	// LongestIdle picks the agent whose last chat ended, or who became
	// available (came online, or got room by a higher maximum), longest ago.
	// Being assigned a chat does not reset it: the longest-idle agent keeps
	// receiving chats until it is full or another chat of its ends.
	LongestIdle

	numPolicies
)

var policyNames = [numPolicies]string{"least-loaded", "round-robin", "longest-idle"}

// ParsePolicy parses a policy name as used in configuration files and flags:
// "least-loaded", "round-robin" or "longest-idle".
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("parse policy %q: %w", s, ErrUnknownPolicy)
}

// String returns the policy's name as ParsePolicy accepts it.
func (p Policy) String() string {
	if p < numPolicies {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Status is an agent's availability. Only Online agents are given new chats;
// Away and Offline agents keep the chats they have until they release them.
type Status uint8

// Statuses.
const (
	// Offline: signed out.
	Offline Status = iota
	// Away: signed in but taking no new chats (break, wrap-up, meeting).
	Away
	// Online: taking new chats up to the agent's maximum.
	Online
)

// String returns "offline", "away" or "online".
func (s Status) String() string {
	switch s {
	case Offline:
		return "offline"
	case Away:
		return "away"
	case Online:
		return "online"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Errors returned by the Router, wrapped with context; match them with
// errors.Is.
var (
	// ErrUnknownGroup means no skill group has the name given.
	ErrUnknownGroup = errors.New("routing: unknown group")
	// ErrUnknownAgent means no agent has the id given.
	ErrUnknownAgent = errors.New("routing: unknown agent")
	// ErrUnknownPolicy means a policy name or value is not one of the
	// Policy constants.
	ErrUnknownPolicy = errors.New("routing: unknown policy")
	// ErrGroupExists means AddGroup was given a name already in use.
	ErrGroupExists = errors.New("routing: group exists")
	// ErrAgentFull means the agent already carries its maximum of chats.
	ErrAgentFull = errors.New("routing: agent full")
	// ErrAgentUnavailable means the agent is not Online.
	ErrAgentUnavailable = errors.New("routing: agent unavailable")
	// ErrAgentBusy means the agent still holds chats.
	ErrAgentBusy = errors.New("routing: agent busy")
	// ErrAlreadyQueued means the conversation is waiting in a queue.
	ErrAlreadyQueued = errors.New("routing: conversation already queued")
	// ErrAlreadyAssigned means the conversation is held by an agent.
	ErrAlreadyAssigned = errors.New("routing: conversation already assigned")
	// ErrNotQueued means the conversation is not waiting in a queue.
	ErrNotQueued = errors.New("routing: conversation not queued")
	// ErrNotAssigned means the agent does not hold the conversation.
	ErrNotAssigned = errors.New("routing: conversation not assigned to agent")
	// ErrInvalid means an argument is out of range (an empty name, no
	// groups, a negative maximum, an unknown status).
	ErrInvalid = errors.New("routing: invalid argument")
)

// Assignment is a routing decision: conversation Conv goes to Agent, served
// under skill group Group, after waiting Waited in the queue (zero when an
// agent had room at once).
type Assignment struct {
	Conv   uint64
	Agent  string
	Group  string
	Waited time.Duration
}

// PositionUpdate tells a queued conversation its current 1-based position in
// its group's queue.
type PositionUpdate struct {
	Conv     uint64
	Group    string
	Position int
}

// AgentInfo describes an agent as the Router sees it.
type AgentInfo struct {
	ID     string
	Groups []string
	Max    int
	Active int
	Status Status
}

// DefaultPositionInterval is how often, at most, a queued conversation is
// told its position unless WithPositionInterval says otherwise.
const DefaultPositionInterval = time.Second

// Router assigns conversations to agents and queues them when no agent has
// room. The zero value is not usable; call New.
//
// A Router is not safe for concurrent use; its owner serialises calls.
//
// The []Assignment slices returned by SetAgent and Release share one buffer
// owned by the Router: they are valid until the next call of either method,
// so consume or copy them first.
type Router struct {
	interval int64 // position coalescing interval, nanoseconds

	// Times are kept as nanoseconds since epoch, the first time the Router
	// was given, which cannot overflow for any realistic run.
	epoch    time.Time
	epochSet bool

	groups   []group
	groupIdx map[string]int32

	agents     []agent
	agentIdx   map[string]int32
	freeAgents []int32

	// pos holds, for each membership slot (an agent in a group), the
	// agent's index in the group's heap, or -1 when it is not in the heap.
	pos       []int32
	freeSlots []int32

	// convs maps every assigned or queued conversation to its holder.
	convs convIndex

	entries     []entry
	freeEntries []int32

	assignSeq  int64 // last assignment sequence number
	enqueueSeq uint64

	out     []Assignment // buffer returned by SetAgent and Release
	scratch []int32
}

// Option configures a Router.
type Option func(*Router)

// WithPositionInterval sets the coalescing interval of queue position
// updates: a queued conversation is told its position at most once per d
// (default DefaultPositionInterval). Zero reports every change at the next
// Positions call.
func WithPositionInterval(d time.Duration) Option {
	return func(r *Router) { r.interval = int64(max(d, 0)) }
}

// New returns an empty Router: add groups with AddGroup, agents with
// SetAgent.
func New(opts ...Option) *Router {
	r := &Router{
		interval: int64(DefaultPositionInterval),
		groupIdx: make(map[string]int32),
		agentIdx: make(map[string]int32),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// rel converts now to nanoseconds since the Router's epoch.
func (r *Router) rel(now time.Time) int64 {
	if !r.epochSet {
		r.epoch, r.epochSet = now, true
	}
	return int64(now.Sub(r.epoch))
}

func (r *Router) abs(t int64) time.Time { return r.epoch.Add(time.Duration(t)) }

// AddGroup adds a skill group that chooses among its agents with policy.
func (r *Router) AddGroup(name string, policy Policy) error {
	if name == "" {
		return fmt.Errorf("add group: empty name: %w", ErrInvalid)
	}
	if policy >= numPolicies {
		return fmt.Errorf("add group %q: %w: %d", name, ErrUnknownPolicy, policy)
	}
	if _, ok := r.groupIdx[name]; ok {
		return fmt.Errorf("add group %q: %w", name, ErrGroupExists)
	}
	if len(r.groups) >= math.MaxInt32 {
		return fmt.Errorf("add group %q: too many groups: %w", name, ErrInvalid)
	}
	r.groupIdx[name] = int32(len(r.groups))
	r.groups = append(r.groups, group{name: name, policy: policy})
	return nil
}

// Groups returns the names of the skill groups in the order they were added.
// The slice is the caller's.
func (r *Router) Groups() []string {
	names := make([]string, len(r.groups))
	for i := range r.groups {
		names[i] = r.groups[i].name
	}
	return names
}

// Agent describes the agent with the given id.
func (r *Router) Agent(id string) (AgentInfo, bool) {
	ai, ok := r.agentIdx[id]
	if !ok {
		return AgentInfo{}, false
	}
	a := &r.agents[ai]
	info := AgentInfo{ID: a.id, Groups: make([]string, len(a.mem)), Max: int(a.max), Active: int(a.active), Status: a.status}
	for i, m := range a.mem {
		info.Groups[i] = r.groups[m.group].name
	}
	return info, true
}

// AgentOf returns the id of the agent holding conv, if one does.
func (r *Router) AgentOf(conv uint64) (string, bool) {
	c, ok := r.convs.get(conv)
	if !ok || c.queued() {
		return "", false
	}
	return r.agents[c.agent()].id, true
}

// Queued returns the number of conversations waiting in group's queue (zero
// for an unknown group).
func (r *Router) Queued(group string) int {
	gi, ok := r.groupIdx[group]
	if !ok {
		return 0
	}
	return r.groups[gi].live
}

// QueuedSince returns when conv was queued, if it is waiting.
func (r *Router) QueuedSince(conv uint64) (time.Time, bool) {
	c, ok := r.convs.get(conv)
	if !ok || !c.queued() {
		return time.Time{}, false
	}
	return r.abs(r.entries[c.entry()].enq), true
}

// resolveGroups maps names to group indices in r.scratch, dropping
// duplicates.
func (r *Router) resolveGroups(names []string) ([]int32, error) {
	gs := r.scratch[:0]
	for _, n := range names {
		gi, ok := r.groupIdx[n]
		if !ok {
			return nil, fmt.Errorf("group %q: %w", n, ErrUnknownGroup)
		}
		if !slices.Contains(gs, gi) {
			gs = append(gs, gi)
		}
	}
	r.scratch = gs
	return gs, nil
}
