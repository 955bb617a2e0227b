// Package scenario owns bench's scenario files: the configuration of a
// load scenario (customers, agents, arrivals, objectives), apart from any
// runtime, as k6 keeps an executor's config apart from the executor. bench
// run plays a Scenario on real connections and bench sim in virtual time;
// both read it through this package.
//
// A scenario file is one YAML document, documented in FORMAT.md beside this
// file. Load, Parse and LoadNamed decode it strictly with strictyaml: an
// unknown key, step or metric and a value of the wrong type are errors
// naming the file, the line and the field, with a suggestion when a known
// name is close. Defaults are applied, then Validate reports every problem
// at once, each with its field path and line:
//
//	smoke.yaml:3: custmers: field not found in scenario.Scenario (did you mean customers?)
//	smoke.yaml:14: customers.script[3].chat.messages: 0: must be between 1 and 10000
//
// Distributions (Dist, SizeDist), ratios (Ratio) and objectives
// (Objective) are small typed values decoded from strings such as
// "lognormal(median=8s, p90=30s)", "80%" and "delivery.p99 < 50ms".
//
// Apply changes the fields common on a command line (Overrides), and Set
// any single-valued field by its path, re-validating after; bench sim's
// sweeps use Set on clones (Clone). Schedule computes the planned load —
// the target rate or population at any offset, Poisson arrival times, the
// expected sessions — as a pure function of the configuration.
//
// A Scenario marshals back to the format with yaml.Marshal (defaults
// written out), so a result can carry the scenario it ran.
//
// Times in a scenario are scenario time, the time of the humans simulated;
// Timescale says how fast bench run plays it (Wall converts). A Scenario is
// not safe for concurrent modification; once built, concurrent readers are
// fine.
package scenario
