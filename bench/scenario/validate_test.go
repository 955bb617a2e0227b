package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/scenarios"
)

// valid returns a valid scenario built in code: every field of the
// elements it adds is set, as Default's documentation asks.
func valid() *Scenario {
	s := Default()
	s.Name = "code"
	s.Duration = Duration(10 * time.Minute)
	s.Customers.Rate = 2
	think := Exp(5 * time.Second)
	s.Customers.Script = []Step{
		{Connect: &Connect{}},
		{Open: &Open{Channel: "app"}},
		{ExpectMenu: &ExpectMenu{}},
		{Think: &think},
		{AskPerson: &AskPerson{}},
		{Chat: &Chat{Messages: 2, Think: think}},
		{Close: &Close{}},
	}
	s.Agents.Groups = []AgentGroup{{Tenant: DemoTenant, Group: "general", Count: 2, MaxChats: 3}}
	return s
}

func TestValidate(t *testing.T) {
	ratio := func(r Ratio) *Ratio { return &r }
	tests := []struct {
		name   string
		change func(s *Scenario)
		want   []string // problems, in order, without file and line
	}{
		{"valid", func(*Scenario) {}, nil},
		{"population", func(s *Scenario) {
			s.Customers.Arrival, s.Customers.Rate, s.Customers.Population = ArrivalPopulation, 0, 50
		}, nil},
		{"phases", func(s *Scenario) {
			s.Phases = []Phase{{Name: "up", Kind: PhaseRamp, Duration: Duration(time.Minute), Target: 1}, {Name: "hold", Kind: PhaseSteady, Duration: Duration(9 * time.Minute), Target: 1}}
		}, nil},
		{"phases not matching the duration", func(s *Scenario) {
			s.Phases = []Phase{{Kind: PhaseSteady, Duration: Duration(time.Minute), Target: 0}}
		}, []string{
			"duration: 10m0s does not match the phases' total 1m0s",
			"phases: every target is 0%: the run would have no customers",
		}},
		{"no name, timescale, duration", func(s *Scenario) {
			s.Name, s.Timescale, s.Duration = "", -1, 0
		}, []string{"name: required", "timescale: -1: must be above 0", "duration: required: give a duration, or phases"}},
		{"too long", func(s *Scenario) { s.Duration = Duration(MaxDuration + 1) }, []string{"duration: 744h0m0.000000001s: at most 744h0m0s"}},
		{"script order", func(s *Scenario) {
			sc := s.Customers.Script
			s.Customers.Script = []Step{sc[1], sc[0], sc[6], sc[5], sc[0], {Kill: &Kill{}}, {Close: &Close{}, Chance: ratio(0.5)}, sc[1]}
		}, []string{
			"customers.script[0]: open needs a connection: connect first",
			"customers.script[3]: chat needs an open conversation: open one first",
			"customers.script[4]: already connected",
			"customers.script[5].kill.reconnect_after: required: a distribution",
			"customers.script[6]: close needs an open conversation",
		}},
		{"a close with a chance", func(s *Scenario) {
			s.Customers.Script[6].Chance = ratio(0.5)
			s.Customers.Script = append(s.Customers.Script, s.Customers.Script[1])
		}, []string{"customers.script[7]: a conversation may still be open: the close before it has a chance"}},
		{"bad chance", func(s *Scenario) {
			s.Customers.Script[1].Chance = ratio(0.5)
			s.Customers.Script[3].Chance = ratio(1.5)
		}, []string{
			"customers.script[1].chance: not allowed on open",
			"customers.script[3].chance: 150%: must be between 0% and 100%",
		}},
		{"unset distributions and settings", func(s *Scenario) {
			s.Agents.Typing = Dist{}
			s.Customers.Script[3].Think = &Dist{}
			s.Customers.Script[1].Open.Channel = " "
			s.Customers.Script[5].Chat = &Chat{}
		}, []string{
			"agents.typing: required: a distribution",
			"customers.script[1].open.channel: required",
			"customers.script[3].think: required: a distribution",
			"customers.script[5].chat.messages: 0: must be between 1 and 10000",
			"customers.script[5].chat.think: required: a distribution",
		}},
		{"no agents for a person", func(s *Scenario) { s.Agents.Groups[0].Count = 0 }, []string{
			"agents.groups: no agents, but customers.script[4] needs one",
		}},
		{"agents", func(s *Scenario) {
			s.Tenants = append(s.Tenants, Tenant{ID: "other", Weight: 1})
			s.Agents.Groups = append(s.Agents.Groups,
				AgentGroup{Group: "general", Count: 1, MaxChats: 1},
				AgentGroup{Tenant: "nope", Group: "x", Count: 1, MaxChats: 1},
				AgentGroup{Tenant: "other", Group: "anything", Count: 1, MaxChats: 500},
				AgentGroup{Tenant: "other", Group: "", Count: 1, MaxChats: 1001})
			s.Agents.CloseAfter = -1
			s.Agents.Away.For = Const(time.Minute)
		}, []string{
			"agents.close_after: -1: must not be negative",
			"agents.away.every: required with away.for",
			"agents.groups[1].tenant: required when there are several tenants (tenants: demo, other)",
			`agents.groups[2].tenant: no tenant "nope" (tenants: demo, other)`,
			"agents.groups[4].group: required",
			"agents.groups[4].max_chats: 1001: must be between 1 and 1000",
		}},
		{"tenants", func(s *Scenario) {
			s.Tenants = []Tenant{{ID: "Demo", Weight: 1}, {Weight: -1}}
			s.Agents.Groups[0].Tenant = ""
		}, []string{
			`tenants[0].id: "Demo": want 1 to 64 characters of a-z, 0-9, '-' and '_'`,
			"tenants[1].id: required",
			"tenants[1].weight: -1: must be above 0",
			"agents.groups[0].tenant: required when there are several tenants (tenants: )",
		}},
		{"no tenants", func(s *Scenario) { s.Tenants = nil; s.Agents.Groups[0].Tenant = "" }, []string{"tenants: at least one tenant is required"}},
		{"arrivals", func(s *Scenario) {
			s.Customers.Arrival = ArrivalPopulation
			s.Customers.Population = 0
		}, []string{
			"customers.population: 0: must be between 1 and 100000000",
			"customers.rate: applies to arrival: poisson",
		}},
		{"messages and broadcast", func(s *Scenario) {
			s.Messages.Mix = []Mix{{Kind: "text", Weight: 1, Size: SizeDist{shape{kind: distUniform, a: 1, b: MaxMessageSize + 1}}}, {Kind: "text", Weight: 1, Size: SizeDist{shape{kind: distExp, a: 2 * MaxMessageSize}}}, {Kind: "menu-choice", Weight: 1}}
			s.Broadcast = Broadcast{Every: Const(0), Start: Duration(time.Hour), Tenant: "nope", Kind: "video", Size: ConstSize(10)}
		}, []string{
			"messages.mix[0].size: uniform(1, 61441): at most 61440 bytes",
			`messages.mix[1].kind: duplicate kind "text" (also messages.mix[0])`,
			"messages.mix[1].size: exp(122880): mean above 61440 bytes",
			`messages.mix[2].kind: unknown message kind "menu-choice"`,
			"messages.mix[2].size: required",
			`broadcast.tenant: no tenant "nope"`,
			`broadcast.kind: unknown message kind "video"`,
			"broadcast.every: const(0s): the time between broadcasts must be above 0",
			"broadcast.start: 1h0m0s: must be between 0s and the duration, 10m0s",
		}},
		{"storms", func(s *Scenario) {
			s.Storms = []Storm{{At: Duration(time.Minute), Share: 0.5, ReconnectAfter: Const(0)}, {At: -1, Share: 2}}
		}, []string{
			"storms[1].at: -1ns: must be between 0s and the duration",
			"storms[1].share: 200%: must be above 0% and at most 100%",
			"storms[1].reconnect_after: required",
		}},
		{"empty script", func(s *Scenario) { s.Customers.Script = nil }, []string{"customers.script: at least one step is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.change(s)
			err := s.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: no error")
			}
			checkProblems(t, err, ErrInvalid, tt.want)
		})
	}
}

// TestValidateLines checks that Validate on a parsed scenario changed in
// code still names the file and the field's line.
func TestValidateLines(t *testing.T) {
	s, err := LoadNamed("smoke")
	if err != nil {
		t.Fatal(err)
	}
	data, err := scenarios.Open("smoke")
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "- chat:") {
			line = i + 1
		}
	}
	var chat int
	for i, st := range s.Customers.Script {
		if st.Kind() == StepChat {
			chat = i
		}
	}
	s.Customers.Script[chat].Chat.Messages = 0
	err = s.Validate()
	want := "scenarios/smoke.yaml:" + itoa(line) + ": customers.script[" + itoa(chat) + "].chat.messages: 0: must be between 1 and 10000"
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v; want %s", err, want)
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
