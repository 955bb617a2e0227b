// Package conform is a protocol conformance suite: it checks that a server
// speaks the swarmdesk protocol (refserver/wire/PROTOCOL.md) before bench
// measures it. Each case drives the server through fresh connections as a
// client would, and compares every answer with what PROTOCOL.md says: the
// session (hello, ready, ping, the fatal errors), tokens, opening a
// conversation, sequences, dedupe of retried client ids, delivery to every
// device, resume, routing to an agent and the queue, and the refusals of
// broken or forbidden requests.
//
// It has the shape of testing/fstest.TestFS: one call checks everything and
// returns one error listing every problem.
//
//	if err := conform.Test(ctx, conform.Config{Target: "127.0.0.1:7400"}); err != nil {
//		log.Fatal(err)
//	}
//
// Run returns the full Report instead (one Case per check, with its
// problems), which bench conform prints as text or JSON.
//
// The target's scheme chooses how frames travel: "tcp://host:port" or a
// bare "host:port" is a long TCP connection; "http://host:port" is the
// protocol's HTTP binding (polling).
package conform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/probe"
	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Config says which server to check, and how.
type Config struct {
	// Target is the server: "tcp://host:port" or "host:port" (a long
	// TCP connection), or "http://host:port" (the HTTP binding).
	Target string
	// Tenant is the tenant the cases connect to (default "demo").
	Tenant string
	// Secret is the tenant's token secret. The cases sign a token for
	// every hello with it. Empty means the tenant is open (it admits any
	// hello), and the token cases are skipped.
	Secret string
	// Group is a skill group the suite may own while it runs: no agent
	// but the suite's is online in it, and nobody else's conversations
	// wait in its queue (default "presales"). The routing cases put an
	// agent online in it, and close any conversation left in its queue.
	Group string
	// Timeout bounds each expectation: how long a case waits for an
	// answer before it reports that none came (default 5s).
	Timeout time.Duration
	// Prefix starts every user id the cases use (default: "conform-" and
	// random hex, so that runs against one server do not meet).
	Prefix string
	// Only selects cases: a case runs when its name matches one of these
	// regular expressions (unanchored, as go test -run). Empty runs all.
	Only []string
}

// Defaults of Config.
const (
	DefaultTenant  = "demo"
	DefaultGroup   = "presales"
	DefaultTimeout = 5 * time.Second
)

// Status is how a case ended.
type Status string

// Case statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Case is the outcome of one conformance case.
type Case struct {
	// Name is the case's name, grouped by prefix ("session/hello-ready").
	Name string `json:"name"`
	// Status is pass, fail or skip.
	Status Status `json:"status"`
	// Problems says, for a failed case, what was expected and what came.
	Problems []string `json:"problems,omitempty"`
	// Skipped says why a skipped case did not run.
	Skipped string `json:"skipped,omitempty"`
	// Took is how long the case ran.
	Took time.Duration `json:"took_ns"`
}

// Report is the outcome of a conformance run.
type Report struct {
	// Target is the server checked, as configured.
	Target string `json:"target"`
	// Cases are the cases run, in order.
	Cases []Case `json:"cases"`
}

// Failure is the error of a report with failed cases: it lists every
// failed case and its problems.
type Failure struct {
	// Target is the server checked.
	Target string
	// Failed are the failed cases, in the order they ran.
	Failed []Case
}

// Error implements error.
func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "conform %s: %d case(s) failed:", f.Target, len(f.Failed))
	for _, c := range f.Failed {
		fmt.Fprintf(&b, "\n%s:", c.Name)
		for _, p := range c.Problems {
			fmt.Fprintf(&b, "\n\t%s", indent(p, "\n\t"))
		}
	}
	return b.String()
}

// Names returns the names of the failed cases.
func (f *Failure) Names() []string {
	names := make([]string, len(f.Failed))
	for i, c := range f.Failed {
		names[i] = c.Name
	}
	return names
}

// Err returns nil when no case failed, else a *Failure listing every failed
// case with its problems.
func (r *Report) Err() error {
	var failed []Case
	for _, c := range r.Cases {
		if c.Status == Fail {
			failed = append(failed, c)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &Failure{Target: r.Target, Failed: failed}
}

// Count returns how many cases ended with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Cases {
		if c.Status == s {
			n++
		}
	}
	return n
}

// WriteText writes the report for people: a line per case (PASS, FAIL or
// SKIP, its name and how long it took) with its problems indented below,
// then a summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "%s %s (%s)\n", strings.ToUpper(string(c.Status)), c.Name, round(c.Took))
		for _, p := range c.Problems {
			fmt.Fprintf(&b, "    %s\n", indent(p, "\n    "))
		}
		if c.Skipped != "" {
			fmt.Fprintf(&b, "    %s\n", c.Skipped)
		}
	}
	fmt.Fprintf(&b, "conform %s: %d passed, %d failed, %d skipped\n", r.Target, r.Count(Pass), r.Count(Fail), r.Count(Skip))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func round(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

func indent(s, nl string) string { return strings.ReplaceAll(s, "\n", nl) }

// Validate checks the configuration: the target's form and the case
// filters. Run reports the same errors as a failed case "config".
func (cfg *Config) Validate() error {
	if _, err := parseTarget(cfg.Target); err != nil {
		return err
	}
	if _, err := cfg.filter(); err != nil {
		return err
	}
	if cfg.Timeout < 0 {
		return fmt.Errorf("conform: timeout %v is negative", cfg.Timeout)
	}
	return nil
}

// withDefaults returns cfg with its defaults applied.
func (cfg Config) withDefaults() Config {
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Prefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Prefix = "conform-" + hex.EncodeToString(b[:])
	}
	return cfg
}

// filter compiles Only into a predicate on case names.
func (cfg *Config) filter() (func(string) bool, error) {
	var res []*regexp.Regexp
	for _, s := range cfg.Only {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("conform: case filter %q: %w", s, err)
		}
		res = append(res, re)
	}
	return func(name string) bool {
		if len(res) == 0 {
			return true
		}
		for _, re := range res {
			if re.MatchString(name) {
				return true
			}
		}
		return false
	}, nil
}

// Names returns the names of every case of the suite, in the order Run
// runs them.
func Names() []string {
	names := make([]string, len(suite))
	for i, c := range suite {
		names[i] = c.name
	}
	return names
}

// Run runs every case cfg selects, one after another, each on its own
// fresh connections, and reports how each went. A configuration that does
// not validate is reported as one failed case named "config". When ctx
// ends, the case running fails and the cases left are reported failed as
// not run.
func Run(ctx context.Context, cfg Config) *Report {
	rep := &Report{Target: cfg.Target}
	if err := cfg.Validate(); err != nil {
		rep.Cases = append(rep.Cases, Case{Name: "config", Status: Fail, Problems: []string{err.Error()}})
		return rep
	}
	cfg = cfg.withDefaults()
	target, _ := parseTarget(cfg.Target)
	selected, _ := cfg.filter()
	for _, tc := range suite {
		if !selected(tc.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			rep.Cases = append(rep.Cases, Case{Name: tc.name, Status: Fail, Problems: []string{"not run: " + err.Error()}})
			continue
		}
		rep.Cases = append(rep.Cases, runCase(ctx, &cfg, target, tc))
	}
	return rep
}

// Test runs the suite and returns nil when no case failed, else an error
// listing every failed case and its problems: Run(ctx, cfg).Err().
func Test(ctx context.Context, cfg Config) error {
	return Run(ctx, cfg).Err()
}

// Probe checks, with one hello, that a server of the protocol answers at
// the target (bench/probe), so that a caller can tell a server that is not
// there, or is something else, from one that breaks the protocol: the
// error says what is there instead and suggests the scheme to use. A hello
// refused (a tenant or token the server does not accept) is an error too:
// every case would fail on it.
func Probe(ctx context.Context, cfg Config) error {
	tg, err := parseTarget(cfg.Target)
	if err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	pt := probe.Target{Addr: tg.addr, Prefix: tg.prefix(), HTTP: tg.http, HTTPS: strings.HasPrefix(tg.base, "https:"), Timeout: min(cfg.Timeout, probe.DefaultTimeout)}
	user := cfg.Prefix + "-probe"
	hello := &wire.Hello{Role: wire.RoleCustomer, Tenant: cfg.Tenant, User: user, Device: "phone"}
	if cfg.Secret != "" {
		hello.Token = tenant.SignToken(cfg.Secret, cfg.Tenant, wire.RoleCustomer, user, time.Now().Add(time.Hour))
	}
	if _, err := probe.Check(ctx, pt, hello); err != nil {
		if errors.Is(err, probe.ErrRefused) {
			return fmt.Errorf("conform: %s: %w (check --tenant and --secret)", cfg.Target, err)
		}
		return fmt.Errorf("conform: %s: %w", cfg.Target, err)
	}
	return nil
}

// errNoTarget is the error of a missing target.
var errNoTarget = errors.New("conform: no target: want tcp://host:port, host:port or http://host:port")
