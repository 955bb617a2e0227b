package scenario

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
)

// Overrides are the scenario fields common enough to change from the
// command line without editing the file, as k6's --vus and --duration do.
// A nil field leaves the scenario's value.
type Overrides struct {
	// Duration is the run's length in scenario time; the phases are
	// stretched or shrunk in proportion.
	Duration *time.Duration
	// Rate is customers.rate, the base arrival rate per second (poisson
	// arrivals only).
	Rate *float64
	// Customers is how many customers: customers.population for a
	// population; for Poisson arrivals, the expected total of sessions,
	// reached by scaling customers.rate.
	Customers *int
	// Agents is the total number of agents, shared among the pools in
	// proportion to their counts (evenly when all are 0).
	Agents *int
	// Seed is the seed.
	Seed *uint64
	// Timescale is the time scale.
	Timescale *float64
}

// Apply changes s by o and validates the result. On error, s is unchanged;
// problems name the fields (with the file's lines, which still locate the
// fields overridden). Duration applies before Customers, so that
// "--duration 10m --customers 500" means 500 sessions in 10 minutes. Rate
// and Customers together are an error with Poisson arrivals.
func (s *Scenario) Apply(o Overrides) error {
	c := s.Clone()
	var ps []*FieldError
	bad := func(field, format string, args ...any) {
		ps = append(ps, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid})
	}
	if o.Seed != nil {
		c.Seed = *o.Seed
	}
	if o.Timescale != nil {
		c.Timescale = *o.Timescale
	}
	if o.Duration != nil {
		if *o.Duration <= 0 {
			bad("duration", "%s: must be above 0", *o.Duration)
		} else {
			c.stretch(*o.Duration)
		}
	}
	if o.Rate != nil {
		if c.Customers.Arrival != ArrivalPoisson {
			bad("customers.rate", "applies to arrival: poisson; this scenario's arrival is %s (override customers instead)", c.Customers.Arrival)
		} else if o.Customers != nil {
			bad("customers.rate", "give the rate or the number of customers, not both")
		}
		c.Customers.Rate = *o.Rate
	}
	if o.Customers != nil && o.Rate == nil {
		n := *o.Customers
		switch c.Customers.Arrival {
		case ArrivalPopulation:
			c.Customers.Population = n
		default:
			if n < 1 {
				bad("customers.rate", "%d customers: must be at least 1", n)
				break
			}
			// Sessions are proportional to the rate: scale it to give n.
			c.Customers.Rate = 1
			if unit := c.Schedule().Sessions(); unit > 0 {
				c.Customers.Rate = float64(n) / unit
			}
		}
	}
	if o.Agents != nil {
		if err := c.shareAgents(*o.Agents); err != "" {
			bad("agents.groups", "%s", err)
		}
	}
	if len(ps) == 0 {
		ps = c.problems()
	}
	if len(ps) > 0 {
		ps = c.locate(ps)
		for _, p := range ps {
			o.blame(p)
		}
		return fmt.Errorf("apply overrides: %w", strictyaml.Join(ps))
	}
	*s = *c
	return nil
}

// blame makes a problem with a field that o overrode say so ("duration
// (overridden)") instead of pointing at a line of the file, which did not
// give the value.
func (o Overrides) blame(p *FieldError) {
	f := p.Field
	if o.Duration != nil && f == "duration" ||
		(o.Rate != nil || o.Customers != nil) && (f == "customers.rate" || f == "customers.population") ||
		o.Agents != nil && strings.HasPrefix(f, "agents.groups") ||
		o.Timescale != nil && f == "timescale" {
		p.File, p.Line = "", 0
		p.Field += " (overridden)"
	}
}

// stretch sets the duration to d, scaling the phases in proportion so that
// they still add up to it exactly, and moving the fixed broadcasts, the
// start of periodic ones and the storms to the same places in the run.
func (s *Scenario) stretch(d time.Duration) {
	if prev := time.Duration(s.Duration); prev > 0 {
		f := float64(d) / float64(prev)
		scale := func(x Duration) Duration { return Duration(math.Round(float64(x) * f)) }
		for i := range s.Broadcast.At {
			s.Broadcast.At[i] = scale(s.Broadcast.At[i])
		}
		s.Broadcast.Start = scale(s.Broadcast.Start)
		for i := range s.Storms {
			s.Storms[i].At = scale(s.Storms[i].At)
		}
	}
	old := s.phasesTotal()
	s.Duration = Duration(d)
	if len(s.Phases) == 0 || old <= 0 {
		return
	}
	var oldEnd time.Duration
	var newStart time.Duration
	for i := range s.Phases {
		oldEnd += time.Duration(s.Phases[i].Duration)
		newEnd := time.Duration(math.Round(float64(d) * (float64(oldEnd) / float64(old))))
		if i == len(s.Phases)-1 {
			newEnd = d
		}
		s.Phases[i].Duration = Duration(newEnd - newStart)
		newStart = newEnd
	}
}

// shareAgents spreads n agents over the pools in proportion to their
// counts, by largest remainder; it returns why it cannot.
func (s *Scenario) shareAgents(n int) string {
	gs := s.Agents.Groups
	switch {
	case n < 0:
		return fmt.Sprintf("%d agents: must not be negative", n)
	case len(gs) == 0:
		return "no agent pools to share the agents among"
	}
	weights := make([]float64, len(gs))
	total := 0.0
	for i, g := range gs {
		weights[i] = float64(max(g.Count, 0))
		total += weights[i]
	}
	if total == 0 {
		for i := range weights {
			weights[i] = 1
		}
		total = float64(len(gs))
	}
	type rem struct {
		i    int
		frac float64
	}
	rems := make([]rem, len(gs))
	given := 0
	for i := range gs {
		exact := float64(n) * weights[i] / total
		gs[i].Count = int(exact)
		given += gs[i].Count
		rems[i] = rem{i, exact - float64(gs[i].Count)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return 0
	})
	for k := 0; given < n; k++ {
		gs[rems[k%len(rems)].i].Count++
		given++
	}
	return ""
}

// Set sets the field at path, as the file names it ("customers.rate",
// "agents.groups[0].max_chats", "phases[2].target",
// "customers.script[4].chat.think"), to value, written as the file would
// write it ("2.5", "90s", "150%", "exp(20s)"), and validates the result;
// bench sim's --sweep varies a field this way. Setting "duration"
// stretches the phases as Apply does. The field must hold a single value:
// a number, duration, ratio, distribution, string or boolean. On error, s
// is unchanged and the error names the path.
func (s *Scenario) Set(path, value string) error {
	if path == "duration" {
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("set %s: %w", path, &FieldError{Field: path, Msg: fmt.Sprintf("%q: want a duration like 90s or 10m", value), Err: ErrSyntax})
		}
		if err := s.Apply(Overrides{Duration: &d}); err != nil {
			return fmt.Errorf("set %s: %w", path, err)
		}
		return nil
	}
	c := s.Clone()
	field, p := resolve(reflect.ValueOf(c).Elem(), path)
	if p == nil {
		p = setValue(field, path, value)
	}
	if p != nil {
		return fmt.Errorf("set %s: %w", path, p)
	}
	if ps := c.problems(); len(ps) > 0 {
		return fmt.Errorf("set %s=%s: %w", path, value, strictyaml.Join(c.locate(ps)))
	}
	*s = *c
	return nil
}

// resolve finds the field at path under v (a struct), following YAML keys
// and list indexes.
func resolve(v reflect.Value, path string) (reflect.Value, *FieldError) {
	if path == "" {
		return v, &FieldError{Msg: "empty path", Err: ErrUnknownField}
	}
	done := ""
	for seg := range strings.SplitSeq(path, ".") {
		name, rest, hasIndex := strings.Cut(seg, "[")
		if name == "" {
			return v, &FieldError{Field: path, Msg: fmt.Sprintf("want a field name before %q", "["+rest), Err: ErrUnknownField}
		}
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, &FieldError{Field: path, Msg: fmt.Sprintf("%s is not set in this scenario", done), Err: ErrInvalid}
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return v, &FieldError{Field: path, Msg: fmt.Sprintf("%s is a single value; it has no field %q", done, name), Err: ErrUnknownField}
		}
		var keys []string
		found := false
		for i := 0; i < v.NumField(); i++ {
			k, ok := yamlKey(v.Type().Field(i))
			if !ok {
				continue
			}
			keys = append(keys, k)
			if k == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			where := "the scenario"
			if done != "" {
				where = done
			}
			return v, &FieldError{Field: path, Msg: fmt.Sprintf("%s has no field %q%s", where, name, suggest(name, keys...)), Err: ErrUnknownField}
		}
		done = join(done, name)
		for hasIndex {
			num, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if err != nil {
				return v, &FieldError{Field: path, Msg: fmt.Sprintf("bad index %q", num), Err: ErrUnknownField}
			}
			if v.Kind() != reflect.Slice {
				return v, &FieldError{Field: path, Msg: fmt.Sprintf("%s is not a list", done), Err: ErrUnknownField}
			}
			if i < 0 || i >= v.Len() {
				return v, &FieldError{Field: path, Msg: fmt.Sprintf("%s has %d elements; no [%d]", done, v.Len(), i), Err: ErrInvalid}
			}
			v = v.Index(i)
			done = fmt.Sprintf("%s[%d]", done, i)
			rest, hasIndex = strings.CutPrefix(after, "[")
			if !hasIndex && rest != "" {
				return v, &FieldError{Field: path, Msg: fmt.Sprintf("unexpected %q after %s", rest, done), Err: ErrUnknownField}
			}
		}
	}
	return v, nil
}

// join appends key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// setValue sets field (at path) from value, as the file would write it.
func setValue(field reflect.Value, path, value string) *FieldError {
	if field.Kind() == reflect.Pointer && !reflect.PointerTo(field.Type()).Implements(unmarshalerType) {
		if field.Type().Elem().Kind() == reflect.Struct && !field.Type().Implements(unmarshalerType) {
			return &FieldError{Field: path, Msg: "a group of settings, not a single value: name one of its fields", Err: ErrInvalid}
		}
		if field.IsNil() {
			field.Set(reflect.New(field.Type().Elem()))
		}
		field = field.Elem()
	}
	bad := func(format string, args ...any) *FieldError {
		return &FieldError{Field: path, Msg: fmt.Sprintf(format, args...), Err: ErrSyntax}
	}
	v := strings.TrimSpace(value)
	if reflect.PointerTo(field.Type()).Implements(unmarshalerType) {
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: 0}
		tmp := reflect.New(field.Type())
		if err := tmp.Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			msg := err.Error()
			if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
				msg = strings.TrimPrefix(te.Errors[0], "line 0: ")
			}
			return bad("%s", msg)
		}
		field.Set(tmp.Elem())
		return nil
	}
	switch field.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(v, 10, field.Type().Bits())
		if err != nil {
			return bad("%q: want a whole number", value)
		}
		field.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(v, 10, field.Type().Bits())
		if err != nil {
			return bad("%q: want a whole number, not negative", value)
		}
		field.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad("%q: want a number", value)
		}
		field.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad("%q: want true or false", value)
		}
		field.SetBool(b)
	case reflect.String:
		field.SetString(v)
	case reflect.Slice:
		return &FieldError{Field: path, Msg: "a list, not a single value: name one of its elements, e.g. " + path + "[0]", Err: ErrInvalid}
	default:
		return &FieldError{Field: path, Msg: "a group of settings, not a single value: name one of its fields", Err: ErrInvalid}
	}
	return nil
}

// Clone returns a deep copy of s: changing one never changes the other.
// What it shares (the parsed document, loaded tenant configurations and
// corpus) is never modified.
func (s *Scenario) Clone() *Scenario {
	c := *s
	c.Phases = slices.Clone(s.Phases)
	c.Tenants = slices.Clone(s.Tenants)
	c.Agents.Groups = slices.Clone(s.Agents.Groups)
	c.Messages.Mix = slices.Clone(s.Messages.Mix)
	c.Broadcast.At = slices.Clone(s.Broadcast.At)
	c.Storms = slices.Clone(s.Storms)
	c.Objectives = slices.Clone(s.Objectives)
	c.Customers.Script = make([]Step, len(s.Customers.Script))
	for i, st := range s.Customers.Script {
		c.Customers.Script[i] = st.clone()
	}
	if s.Customers.Script == nil {
		c.Customers.Script = nil
	}
	return &c
}

// clone deep-copies a step.
func (st Step) clone() Step {
	c := st
	c.Connect = clonePtr(st.Connect)
	c.Open = clonePtr(st.Open)
	c.ExpectMenu = clonePtr(st.ExpectMenu)
	c.Think = clonePtr(st.Think)
	c.Ask = clonePtr(st.Ask)
	c.Choose = clonePtr(st.Choose)
	if c.Choose != nil {
		c.Choose.Items = slices.Clone(st.Choose.Items)
	}
	c.AskPerson = clonePtr(st.AskPerson)
	c.Chat = clonePtr(st.Chat)
	c.Background = clonePtr(st.Background)
	c.Kill = clonePtr(st.Kill)
	c.Close = clonePtr(st.Close)
	c.AbandonAfter = clonePtr(st.AbandonAfter)
	c.Chance = clonePtr(st.Chance)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
