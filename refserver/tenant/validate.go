package tenant

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/swarmdesk/swarmdesk/refserver/routing"
)

// maxIDLen bounds a tenant id, which appears in every metric series and
// protocol hello of the tenant.
const maxIDLen = 64

// Validate checks c and returns every problem found, joined, each a
// *FieldError naming the field path (e.g. `groups[2].policy: unknown policy
// "fastest"`), or nil. It checks the id's format, the groups (at least one,
// unique names, known policies), that default_group, the bot's handoff
// group, agents' groups and menu handoffs name existing groups, that menu
// answers name existing knowledge entries, that knowledge is not empty and
// that limits and bot settings are in range.
//
// A Config built in code should start from Default. As in a file, a zero
// group policy, agent max_chats or bot handoff group, and a zero
// default_group when there is one group, mean the default; Build fills them.
func (c *Config) Validate() error {
	ps := c.problems()
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// problems lists what Validate reports, roughly in the order of the fields.
func (c *Config) problems() []*FieldError {
	var ps []*FieldError
	add := func(field, format string, args ...any) {
		ps = append(ps, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}

	switch {
	case c.ID == "":
		add("id", "required")
	case !validID(c.ID):
		add("id", "%q: want 1 to %d characters of a-z, 0-9, '-' and '_'", c.ID, maxIDLen)
	}

	if c.Secret != "" && len(c.Secret) < MinSecretLen {
		add("secret", "%d bytes: want at least %d (or none, for a tenant open to any hello)", len(c.Secret), MinSecretLen)
	}

	groups := make(map[string]int, len(c.Groups))
	if len(c.Groups) == 0 {
		add("groups", "at least one skill group is required")
	}
	for i, g := range c.Groups {
		f := fmt.Sprintf("groups[%d]", i)
		switch j, dup := groups[g.Name]; {
		case strings.TrimSpace(g.Name) == "":
			add(f+".name", "required")
		case dup:
			add(f+".name", "duplicate group %q (also groups[%d])", g.Name, j)
		default:
			groups[g.Name] = i
		}
		if g.Policy != "" {
			if _, err := routing.ParsePolicy(g.Policy); err != nil {
				add(f+".policy", "unknown policy %q (want least-loaded, round-robin or longest-idle)", g.Policy)
			}
		}
	}
	hasGroup := func(field, name string) {
		if _, ok := groups[name]; !ok {
			add(field, "no skill group %q%s", name, knownGroups(c.Groups))
		}
	}
	switch {
	case c.DefaultGroup != "":
		hasGroup("default_group", c.DefaultGroup)
	case len(c.Groups) > 1:
		add("default_group", "required when there is more than one group%s", knownGroups(c.Groups))
	}

	agents := make(map[string]int, len(c.Agents))
	for i, a := range c.Agents {
		f := fmt.Sprintf("agents[%d]", i)
		switch j, dup := agents[a.ID]; {
		case strings.TrimSpace(a.ID) == "":
			add(f+".id", "required")
		case dup:
			add(f+".id", "duplicate agent %q (also agents[%d])", a.ID, j)
		default:
			agents[a.ID] = i
		}
		for k, g := range a.Groups {
			hasGroup(fmt.Sprintf("%s.groups[%d]", f, k), g)
		}
		switch {
		case a.MaxChats < 0:
			add(f+".max_chats", "%d: must not be negative", a.MaxChats)
		case c.Limits.MaxChatsCap > 0 && a.MaxChats > c.Limits.MaxChatsCap:
			add(f+".max_chats", "%d exceeds limits.max_chats_cap %d", a.MaxChats, c.Limits.MaxChatsCap)
		}
	}

	entries := make(map[string]bool, len(c.Knowledge))
	if len(c.Knowledge) == 0 {
		add("knowledge", "no entries: give knowledge or knowledge_file")
	}
	for i, e := range c.Knowledge {
		f := fmt.Sprintf("knowledge[%d]", i)
		switch {
		case strings.TrimSpace(e.ID) == "":
			add(f+".id", "required")
		case entries[e.ID]:
			add(f+".id", "duplicate entry %q", e.ID)
		}
		entries[e.ID] = true
		if len(e.Questions) == 0 {
			add(f+".questions", "at least one question is required")
		}
		for k, q := range e.Questions {
			if strings.TrimSpace(q) == "" {
				add(fmt.Sprintf("%s.questions[%d]", f, k), "blank question")
			}
		}
		if strings.TrimSpace(e.Answer) == "" {
			add(f+".answer", "required")
		}
	}

	if strings.TrimSpace(c.Menu.Title) == "" {
		add("menu.title", "required")
	}
	if len(c.Menu.Items) == 0 {
		add("menu.items", "at least one item is required")
	}
	items := make(map[string]int, len(c.Menu.Items))
	for i, it := range c.Menu.Items {
		f := fmt.Sprintf("menu.items[%d]", i)
		switch j, dup := items[menuKey(it.ID)]; {
		case menuKey(it.ID) == "":
			add(f+".id", "required")
		case dup:
			add(f+".id", "duplicate item %q (also menu.items[%d])", it.ID, j)
		default:
			items[menuKey(it.ID)] = i
		}
		if strings.TrimSpace(it.Label) == "" {
			add(f+".label", "required")
		}
		switch {
		case it.Answer == "" && it.Handoff == "":
			add(f, "give an answer (knowledge entry id) or a handoff (skill group)")
		case it.Answer != "" && it.Handoff != "":
			add(f+".handoff", "give an answer or a handoff, not both")
		case it.Handoff != "":
			hasGroup(f+".handoff", it.Handoff)
		case len(c.Knowledge) > 0 && !entries[it.Answer]:
			add(f+".answer", "no knowledge entry %q", it.Answer)
		}
	}
	for i, e := range c.Knowledge {
		if _, ok := items[menuKey(e.Link)]; e.Link != "" && !ok {
			add(fmt.Sprintf("knowledge[%d].link", i), "no menu item %q", e.Link)
		}
	}

	b := c.Bot
	if !(b.Threshold >= 0 && b.Threshold <= 1) { // also catches NaN
		add("bot.threshold", "%g: must be between 0 and 1", b.Threshold)
	}
	if b.MaxMisses < 0 || b.MaxMisses > math.MaxUint8 {
		add("bot.max_misses", "%d: must be between 0 and %d", b.MaxMisses, math.MaxUint8)
	}
	for i, w := range b.HumanWords {
		if strings.TrimSpace(w) == "" {
			add(fmt.Sprintf("bot.human_words[%d]", i), "blank phrase")
		}
	}
	if b.HandoffGroup != "" && b.HandoffGroup != c.DefaultGroup { // default_group is checked above
		hasGroup("bot.handoff_group", b.HandoffGroup)
	}
	lim := c.Limits
	if lim.DefaultMaxChats <= 0 {
		add("limits.default_max_chats", "%d: must be at least 1", lim.DefaultMaxChats)
	}
	if lim.MaxChatsCap <= 0 {
		add("limits.max_chats_cap", "%d: must be at least 1", lim.MaxChatsCap)
	} else if lim.DefaultMaxChats > lim.MaxChatsCap {
		add("limits.default_max_chats", "%d exceeds max_chats_cap %d", lim.DefaultMaxChats, lim.MaxChatsCap)
	}
	if lim.TranscriptMax < 0 {
		add("limits.transcript_max", "%d: must not be negative", lim.TranscriptMax)
	}
	if lim.RetainClosed < 0 {
		add("limits.retain_closed", "%s: must not be negative", lim.RetainClosed)
	}
	if lim.IdleClose < 0 {
		add("limits.idle_close", "%s: must not be negative", lim.IdleClose)
	}
	if lim.QueuePositionInterval < 0 {
		add("limits.queue_position_interval", "%s: must not be negative", lim.QueuePositionInterval)
	}
	return ps
}

// validID reports whether id is 1 to maxIDLen characters of a-z, 0-9, '-'
// and '_'.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// menuKey is how a menu item id is compared: the bot matches ids ignoring
// case and surrounding space.
func menuKey(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// knownGroups lists the group names for an error message: " (groups: a,
// b)", or "" when there are none.
func knownGroups(gs []Group) string {
	if len(gs) == 0 {
		return ""
	}
	names := make([]string, 0, len(gs))
	for _, g := range gs {
		if !slices.Contains(names, g.Name) {
			names = append(names, g.Name)
		}
	}
	return " (groups: " + strings.Join(names, ", ") + ")"
}
