// Package reports owns the result document of a bench run: its schema
// (RESULT.md, beside this file), writing and reading it, and merging the
// documents of a run split across several bench processes.
//
// A Result is data, not a view: it holds every histogram of the run in full
// (HdrHistogram's compressed V2 encoding), so any report can be rebuilt from
// the saved file alone and the shards of one run merge exactly. Summaries in
// the document (percentiles, counts) are always derived from those
// histograms, never the other way round.
//
// The imports run one way: bench writes its results through this package;
// reports imports nothing from bench or refserver.
package reports

import (
	"errors"
	"math"
	"time"
)

// Schema is the version of the result document this package writes and the
// only one it reads. A change that could make an old reader misread a new
// document (a field renamed, removed or changing meaning or unit) takes a
// new version.
const Schema = "swarmdesk.result/v1"

// Sentinel errors, matched with errors.Is.
var (
	// ErrSchema marks a document of an unknown or missing schema version.
	ErrSchema = errors.New("reports: unknown result schema")
	// ErrInvalid marks a document that decodes but contradicts itself (a
	// count that does not match its histogram, a shard index out of range).
	ErrInvalid = errors.New("reports: invalid result")
	// ErrNoMetric marks a request for a latency metric the result lacks.
	ErrNoMetric = errors.New("reports: no such metric")
	// ErrMerge marks results that are not the shards of one run.
	ErrMerge = errors.New("reports: cannot merge results")
)

// Result is the result document of one bench run, or of one shard of a run
// split across processes. Its JSON form is documented field by field in
// RESULT.md.
type Result struct {
	// Schema is the document's version, always the Schema constant when
	// written by this package.
	Schema string `json:"schema"`

	// Run is what the run was: tool, scenario, seed, time, shard, target.
	Run

	// Valid is false when the figures cannot be trusted: the generator fell
	// behind its schedule, a shard was invalid, or the caller found another
	// reason. A run can be valid and still fail its objectives.
	Valid bool `json:"valid"`
	// InvalidReasons says why the run is invalid, one reason per entry;
	// empty when Valid.
	InvalidReasons []string `json:"invalid_reasons,omitempty"`

	// Latency holds one entry per metric (connect, delivery, queue_wait,
	// ...), keyed by metric name.
	Latency map[string]Latency `json:"latency"`
	// Messages is the correctness accounting of chat messages.
	Messages Messages `json:"messages"`
	// Actions is how well the generator kept to its schedule.
	Actions Actions `json:"actions"`
	// Errors counts protocol and client errors by code (the wire error code
	// as a decimal string, or a client-side name such as "connect").
	Errors map[string]int64 `json:"errors,omitempty"`
	// Sessions counts customer sessions by how they went.
	Sessions Sessions `json:"sessions"`
	// Agents is the agent-concurrency data: how many chats agents carried
	// and how reply latency depends on it.
	Agents Agents `json:"agents"`
	// Objectives are the scenario's objectives, each evaluated against this
	// result. Merge leaves them empty: they must be evaluated again against
	// the merged figures.
	Objectives []Objective `json:"objectives,omitempty"`
	// Generator is the bench process's own resource use.
	Generator Resources `json:"generator"`
	// Server is the measured server's resource use, as far as it could be
	// sampled.
	Server Resources `json:"server"`
	// Saturation is how busy bench and the server were on the CPUs each
	// ran on, and whether the generator could have bent the figures
	// (saturated, or its lag dominating a tail); absent in results older
	// than the field and in bench sim's.
	Saturation *Saturation `json:"saturation,omitempty"`
	// Series is the run as a time series, one point per recording interval.
	Series []Point `json:"series,omitempty"`
	// FindMax is the search of bench run --find-max, on the result of the
	// highest load that met every objective (or, when none did, of the
	// lowest load tried); absent for an ordinary run.
	FindMax *FindMax `json:"find_max,omitempty"`
	// Sim is how a bench sim run went; absent for a run on real
	// connections.
	Sim *Sim `json:"sim,omitempty"`
	// Reconnects counts the simulated connections the server or the
	// network ended and how the clients came back; absent when none was
	// ended (the clients' own disconnects, a script's kill step, are not
	// counted here).
	Reconnects *Reconnects `json:"reconnects,omitempty"`
	// Chaos is the crash test of bench run --chaos: each kill of the server
	// and how the run recovered from it; absent for a run without chaos.
	Chaos *Chaos `json:"chaos,omitempty"`
}

// Reconnects counts connections ended by the server or the network, not by
// their client, and the clients' way back: a client whose connection drops
// dials again after a jittered exponential backoff, says hello with its
// resume points and re-sends what was not acknowledged. A drop is not an
// error: the client recovers from it by design, as a mobile app does. What
// it costs shows in the latencies (measured from the intended time), in
// resume, and in lost or unacked messages if the server did not recover.
type Reconnects struct {
	// Dropped counts connections that had said hello and were ended by the
	// server or the network.
	Dropped int64 `json:"dropped"`
	// Attempts counts dials made to replace a dropped or failed connection.
	Attempts int64 `json:"attempts"`
	// Failed counts dials that ended before the server's ready: refused
	// while the server was down, or closed at once.
	Failed int64 `json:"failed"`
	// Resumed counts redials that reached ready, resuming the client's
	// conversations.
	Resumed int64 `json:"resumed"`
}

// Chaos describes a crash test: the server killed with SIGKILL every
// EveryS seconds and restarted on the same data directory and address,
// while the clients reconnect, resume and retry.
type Chaos struct {
	// Fault is what was done to the server: "kill-server" (SIGKILL, then a
	// restart on the same data directory and address).
	Fault string `json:"fault"`
	// EveryS is the time between kills, in seconds of wall time.
	EveryS float64 `json:"every_s"`
	// Durability is the server's --durability setting: none, batch or sync.
	Durability string `json:"durability"`
	// Count is the number of kills.
	Count int `json:"count"`
	// InFlight is the sum over the kills of the messages in flight at each
	// (sent and not yet acknowledged).
	InFlight int64 `json:"in_flight"`
	// MaxServerRestartS is the longest server restart, in seconds.
	MaxServerRestartS float64 `json:"max_server_restart_s"`
	// MaxClientsResumedS is the longest client recovery, in seconds, over
	// the kills whose clients all came back.
	MaxClientsResumedS float64 `json:"max_clients_resumed_s"`
	// NotResumed counts kills after which the clients had not all come back
	// by the next kill or the end of the run.
	NotResumed int `json:"not_resumed"`
	// Kills are the kills in order.
	Kills []ChaosKill `json:"kills"`
}

// ChaosKill is one kill of the server and the recovery from it.
type ChaosKill struct {
	// AtS is when the server was killed, in seconds since the run's start.
	AtS float64 `json:"at_s"`
	// Pid is the process killed; NewPid the one restarted (0 if the
	// restart failed).
	Pid    int `json:"pid"`
	NewPid int `json:"new_pid"`
	// InFlight is the number of messages sent and not yet acknowledged at
	// the moment of the kill, from the ledger: each must end acknowledged
	// once, through the clients' retries.
	InFlight int64 `json:"in_flight"`
	// Connections is the number of simulated connections open at the kill.
	Connections int64 `json:"connections"`
	// ServerRestartS is the server's recovery: from the kill to the
	// restarted server serving (listening, its state recovered), in
	// seconds.
	ServerRestartS float64 `json:"server_restart_s"`
	// ClientsResumedS is the clients' recovery: from the kill until every
	// connection that dropped had reconnected and resumed (ready received,
	// and every missed delivery received), in seconds; absent when that had
	// not happened by the next kill or the end of the run.
	ClientsResumedS float64 `json:"clients_resumed_s,omitempty"`
	// Resumed reports whether the clients all came back (ClientsResumedS
	// is then set).
	Resumed bool `json:"resumed"`
	// Error says why the restart failed, if it did.
	Error string `json:"error,omitempty"`
}

// Sim describes a bench sim run: the virtual time it covered and what
// simulating it cost. Latencies of a sim run are in simulated time, and
// network latencies are zero (messages take no time in transit).
type Sim struct {
	// SimulatedS is the virtual time covered, in seconds.
	SimulatedS float64 `json:"simulated_s"`
	// WallS is the wall time the simulation took, in seconds.
	WallS float64 `json:"wall_s"`
	// Events is the number of events simulated.
	Events uint64 `json:"events"`
	// EventsPerS is Events over WallS.
	EventsPerS float64 `json:"events_per_s"`
	// Sessions is the number of customer sessions started.
	Sessions int64 `json:"sessions"`
	// SessionsPerS is Sessions over WallS.
	SessionsPerS float64 `json:"sessions_per_s"`
	// PeakLinks is the most simulated connections open at once.
	PeakLinks int64 `json:"peak_links"`
	// PeakPending is the most events queued at once.
	PeakPending int `json:"peak_pending"`
}

// FindMax is a search for the highest load a server carries while meeting
// every objective: the load stepped up until an objective broke, then
// narrowed down between the last load that passed and the first that
// failed. Each step is judged on enough data (runs repeated and merged until
// every objective has the samples it needs), and a failure is confirmed by a
// second trial before the search turns on it.
type FindMax struct {
	// Parameter is the scenario field stepped: customers.rate (arrivals per
	// second, Poisson) or customers.population (connected customers).
	Parameter string `json:"parameter"`
	// Best is the highest load that met every objective in a valid run; 0
	// when none did.
	Best float64 `json:"best"`
	// Failed is the lowest load that failed, the upper bound of the knee;
	// 0 when every load tried passed.
	Failed float64 `json:"failed,omitempty"`
	// Precision is the relative gap between Best and Failed the search
	// stopped at.
	Precision float64 `json:"precision"`
	// Stopped says why the search ended: "settled" (Best and Failed within
	// Precision), "steps" (the step budget ran out), "limit" (the
	// open-file limit capped the load), "none passed" (even the lowest load
	// failed), "too few samples" (a load at or below a failure could not be
	// judged within MaxRuns runs) or "interrupted".
	Stopped string `json:"stopped"`
	// Steps are the loads tried, in the order they were played.
	Steps []FindMaxStep `json:"steps"`
	// MaxRuns is the most runs one trial may play and merge to give every
	// objective the samples it needs; 0 in results older than the field.
	// (Last, so that the test log tools/results parses keeps its order.)
	MaxRuns int `json:"max_runs,omitempty"`
	// KneeSaturated names the side whose CPUs were full (saturated, or
	// starved by other processes) at the knee, the step of the lowest
	// failing load (Failed), as that step's saturation.saturated: bench,
	// server, both, shared, neither or unknown. Absent when no load failed
	// or the step was not measured.
	KneeSaturated string `json:"knee_saturated,omitempty"`
}

// FindMaxStep is one load of a FindMax search: a trial, and when it failed,
// a second trial that confirms the failure or refutes it.
type FindMaxStep struct {
	// Load is the value of the stepped parameter.
	Load float64 `json:"load"`
	// Pass is whether the load met every objective in a valid run: its
	// first trial passed, or its confirmation did.
	Pass bool `json:"pass"`
	// Failed lists what broke in the step's last trial: each failed
	// objective's expression and value, and the reasons the run was
	// invalid.
	Failed []string `json:"failed,omitempty"`
	// Unjudged says why the step neither passed nor failed: an objective
	// had too few samples within MaxRuns runs. The search counts it as
	// neither.
	Unjudged string `json:"unjudged,omitempty"`
	// Dir is the directory holding the step's result.json (its last
	// trial's, merged over that trial's runs) and each run's own directory.
	Dir string `json:"dir"`
	// Trials are the step's trials in order: one, or two when the first
	// failed. Absent in results older than the field.
	Trials []FindMaxTrial `json:"trials,omitempty"`
	// Saturated names the side whose CPUs were full in the step's last
	// trial (its runs merged), as saturation.saturated says it; absent when
	// not measured.
	Saturated string `json:"saturated,omitempty"`
}

// FindMaxTrial is one verdict on a load: runs played one after another,
// each with a seed of its own, merged until every objective had the samples
// it needs or MaxRuns were played.
type FindMaxTrial struct {
	// Pass is whether the merged runs were valid and met every objective.
	Pass bool `json:"pass"`
	// Failed lists what broke, as FindMaxStep.Failed does.
	Failed []string `json:"failed,omitempty"`
	// Unjudged says which objective lacked samples, when nothing failed but
	// the trial could not be judged.
	Unjudged string `json:"unjudged,omitempty"`
	// Runs are the directories of the runs merged, in the order played.
	Runs []string `json:"runs"`
}

// Run describes the run a result came from. The bench fills it in; the
// recorder adds the times.
type Run struct {
	// Tool names the program that produced the result ("swarmdesk bench").
	Tool string `json:"tool"`
	// ToolVersion is its version (a module version or VCS revision).
	ToolVersion string `json:"tool_version"`
	// Scenario is the scenario's name (for example "smoke").
	Scenario string `json:"scenario"`
	// ScenarioFile is the scenario file's path, or "embedded:<name>" for a
	// scenario built into the binary.
	ScenarioFile string `json:"scenario_file,omitempty"`
	// Seed is the seed that made the run's random choices; a run is
	// reproducible from scenario and seed.
	Seed uint64 `json:"seed"`
	// Start is when recording began, in wall time.
	Start time.Time `json:"start"`
	// End is when recording stopped, in wall time.
	End time.Time `json:"end"`
	// DurationS is End-Start in seconds: the run's wall time.
	DurationS float64 `json:"duration_s"`
	// ScenarioS is the scenario time played, in seconds: the wall time
	// times the scenario's time scale on real connections, the virtual
	// time covered by a simulation. Rates (a count per second) are per
	// second of it. 0 in results older than the field, where DurationS
	// held it.
	ScenarioS float64 `json:"scenario_s,omitempty"`
	// Host is the machine the generator ran on; absent in results older
	// than the field. Comparisons across machines are warned of.
	Host *Host `json:"host,omitempty"`
	// Shard says which part of a split run this is; {0, 1} for a whole run.
	Shard ShardIndex `json:"shard"`
	// MergedShards is how many shard results Merge combined into this one;
	// 0 for a result that was not merged.
	MergedShards int `json:"merged_shards,omitempty"`
	// Target describes the server measured ("embedded refserver
	// 127.0.0.1:7400", or the --target address).
	Target string `json:"target"`
	// Transport says how the clients spoke to it: "tcp" (long
	// connections), or the HTTP binding's "http long polling" or "http
	// short polling every 1s". Empty in results older than the field.
	Transport string `json:"transport,omitempty"`
}

// Host describes a machine a result was measured on: enough to tell two
// machines apart and to say how they differ.
type Host struct {
	// Name is the host name.
	Name string `json:"name"`
	// OS and Arch are Go's GOOS and GOARCH.
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// CPUs is the number of logical CPUs the process could use.
	CPUs int `json:"cpus"`
	// CPUModel is the processor's model name, where the system says it.
	CPUModel string `json:"cpu_model,omitempty"`
	// GoVersion is the Go release the generator was built with.
	GoVersion string `json:"go_version"`
}

// ScenarioSeconds returns the scenario time r played, in seconds: ScenarioS,
// or DurationS for a document older than that field.
func (r *Run) ScenarioSeconds() float64 {
	if r.ScenarioS > 0 {
		return r.ScenarioS
	}
	return r.DurationS
}

// ShardIndex identifies one shard of a run split across Count bench
// processes, each running the scenario's shard Index.
type ShardIndex struct {
	// Index is this shard's number, from 0 to Count-1.
	Index int `json:"index"`
	// Count is how many shards the run has; 1 for a run that was not split.
	Count int `json:"count"`
}

// Latency is one metric's latencies. The embedded Summary is the corrected
// measure, from the intended time of the action (free of coordinated
// omission, as wrk2 measures); Raw is from the time the action actually
// started, as wrk2's --u_latency and scylla-bench's raw histogram report.
// The two differ exactly when the generator or the server made actions
// start late.
type Latency struct {
	Summary
	// Raw is the uncorrected measure of the same events.
	Raw Summary `json:"raw"`
	// OutOfRange counts values outside the histograms' range, recorded
	// clamped to it (a negative latency as 0, one past the highest
	// trackable value as that value). Non-zero means the range was too small
	// or a clock went backwards.
	OutOfRange int64 `json:"out_of_range,omitempty"`
}

// Summary describes one histogram. Times are milliseconds, as the _ms
// suffixes say; the histogram itself records nanoseconds. Every figure is
// derived from Histogram.
type Summary struct {
	// Count is the number of values recorded.
	Count int64 `json:"count"`
	// MinMs is the smallest value recorded (its bucket's lowest equivalent).
	MinMs float64 `json:"min_ms"`
	// MeanMs is the mean of the values.
	MeanMs float64 `json:"mean_ms"`
	// StddevMs is their standard deviation.
	StddevMs float64 `json:"stddev_ms"`
	// P50Ms is the median.
	P50Ms float64 `json:"p50_ms"`
	// P90Ms is the 90th percentile.
	P90Ms float64 `json:"p90_ms"`
	// P99Ms is the 99th percentile.
	P99Ms float64 `json:"p99_ms"`
	// P999Ms is the 99.9th percentile.
	P999Ms float64 `json:"p999_ms"`
	// P9999Ms is the 99.99th percentile.
	P9999Ms float64 `json:"p9999_ms"`
	// MaxMs is the largest value recorded (its bucket's highest equivalent).
	MaxMs float64 `json:"max_ms"`
	// Histogram is the full histogram of the values in nanoseconds, in
	// HdrHistogram's compressed V2 encoding, base64 ("HISTF..."), as
	// HdrHistogram libraries and .hlog files write it.
	Histogram string `json:"histogram"`
}

// Messages is the correctness accounting of chat messages: every message the
// generator sent is checked at every device that should receive it.
// Deliveries are counted per recipient device, messages per message.
type Messages struct {
	// Sent counts distinct messages sent (a retry is not a new message).
	Sent int64 `json:"sent"`
	// Delivered counts first receipts of a sent message by a device that
	// should receive it.
	Delivered int64 `json:"delivered"`
	// Lost counts deliveries owed and never made: a message the server
	// acknowledged that a device which should have received it had not
	// received by the end of the run, or was skipped in its stream.
	Lost int64 `json:"lost"`
	// Duplicated counts receipts of a sequence a device had already
	// received in that conversation.
	Duplicated int64 `json:"duplicated"`
	// Reordered counts receipts of a sequence lower than one the device had
	// already received in that conversation.
	Reordered int64 `json:"reordered"`
	// Unacked counts messages the server never acknowledged by the end of
	// the run (neither stored nor refused).
	Unacked int64 `json:"unacked"`
	// CutOff counts what was still in flight when the run ended, sent
	// too shortly before the end to tell late from lost: a delivery owed
	// (per device) of a message sent in the last window before the end
	// that the device was not skipped past, and a message sent then and
	// not yet acknowledged (once). They count neither in Lost nor in
	// Unacked.
	CutOff int64 `json:"cut_off"`
}

// Actions is how well the generator kept to its schedule, as k6 counts
// dropped iterations: an action that starts late inflates the corrected
// latencies with the generator's own delay, so too many make the run
// invalid.
type Actions struct {
	// Started counts actions started.
	Started int64 `json:"started"`
	// Late counts actions started more than LateBoundMs after their
	// intended time.
	Late int64 `json:"late"`
	// Dropped counts actions the generator gave up without starting.
	Dropped int64 `json:"dropped"`
	// LateBoundMs is the bound that makes an action late.
	LateBoundMs float64 `json:"late_bound_ms"`
	// MaxLateFraction is the share of late or dropped actions, out of
	// started plus dropped, beyond which the run is invalid.
	MaxLateFraction float64 `json:"max_late_fraction"`
	// Lag is the distribution of how late actions started (generator lag).
	Lag Summary `json:"lag"`
}

// Sessions counts customer sessions by outcome. A session is one
// conversation a simulated customer opens.
type Sessions struct {
	// Started counts sessions opened.
	Started int64 `json:"started"`
	// BotResolved counts sessions the bot ended without a person.
	BotResolved int64 `json:"bot_resolved"`
	// ToHuman counts sessions handed to a human agent (queued or assigned).
	ToHuman int64 `json:"to_human"`
	// Abandoned counts sessions the customer left while waiting.
	Abandoned int64 `json:"abandoned"`
	// Completed counts sessions closed after being served.
	Completed int64 `json:"completed"`
}

// Agents is the agent-concurrency data: the time-weighted distribution of
// how many chats agents carried at once, and the customer-perceived reply
// latency at each concurrency: the curve behind "how many chats can an
// agent carry".
type Agents struct {
	// Count is the number of agents that were online.
	Count int64 `json:"count"`
	// MaxConcurrent is the most chats any agent carried at once.
	MaxConcurrent int `json:"max_concurrent"`
	// MeanConcurrent is the time-weighted mean of chats per online agent.
	MeanConcurrent float64 `json:"mean_concurrent"`
	// Concurrency is the time-weighted distribution, one entry per number of
	// concurrent chats from 0 to MaxConcurrent.
	Concurrency []ConcurrencyLevel `json:"concurrency,omitempty"`
	// Reply is the agent reply latency bucketed by the agent's concurrency
	// when it replied, one entry per concurrency that saw a reply.
	Reply []ReplyLevel `json:"reply_by_concurrency,omitempty"`
}

// ConcurrencyLevel is the time agents spent carrying Chats chats at once.
type ConcurrencyLevel struct {
	// Chats is the number of concurrent chats.
	Chats int `json:"chats"`
	// AgentSeconds is the online time, summed over agents, spent at Chats.
	AgentSeconds float64 `json:"agent_seconds"`
	// Share is AgentSeconds over all agents' online time.
	Share float64 `json:"share"`
	// Peaked counts agents whose maximum concurrency was Chats.
	Peaked int64 `json:"peaked"`
}

// ReplyLevel is the reply latency of agents carrying Chats chats: from the
// customer's message to the agent's reply reaching the customer.
type ReplyLevel struct {
	// Chats is the agent's concurrency when it replied. The highest level
	// the recorder tracks also holds every higher concurrency.
	Chats int `json:"chats"`
	Summary
}

// Objective is one of the scenario's objectives evaluated against the
// result. An objective is judged only on enough data: one whose metric saw
// fewer than MinSamples values or events fails, with Insufficient saying
// so, whatever its Value.
type Objective struct {
	// Expression is the objective as the scenario states it, for example
	// "delivery.p99 < 50ms" or "lost == 0".
	Expression string `json:"expression"`
	// Value is the measured value the expression compares, in Unit (the
	// unit the expression's metric has in this document: milliseconds for
	// latencies, counts for counters); 0 when the result cannot give it
	// (Insufficient then says why).
	Value float64 `json:"value"`
	// Unit is Value's unit: "ms", "count", "per_s" (per second of scenario
	// time), "ratio" (0 to 1) or "chats". Empty in older results.
	Unit string `json:"unit,omitempty"`
	// Samples is how many values (a latency) or events (the base of a
	// counter: messages sent for lost, sessions for abandoned) the verdict
	// rests on.
	Samples int64 `json:"samples"`
	// MinSamples is how many it needs to mean anything: 100 for a p99, 1000
	// for a p99.9, one event for a counter.
	MinSamples int64 `json:"min_samples,omitempty"`
	// Insufficient says why the objective could not be judged (no samples,
	// or too few); such an objective fails. Empty when it was judged.
	Insufficient string `json:"insufficient,omitempty"`
	// Pass reports whether the objective was met on enough data.
	Pass bool `json:"pass"`
}

// PercentileSamples returns how many values a histogram needs before its
// percentile p (in (0, 100)) rests on at least above values beyond it: a
// p99 with above 1 needs 100 values, with above 5 needs 500. With fewer, the
// percentile is the maximum or close to it, one stall away from any value.
func PercentileSamples(p float64, above int) int64 {
	if p <= 0 || p >= 100 || above <= 0 {
		return int64(max(above, 1))
	}
	return int64(math.Ceil(float64(above)*100/(100-p) - 1e-9))
}

// Resources is one process's (or a set of processes') resource use over the
// run.
type Resources struct {
	// Source says what was sampled: "self" for the generator, "pid 1234"
	// for a child process read from /proc, or a /metrics URL. Merge adds up
	// server resources of different sources and keeps the largest of
	// samples from the same source, so a server that several shards
	// measured is counted once.
	Source string `json:"source,omitempty"`
	// CPUSeconds is user plus system CPU time used during the run.
	CPUSeconds float64 `json:"cpu_seconds"`
	// PeakRSSBytes is the largest resident set size seen.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Connections is the largest number of connections held at once
	// (simulated ones for the generator).
	Connections int64 `json:"connections"`
	// BytesPerConnection is the memory growth per connection: resident
	// memory at the peak minus before the connections opened, over
	// Connections.
	BytesPerConnection float64 `json:"bytes_per_connection"`
}

// Point is one recording interval of the run.
type Point struct {
	// StartS is the interval's start, in seconds since the run's start.
	StartS float64 `json:"start_s"`
	// EndS is its end.
	EndS float64 `json:"end_s"`
	// Messages counts messages the server acknowledged in the interval.
	Messages int64 `json:"messages"`
	// MessagesPerS is Messages over the interval's length.
	MessagesPerS float64 `json:"messages_per_s"`
	// Deliveries counts message receipts recorded in the interval.
	Deliveries int64 `json:"deliveries"`
	// DeliveriesPerS is Deliveries over the interval's length.
	DeliveriesPerS float64 `json:"deliveries_per_s"`
	// Errors counts errors in the interval.
	Errors int64 `json:"errors"`
	// Connections is the number of simulated connections open at its end.
	Connections int64 `json:"connections"`
	// QueueLength is the number of customers waiting for an agent at its end.
	QueueLength int64 `json:"queue_length"`
	// Latency is the interval's corrected latencies, keyed by metric name,
	// for the metrics that recorded a value in it: what charts of latency
	// over time and per-interval comparisons read.
	Latency map[string]IntervalLatency `json:"latency,omitempty"`
}

// IntervalLatency is one metric's corrected latencies in one recording
// interval. It carries its histogram so that the intervals of shards merge
// exactly, as the whole-run figures do.
type IntervalLatency struct {
	// Count is the number of values recorded in the interval.
	Count int64 `json:"count"`
	// P50Ms is the interval's median.
	P50Ms float64 `json:"p50_ms"`
	// P90Ms is its 90th percentile.
	P90Ms float64 `json:"p90_ms"`
	// P99Ms is its 99th percentile.
	P99Ms float64 `json:"p99_ms"`
	// MaxMs is its largest value.
	MaxMs float64 `json:"max_ms"`
	// Histogram is the interval's histogram of nanoseconds, encoded as a
	// Summary's is.
	Histogram string `json:"histogram"`
}

// Invalidate marks the result invalid for the given reason, keeping any
// earlier reasons.
func (r *Result) Invalidate(reason string) {
	r.Valid = false
	r.InvalidReasons = append(r.InvalidReasons, reason)
}
