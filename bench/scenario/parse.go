package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmdesk/swarmdesk/refserver/strictyaml"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/scenarios"
)

// Parse decodes a scenario document, applies defaults and validates the
// result. name is used in errors and as the default scenario name. Decoding
// is strict: an unknown key, step or metric, or a value of the wrong type,
// is an error naming the file, line and field, with a suggestion when a
// known name is close. Every problem found is returned, joined.
//
// A document given to Parse has no directory, so the tenant files and
// question corpus it names are not loaded: tenants other than the demo
// are not checked, and the corpus must be "sample". Load resolves files
// relative to the scenario file.
func Parse(data []byte, name string) (*Scenario, error) {
	return parse(data, name, "")
}

// Load reads and parses the scenario file at path, as Parse does, loading
// the tenant files and question corpus it names relative to the file's
// directory.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	return parse(data, path, filepath.Dir(path))
}

// LoadWith loads the scenario nameOrPath names, as LoadNamed does, and
// applies the overrides o: what bench run, sim and plan start from.
func LoadWith(nameOrPath string, o Overrides) (*Scenario, error) {
	sc, err := LoadNamed(nameOrPath)
	if err != nil {
		return nil, err
	}
	if err := sc.Apply(o); err != nil {
		return nil, fmt.Errorf("%s: %w", nameOrPath, err)
	}
	return sc, nil
}

// LoadNamed loads a scenario by name or path: a bare name such as "smoke"
// is the embedded scenario of that name (see package scenarios); anything
// with a path separator or a .yaml or .yml extension is a file, as Load
// reads it. An unknown name is ErrNotFound, with the names known.
func LoadNamed(nameOrPath string) (*Scenario, error) {
	if strings.ContainsAny(nameOrPath, `/\`) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		return Load(nameOrPath)
	}
	data, err := scenarios.Open(nameOrPath)
	if err != nil {
		names := scenarios.Names()
		msg := fmt.Sprintf("%q", nameOrPath)
		if s := strictyaml.Suggest(nameOrPath, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return nil, fmt.Errorf("%w: %s; embedded: %s; a file path needs a / or a .yaml extension", ErrNotFound, msg, strings.Join(names, ", "))
	}
	return parse(data, "scenarios/"+nameOrPath+".yaml", "")
}

// parse implements Parse, Load and LoadNamed. dir is the directory files
// are relative to; "" allows none.
func parse(data []byte, name, dir string) (*Scenario, error) {
	s := Default()
	root, ps := strictyaml.Decode(data, name, s, strictyaml.Options{Syntax: ErrSyntax, UnknownField: ErrUnknownField})
	s.file, s.dir, s.root = name, dir, root
	ps = append(ps, emptyItems(root, "")...)
	if len(ps) > 0 {
		// The rest of the document may be half decoded, so only the
		// problems of bare step names, known already, join those of
		// decoding.
		for i, st := range s.Customers.Script {
			if st.problem != "" && root != nil {
				ps = append(ps, &FieldError{Field: fmt.Sprintf("customers.script[%d]", i), Msg: st.problem, Err: st.bad})
			}
		}
		return nil, strictyaml.Join(s.locate(ps))
	}
	d := defaults{root: root}
	d.bareSteps(s)
	d.apply(s)
	ps = append(d.problems, s.loadFiles()...)
	ps = append(ps, s.problems()...)
	if len(ps) > 0 {
		return nil, strictyaml.Join(s.locate(ps))
	}
	return s, nil
}

// locate gives problems the scenario's file and the lines of their fields,
// where they have none.
func (s *Scenario) locate(ps []*FieldError) []*FieldError {
	for _, p := range ps {
		p.File = s.file
		if p.Line == 0 && s.root != nil {
			p.Line = strictyaml.Line(s.root, p.Field)
		}
	}
	return ps
}

// defaults fills what a document leaves out where Default cannot: in list
// elements, and what depends on other fields. A key counts as left out
// when the document does not have it, so an explicit zero is kept (and
// validated).
type defaults struct {
	root     *yaml.Node
	problems []*FieldError
}

// has reports whether the document has the key or element at path.
func (d *defaults) has(path string) bool { return lookup(d.root, path) != nil }

// required records a problem when the document lacks path.
func (d *defaults) required(path, msg string) {
	if !d.has(path) {
		d.problems = append(d.problems, &FieldError{Field: path, Msg: msg, Err: ErrInvalid})
	}
}

// bareSteps gives default settings to steps written as a key without a
// value ("- chat:"), which yaml.v3 leaves unset.
func (d *defaults) bareSteps(s *Scenario) {
	seq := lookup(d.root, "customers.script")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for i, n := range seq.Content {
		if n.Kind != yaml.MappingNode || i >= len(s.Customers.Script) {
			continue
		}
		for k := 0; k+1 < len(n.Content); k += 2 {
			key, val := n.Content[k], n.Content[k+1]
			if val.ShortTag() == "!!null" && key.Value != "chance" {
				s.Customers.Script[i].setBare(key.Value)
			}
		}
	}
}

// apply fills the defaults of a decoded scenario.
func (d *defaults) apply(s *Scenario) {
	if s.Name == "" {
		base := filepath.Base(s.file)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	prev := Ratio(1)
	for i := range s.Phases {
		p := &s.Phases[i]
		f := fmt.Sprintf("phases[%d]", i)
		if !d.has(f + ".kind") {
			p.Kind = PhaseSteady
		}
		if !d.has(f + ".target") {
			switch p.Kind {
			case PhaseSteady:
				p.Target = prev
			default:
				d.required(f+".target", fmt.Sprintf("required for a %s phase, e.g. target: 150%%", p.Kind))
			}
		}
		if p.Name == "" {
			p.Name = string(p.Kind)
		}
		prev = p.Target
	}
	if len(s.Phases) > 0 && !d.has("duration") {
		s.Duration = Duration(s.phasesTotal())
	}
	for i := range s.Tenants {
		if !d.has(fmt.Sprintf("tenants[%d].weight", i)) {
			s.Tenants[i].Weight = 1
		}
	}
	for i := range s.Agents.Groups {
		g := &s.Agents.Groups[i]
		f := fmt.Sprintf("agents.groups[%d]", i)
		if !d.has(f+".tenant") && len(s.Tenants) == 1 {
			g.Tenant = s.Tenants[0].ID
		}
		if !d.has(f + ".count") {
			g.Count = 1
		}
		if !d.has(f + ".max_chats") {
			g.MaxChats = DefaultMaxChats
		}
	}
	for i := range s.Customers.Script {
		st := &s.Customers.Script[i]
		f := fmt.Sprintf("customers.script[%d].", i)
		if st.Open != nil && !d.has(f+"open.channel") {
			st.Open.Channel = defaultChannel
		}
		if st.Ask != nil {
			if !d.has(f + "ask.count") {
				st.Ask.Count = 1
			}
			if !d.has(f + "ask.think") {
				st.Ask.Think = defaultAskThink
			}
		}
		if st.Chat != nil {
			if !d.has(f + "chat.messages") {
				st.Chat.Messages = defaultChatMessages
			}
			if !d.has(f + "chat.think") {
				st.Chat.Think = defaultChatThink
			}
		}
		if st.Kill != nil && !d.has(f+"kill.reconnect_after") {
			st.Kill.ReconnectAfter = defaultReconnect
		}
	}
	for i := range s.Messages.Mix {
		m := &s.Messages.Mix[i]
		f := fmt.Sprintf("messages.mix[%d]", i)
		if !d.has(f + ".weight") {
			m.Weight = 1
		}
		if !d.has(f + ".size") {
			m.Size = defaultSize(m.Kind)
		}
	}
	if s.Broadcast.Tenant == "" && len(s.Tenants) > 0 {
		s.Broadcast.Tenant = s.Tenants[0].ID
	}
	for i := range s.Storms {
		f := fmt.Sprintf("storms[%d]", i)
		if !d.has(f + ".share") {
			s.Storms[i].Share = 1
		}
		if !d.has(f + ".reconnect_after") {
			s.Storms[i].ReconnectAfter = defaultStormWait
		}
		d.required(f+".at", "required: the offset of the storm from the start, e.g. at: 2m")
	}
}

// emptyItems reports the empty items ("-" alone) of the lists under n, at
// path: yaml.v3 drops them from a list of structs, which would silently
// lose a step and shift the indexes of those after it.
func emptyItems(n *yaml.Node, path string) []*FieldError {
	if n == nil {
		return nil
	}
	var ps []*FieldError
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			ps = append(ps, emptyItems(n.Content[i+1], join(path, n.Content[i].Value))...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" {
				ps = append(ps, &FieldError{Line: c.Line, Field: p, Msg: "empty list item", Err: ErrSyntax})
			}
			ps = append(ps, emptyItems(c, p)...)
		}
	}
	return ps
}

// DefaultMaxChats is an agent pool's max_chats when the file gives none:
// the contact-centre planners' figure for chats of some complexity.
const DefaultMaxChats = 3

// phasesTotal is the sum of the phases' durations.
func (s *Scenario) phasesTotal() time.Duration {
	var t time.Duration
	for _, p := range s.Phases {
		t += time.Duration(p.Duration)
	}
	return t
}

// lookup returns the node of the key or element at path ("a.b[2].c") in
// the document under root, or nil if the document has none.
func lookup(root *yaml.Node, path string) *yaml.Node {
	n := root
	if n == nil {
		return nil
	}
	for seg := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		if name != "" {
			if n.Kind != yaml.MappingNode {
				return nil
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return nil
			}
			n = next
		}
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			rest = strings.TrimPrefix(after, "[")
			i, err := strconv.Atoi(num)
			if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		}
	}
	return n
}

// demoTenant is refserver's built-in demo tenant, parsed once.
var demoTenant = sync.OnceValue(func() *tenant.Config {
	c := tenant.Demo()
	return &c
})

// loadFiles loads what the scenario's tenants and corpus name, keeping
// what it loads for validation, and returns the problems. The demo tenant
// needs no file; files need a directory (a scenario read by Load).
func (s *Scenario) loadFiles() []*FieldError {
	var ps []*FieldError
	s.tenantConfigs = map[string]*tenant.Config{}
	for i, t := range s.Tenants {
		switch {
		case t.File != "":
			if s.dir == "" {
				// A document without a directory (Parse, embedded) cannot
				// name files; the runtime resolves it, unchecked.
				continue
			}
			c, err := tenant.Load(s.Path(t.File))
			if err != nil {
				ps = append(ps, &FieldError{Field: fmt.Sprintf("tenants[%d].file", i), Msg: err.Error(), Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
				continue
			}
			if c.ID != t.ID {
				ps = append(ps, &FieldError{Field: fmt.Sprintf("tenants[%d].id", i), Msg: fmt.Sprintf("%q, but the tenant file %s is tenant %q", t.ID, t.File, c.ID), Err: ErrInvalid})
			}
			s.tenantConfigs[t.ID] = &c
		case t.ID == DemoTenant:
			s.tenantConfigs[t.ID] = demoTenant()
		}
	}
	if _, err := s.Corpus(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			ps = append(ps, fe)
		} else {
			ps = append(ps, &FieldError{Field: "customers.corpus", Msg: err.Error(), Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
		}
	}
	return ps
}

// Path resolves a file the scenario names (a tenant file, a corpus)
// relative to the scenario file's directory; an absolute path, or any path
// in a scenario not read from a file, is returned as is.
func (s *Scenario) Path(file string) string {
	if s.dir == "" || filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(s.dir, file)
}

// yamlKey returns the YAML key of struct field f, and false for a field
// the format does not have.
func yamlKey(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	k, _, _ := strings.Cut(tag, ",")
	if !f.IsExported() || tag == "-" {
		return "", false
	}
	if k == "" {
		k = strings.ToLower(f.Name)
	}
	return k, true
}
