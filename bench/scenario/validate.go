package scenario

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
)

// Limits of the values a scenario may hold: beyond them a value is far
// more likely a typo than an intent.
const (
	// MaxTimescale is the fastest bench run may play scenario time.
	MaxTimescale = 10000
	// MaxRate is the highest base arrival rate, per second.
	MaxRate = 1_000_000
	// MaxPopulation is the largest base population.
	MaxPopulation = 100_000_000
	// MaxAgents is the most agents in one pool.
	MaxAgents = 1_000_000
	// MaxDevices is the most connections per customer.
	MaxDevices = 8
	// maxChatsCap bounds max_chats when the tenant's own cap is unknown.
	maxChatsCap = 1000
	// maxCount bounds the questions of an ask step and the messages of a
	// chat step.
	maxCount = 10000
)

// Validate checks s and returns every problem found, joined, each a
// *FieldError naming the field path and, for a parsed scenario, the file
// and line ("smoke.yaml:14: customers.script[3].chat.messages: must be at
// least 1"); nil if s is valid. It checks ranges, that the duration
// matches the phases, that arrivals match the arrival model, that agent
// pools and steps name tenants, skill groups and menu items that exist
// (where the tenant's configuration is known: the demo, or a file Load
// read), and that the script's steps come in an order a customer can
// follow (connect before open, open before ask, ...).
func (s *Scenario) Validate() error {
	ps := s.problems()
	if len(ps) == 0 {
		return nil
	}
	return strictyaml.Join(s.locate(ps))
}

// problems lists what Validate reports, in the order of the fields.
func (s *Scenario) problems() []*FieldError {
	var ps []*FieldError
	add := func(field, format string, args ...any) {
		ps = append(ps, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}

	switch {
	case s.Name == "":
		add("name", "required")
	case !validName(s.Name):
		add("name", "%q: want 1 to 64 characters of letters, digits, '-', '_' and '.'", s.Name)
	}
	if !(s.Timescale > 0 && s.Timescale <= MaxTimescale) {
		add("timescale", "%g: must be above 0 and at most %d", s.Timescale, MaxTimescale)
	}

	total := s.phasesTotal()
	switch d := time.Duration(s.Duration); {
	case d == 0 && len(s.Phases) == 0:
		add("duration", "required: give a duration, or phases")
	case d <= 0:
		add("duration", "%s: must be above 0", d)
	case d > MaxDuration:
		add("duration", "%s: at most %s", d, MaxDuration)
	case len(s.Phases) > 0 && d != total:
		add("duration", "%s does not match the phases' total %s (leave duration out to use the phases' total)", d, total)
	}
	for i, p := range s.Phases {
		f := fmt.Sprintf("phases[%d]", i)
		switch p.Kind {
		case PhaseRamp, PhaseSteady, PhaseSpike:
		default:
			add(f+".kind", "unknown phase kind %q (want ramp, steady or spike)%s", p.Kind, suggest(string(p.Kind), "ramp", "steady", "spike"))
		}
		if p.Duration <= 0 {
			add(f+".duration", "%s: must be above 0", p.Duration)
		}
		if !(p.Target >= 0 && p.Target <= MaxTarget) {
			add(f+".target", "%s: must be between 0%% and %s", p.Target, Ratio(MaxTarget))
		}
	}
	if len(s.Phases) > 0 && s.Schedule().Peak() == 0 && s.base() > 0 {
		add("phases", "every target is 0%%: the run would have no customers")
	}

	tenants := make(map[string]int, len(s.Tenants))
	var tenantIDs []string
	if len(s.Tenants) == 0 {
		add("tenants", "at least one tenant is required")
	}
	for i, t := range s.Tenants {
		f := fmt.Sprintf("tenants[%d]", i)
		switch j, dup := tenants[t.ID]; {
		case t.ID == "":
			add(f+".id", "required")
		case !validTenantID(t.ID):
			add(f+".id", "%q: want 1 to 64 characters of a-z, 0-9, '-' and '_'", t.ID)
		case dup:
			add(f+".id", "duplicate tenant %q (also tenants[%d])", t.ID, j)
		default:
			tenants[t.ID] = i
			tenantIDs = append(tenantIDs, t.ID)
		}
		if !(t.Weight > 0) || math.IsInf(t.Weight, 0) {
			add(f+".weight", "%g: must be above 0", t.Weight)
		}
	}
	knownTenants := " (tenants: " + strings.Join(tenantIDs, ", ") + ")"
	hasTenant := func(field, id string) bool {
		if _, ok := tenants[id]; !ok {
			add(field, "no tenant %q%s", id, knownTenants)
			return false
		}
		return true
	}
	// hasGroup checks a skill group against tenant id's configuration, or
	// every tenant's when id is "", where known.
	hasGroup := func(field, id, group string) {
		for _, t := range s.Tenants {
			if id != "" && t.ID != id {
				continue
			}
			c := s.tenantConfig(t.ID)
			if c == nil {
				continue
			}
			names := make([]string, len(c.Groups))
			for k, g := range c.Groups {
				names[k] = g.Name
			}
			if !slices.Contains(names, group) {
				add(field, "no skill group %q in tenant %s (groups: %s)%s", group, t.ID, strings.Join(names, ", "), suggest(group, names...))
				return
			}
		}
	}

	a := s.Agents
	checkDist(add, "agents.online", a.Online)
	checkDist(add, "agents.greet", a.Greet)
	checkDist(add, "agents.typing", a.Typing)
	checkDist(add, "agents.wrap_up", a.WrapUp)
	if a.CloseAfter < 0 {
		add("agents.close_after", "%d: must not be negative", a.CloseAfter)
	}
	if a.IdleClose < 0 {
		add("agents.idle_close", "%s: must not be negative", a.IdleClose)
	}
	switch {
	case a.Away.Every.IsSet() && !a.Away.For.IsSet():
		add("agents.away.for", "required with away.every: how long a break lasts")
	case !a.Away.Every.IsSet() && a.Away.For.IsSet():
		add("agents.away.every", "required with away.for: the online time between breaks")
	case a.Away.Every.IsSet() && a.Away.Every.Mean() == 0:
		add("agents.away.every", "%s: the time between breaks must be above 0", a.Away.Every)
	}
	for i, g := range a.Groups {
		f := fmt.Sprintf("agents.groups[%d]", i)
		id, tenantOK := g.Tenant, false
		switch {
		case id == "" && len(s.Tenants) == 1:
			id, tenantOK = s.Tenants[0].ID, true
		case id == "" && len(s.Tenants) > 1:
			add(f+".tenant", "required when there are several tenants%s", knownTenants)
		case id != "":
			tenantOK = hasTenant(f+".tenant", id)
		}
		if strings.TrimSpace(g.Group) == "" {
			add(f+".group", "required: the skill group the agents serve")
		} else if tenantOK {
			hasGroup(f+".group", id, g.Group)
		}
		if g.Count < 0 || g.Count > MaxAgents {
			add(f+".count", "%d: must be between 0 and %d", g.Count, MaxAgents)
		}
		limit, from := maxChatsCap, ""
		if c := s.tenantConfig(id); tenantOK && c != nil {
			limit, from = c.Limits.MaxChatsCap, fmt.Sprintf(" (tenant %s's max_chats_cap)", id)
		}
		if g.MaxChats < 1 || g.MaxChats > limit {
			add(f+".max_chats", "%d: must be between 1 and %d%s", g.MaxChats, limit, from)
		}
	}

	c := s.Customers
	switch c.Arrival {
	case ArrivalPoisson:
		if !(c.Rate > 0 && c.Rate <= MaxRate) {
			add("customers.rate", "%g: must be above 0 and at most %d, in new customers per second", c.Rate, MaxRate)
		}
		if c.Population != 0 {
			add("customers.population", "applies to arrival: population; this scenario's arrival is poisson (set customers.rate)")
		}
	case ArrivalPopulation:
		if c.Population < 1 || c.Population > MaxPopulation {
			add("customers.population", "%d: must be between 1 and %d", c.Population, MaxPopulation)
		}
		if c.Rate != 0 {
			add("customers.rate", "applies to arrival: poisson; this scenario's arrival is population (set customers.population)")
		}
	default:
		add("customers.arrival", "unknown arrival %q (want poisson or population)%s", c.Arrival, suggest(string(c.Arrival), "poisson", "population"))
	}
	if c.Devices < 1 || c.Devices > MaxDevices {
		add("customers.devices", "%d: must be between 1 and %d", c.Devices, MaxDevices)
	}
	if !(c.Answerable >= 0 && c.Answerable <= 1) {
		add("customers.answerable", "%s: must be between 0%% and 100%%", c.Answerable)
	}
	if lc := s.corpus; lc != nil && lc.name == c.Corpus {
		switch {
		case len(lc.Answerable) == 0 && len(lc.OffTopic) == 0:
			add("customers.corpus", "%q holds no questions", c.Corpus)
		case c.Answerable > 0 && len(lc.Answerable) == 0:
			add("customers.answerable", "%s, but corpus %q has no answerable questions", c.Answerable, c.Corpus)
		case c.Answerable < 1 && len(lc.OffTopic) == 0:
			add("customers.answerable", "%s, but corpus %q has no off-topic questions (set 100%%)", c.Answerable, c.Corpus)
		}
	}
	ps = append(ps, s.scriptProblems(hasGroup)...)
	if c.Arrival == ArrivalPopulation && !c.Stay && len(c.Script) > 0 && s.ScriptTime() == 0 {
		add("customers.stay", "false, and the script takes no time: each customer of the population would be replaced at once, in a loop (add a think step, or stay: true)")
	}

	if len(s.Messages.Mix) == 0 {
		add("messages.mix", "at least one message kind is required")
	}
	kinds := map[string]int{}
	for i, m := range s.Messages.Mix {
		f := fmt.Sprintf("messages.mix[%d]", i)
		if j, dup := kinds[m.Kind]; dup {
			add(f+".kind", "duplicate kind %q (also messages.mix[%d])", m.Kind, j)
		} else {
			kinds[m.Kind] = i
			checkKind(add, f+".kind", m.Kind)
		}
		if !(m.Weight > 0) || math.IsInf(m.Weight, 0) {
			add(f+".weight", "%g: must be above 0", m.Weight)
		}
		checkSize(add, f+".size", m.Size)
	}

	if b := s.Broadcast; b.Enabled() {
		if b.Tenant == "" {
			add("broadcast.tenant", "required")
		} else {
			hasTenant("broadcast.tenant", b.Tenant)
		}
		checkKind(add, "broadcast.kind", b.Kind)
		checkSize(add, "broadcast.size", b.Size)
		if b.Every.IsSet() && b.Every.Mean() == 0 {
			add("broadcast.every", "%s: the time between broadcasts must be above 0", b.Every)
		}
		s.checkOffset(add, "broadcast.start", b.Start)
		for i, at := range b.At {
			s.checkOffset(add, fmt.Sprintf("broadcast.at[%d]", i), at)
		}
	}
	for i, st := range s.Storms {
		f := fmt.Sprintf("storms[%d]", i)
		s.checkOffset(add, f+".at", st.At)
		if !(st.Share > 0 && st.Share <= 1) {
			add(f+".share", "%s: must be above 0%% and at most 100%%", st.Share)
		}
		checkDist(add, f+".reconnect_after", st.ReconnectAfter)
	}
	return ps
}

// scriptProblems checks the customer script: each step well formed, in an
// order a customer can follow.
func (s *Scenario) scriptProblems(hasGroup func(field, tenant, group string)) []*FieldError {
	var ps []*FieldError
	add := func(field, format string, args ...any) {
		ps = append(ps, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}
	script := s.Customers.Script
	if len(script) == 0 {
		add("customers.script", "at least one step is required")
	}
	connected, open, mayBeOpen := false, false, false
	personAt := -1
	for i := range script {
		st := &script[i]
		f := fmt.Sprintf("customers.script[%d]", i)
		if st.problem != "" {
			ps = append(ps, &FieldError{Field: f, Msg: st.problem, Err: st.bad})
			continue
		}
		ks := st.kinds()
		switch len(ks) {
		case 0:
			add(f, "empty step: name one, e.g. \"- think: exp(10s)\"")
			continue
		case 1:
		default:
			names := make([]string, len(ks))
			for k, kind := range ks {
				names[k] = string(kind)
			}
			add(f, "one step per list item, found %s", strings.Join(names, " and "))
			continue
		}
		k := ks[0]
		sf := f + "." + string(k)
		if st.Chance != nil {
			switch {
			case k == StepConnect || k == StepOpen:
				add(f+".chance", "not allowed on %s: the steps after it need it", k)
			case !(*st.Chance >= 0 && *st.Chance <= 1):
				add(f+".chance", "%s: must be between 0%% and 100%%", *st.Chance)
			}
		}
		needConn := func() bool {
			if !connected {
				add(f, "%s needs a connection: connect first", k)
				return false
			}
			return true
		}
		needOpen := func() bool {
			if !needConn() {
				return false
			}
			if !open {
				add(f, "%s needs an open conversation: open one first", k)
				return false
			}
			return true
		}
		switch k {
		case StepConnect:
			if connected {
				add(f, "already connected (a customer connects once; kill reconnects)")
			}
			connected = true
		case StepOpen:
			if needConn() {
				switch {
				case open && mayBeOpen:
					add(f, "a conversation may still be open: the close before it has a chance")
				case open:
					add(f, "a conversation is already open: close it first")
				}
			}
			open, mayBeOpen = true, false
			if strings.TrimSpace(st.Open.Channel) == "" {
				add(sf+".channel", "required, e.g. app")
			}
			if st.Open.Group != "" {
				hasGroup(sf+".group", "", st.Open.Group)
			}
		case StepExpectMenu:
			needOpen()
		case StepAsk:
			needOpen()
			if st.Ask.Count < 1 || st.Ask.Count > maxCount {
				add(sf+".count", "%d: must be between 1 and %d", st.Ask.Count, maxCount)
			}
			checkDist(add, sf+".think", st.Ask.Think)
		case StepChoose:
			needOpen()
			for j, item := range st.Choose.Items {
				s.checkMenuItem(add, fmt.Sprintf("%s.items[%d]", sf, j), item)
			}
		case StepAskPerson:
			needOpen()
			if personAt < 0 {
				personAt = i
			}
			if st.AskPerson.Group != "" {
				hasGroup(sf+".group", "", st.AskPerson.Group)
			}
		case StepChat:
			needOpen()
			if personAt < 0 {
				personAt = i
			}
			if st.Chat.Messages < 1 || st.Chat.Messages > maxCount {
				add(sf+".messages", "%d: must be between 1 and %d", st.Chat.Messages, maxCount)
			}
			checkDist(add, sf+".think", st.Chat.Think)
		case StepClose:
			needOpen()
			if st.Probability() < 1 {
				mayBeOpen = true
			} else {
				open = false
			}
		case StepBackground:
			needConn()
			checkDist(add, sf, *st.Background)
		case StepKill:
			needConn()
			checkDist(add, sf+".reconnect_after", st.Kill.ReconnectAfter)
		case StepThink:
			checkDist(add, sf, *st.Think)
		case StepAbandonAfter:
			checkDist(add, sf, *st.AbandonAfter)
		}
	}
	if personAt >= 0 && s.AgentCount() == 0 {
		add("agents.groups", "no agents, but customers.script[%d] needs one (add a pool, e.g. {group: general, count: 5})", personAt)
	}
	return ps
}

// TenantConfig returns the configuration of tenant id when the scenario
// knows it: loaded from the tenant's file, or the built-in demo's; nil
// otherwise. bench sim builds its desks from it.
func (s *Scenario) TenantConfig(id string) *tenant.Config { return s.tenantConfig(id) }

// tenantConfig returns the configuration of tenant id when known: loaded
// from its file, or the demo's; nil otherwise.
func (s *Scenario) tenantConfig(id string) *tenant.Config {
	if c, ok := s.tenantConfigs[id]; ok {
		return c
	}
	for _, t := range s.Tenants {
		if t.ID == id && t.ID == DemoTenant && t.File == "" {
			return demoTenant()
		}
	}
	return nil
}

// checkMenuItem checks that every tenant whose menu is known has the item.
func (s *Scenario) checkMenuItem(add func(field, format string, args ...any), field, item string) {
	if strings.TrimSpace(item) == "" {
		add(field, "blank menu item id")
		return
	}
	for _, t := range s.Tenants {
		c := s.tenantConfig(t.ID)
		if c == nil {
			continue
		}
		ids := make([]string, len(c.Menu.Items))
		found := false
		for k, it := range c.Menu.Items {
			ids[k] = it.ID
			found = found || strings.EqualFold(strings.TrimSpace(it.ID), strings.TrimSpace(item))
		}
		if !found {
			add(field, "no menu item %q in tenant %s (items: %s)", item, t.ID, strings.Join(ids, ", "))
			return
		}
	}
}

// checkOffset checks an offset from the start lies within the run.
func (s *Scenario) checkOffset(add func(field, format string, args ...any), field string, at Duration) {
	if at < 0 || at > s.Duration {
		add(field, "%s: must be between 0s and the duration, %s", at, s.Duration)
	}
}

// checkDist reports a distribution that was required but is unset.
func checkDist(add func(field, format string, args ...any), field string, d Dist) {
	if !d.IsSet() {
		add(field, "required: a distribution, e.g. exp(10s)")
	}
}

// checkKind checks a message kind's name.
func checkKind(add func(field, format string, args ...any), field, kind string) {
	if _, ok := wireKind(kind); ok {
		return
	}
	names := make([]string, len(messageKinds))
	for i, k := range messageKinds {
		names[i] = k.String()
	}
	add(field, "unknown message kind %q (want %s)%s", kind, strings.Join(names, ", "), suggest(kind, names...))
}

// checkSize checks a message size distribution against the protocol's
// bounds.
func checkSize(add func(field, format string, args ...any), field string, d SizeDist) {
	switch {
	case !d.IsSet():
		add(field, "required: a size in bytes, e.g. const(200)")
	case (d.s.kind == distConst || d.s.kind == distUniform) && d.s.min() < 1:
		add(field, "%s: a message has at least 1 byte", d)
	case d.s.max() > MaxMessageSize && !math.IsInf(d.s.max(), 1):
		add(field, "%s: at most %d bytes", d, MaxMessageSize)
	case d.Mean() > MaxMessageSize:
		add(field, "%s: mean above %d bytes, the largest message", d, MaxMessageSize)
	}
}

// suggest returns " (did you mean X?)" when a known word is close to word.
func suggest(word string, known ...string) string {
	if s := strictyaml.Suggest(word, known); s != "" && s != word {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// validName reports whether name is 1 to 64 characters of letters, digits,
// '-', '_' and '.'.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// validTenantID reports whether id is a tenant id as tenant files allow:
// 1 to 64 characters of a-z, 0-9, '-' and '_'.
func validTenantID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
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
