package record

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/swarmdesk/swarmdesk/reports"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrClosed marks a call on a Recorder that was closed.
	ErrClosed = errors.New("record: recorder closed")
	// ErrNotClosed marks a Result asked of a Recorder still recording.
	ErrNotClosed = errors.New("record: recorder not closed")
)

// Recorder gathers a run's measurements from its shards, writes the interval
// logs and fills the result document. Its methods are safe for concurrent
// use; the recording itself happens in Shards.
//
// A run creates one Recorder, one Shard per event loop, calls Tick every
// Config.Interval (more often is harmless), stops its loops, then calls
// Close and Result.
type Recorder struct {
	cfg    Config
	start  time.Time
	ledger *Ledger

	mu     sync.Mutex
	shards []*Shard
	last   time.Time // start of the current interval
	next   time.Time // the boundary that ends it: start + k·Interval
	end    time.Time
	closed bool
	cur    interval // the current interval, as far as collected
	total  interval // every interval written
	series []reports.Point
	logs   *logs // nil without Config.Dir
	enc    reports.Encoder

	// Agent concurrency, gathered from the shards at Close.
	agents     int64
	levels     []time.Duration
	peaked     []int64
	replies    []*hdrhistogram.PackedHistogram
	maxChatsOn int
}

// interval is what the shards recorded over some time, in sparse
// histograms: the current interval, or the run so far.
type interval struct {
	hist [NumMetrics][2]*hdrhistogram.PackedHistogram // [metric][corrected, raw]
	lag  *hdrhistogram.PackedHistogram
	counts
}

func newInterval(cfg Config) interval {
	iv := interval{counts: counts{errors: map[string]int64{}}}
	newH := func() *hdrhistogram.PackedHistogram {
		return hdrhistogram.NewPacked(int64(cfg.Lowest), int64(cfg.Highest), cfg.Digits)
	}
	for m := range iv.hist {
		iv.hist[m] = [2]*hdrhistogram.PackedHistogram{newH(), newH()}
	}
	iv.lag = newH()
	return iv
}

// addTo adds iv to t and empties iv.
func (iv *interval) addTo(t *interval) {
	for m := range iv.hist {
		for k, h := range iv.hist[m] {
			t.hist[m][k].Merge(h)
			h.Reset()
		}
	}
	t.lag.Merge(iv.lag)
	iv.lag.Reset()
	t.take(&iv.counts)
}

// New returns a Recorder for a run starting at start. With cfg.Dir set, it
// creates the directory and the interval logs in it.
func New(cfg Config, start time.Time) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new recorder: %w", err)
	}
	r := &Recorder{
		cfg:    cfg,
		start:  start,
		last:   start,
		next:   start.Add(cfg.Interval),
		ledger: NewLedger(),
		cur:    newInterval(cfg),
		total:  newInterval(cfg),
	}
	if cfg.Dir != "" {
		l, err := openLogs(cfg.Dir, start)
		if err != nil {
			return nil, fmt.Errorf("new recorder: %w", err)
		}
		r.logs = l
	}
	return r, nil
}

// Config returns the configuration the Recorder was made with.
func (r *Recorder) Config() Config { return r.cfg }

// Ledger returns the run's message ledger, whose counts go into the
// result's messages.
func (r *Recorder) Ledger() *Ledger { return r.ledger }

// NewShard returns a new shard for one event loop or worker to record in.
func (r *Recorder) NewShard() *Shard {
	s := newShard(r.cfg)
	r.mu.Lock()
	r.shards = append(r.shards, s)
	r.mu.Unlock()
	return s
}

// Tick ends the current interval at now if now has reached the interval's
// boundary (the run's start plus a multiple of Config.Interval, less a
// tenth of an interval for a ticker's jitter): it takes what every shard
// recorded, writes each metric's interval histograms to the logs and adds
// a point to the time series. It reports whether it ended an interval.
// Calling it from a time.Ticker of Config.Interval ends an interval at every
// tick; calling it more often ends them on the same boundaries.
func (r *Recorder) Tick(now time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false, fmt.Errorf("tick: %w", ErrClosed)
	}
	slack := r.cfg.Interval / 10
	if now.Before(r.next.Add(-slack)) {
		return false, nil
	}
	// The next boundary is the first that now has not reached.
	passed := now.Sub(r.next.Add(-slack))/r.cfg.Interval + 1
	r.next = r.next.Add(passed * r.cfg.Interval)
	if err := r.cut(now, true); err != nil {
		return true, fmt.Errorf("tick: %w", err)
	}
	return true, nil
}

// cut collects the shards and ends the current interval at now. With
// always false, an empty interval of no length is not written.
func (r *Recorder) cut(now time.Time, always bool) error {
	for _, s := range r.shards {
		s.collect(&r.cur)
	}
	iv := &r.cur
	empty := iv.lag.TotalCount() == 0 && iv.errorCount == 0
	for m := range iv.hist {
		empty = empty && iv.hist[m][0].TotalCount() == 0 && iv.hist[m][1].TotalCount() == 0
	}
	var err error
	if always || now.After(r.last) || !empty {
		var conns, queued int64
		for _, s := range r.shards {
			conns += s.conns.Load()
			queued += s.queued.Load()
		}
		p := reports.Point{
			StartS:      r.last.Sub(r.start).Seconds(),
			EndS:        now.Sub(r.start).Seconds(),
			Messages:    iv.hist[Ack][0].TotalCount(),
			Deliveries:  iv.hist[Delivery][0].TotalCount(),
			Errors:      iv.errorCount,
			Connections: conns,
			QueueLength: queued,
		}
		reports.PointRates(&p)
		// Each histogram is encoded once, for its log line and its point.
		for m := range iv.hist {
			for k, h := range iv.hist[m] {
				if r.logs == nil && (k == 1 || h.TotalCount() == 0) {
					continue
				}
				enc := r.enc.Encode(h)
				if r.logs != nil {
					err = errors.Join(err, r.logs.put(m, Tag(Metric(m), k == 1), r.last, now, h.Max(), enc))
				}
				if k == 0 && h.TotalCount() > 0 {
					if p.Latency == nil {
						p.Latency = map[string]reports.IntervalLatency{}
					}
					p.Latency[Metric(m).String()] = reports.NewIntervalLatencyEncoded(h, enc)
				}
			}
		}
		if r.logs != nil {
			err = errors.Join(err, r.logs.put(NumMetrics, LagName, r.last, now, iv.lag.Max(), r.enc.Encode(iv.lag)), r.logs.flush())
		}
		r.series = append(r.series, p)
		r.last = now
	}
	iv.addTo(&r.total)
	return err
}

// Close ends the run at now: it takes the shards' last records, writes the
// last interval, closes the ledger (counting what was never delivered as
// lost, or cut off if sent within Config.CutOff of now) and the logs. Every shard's writer must have stopped first: Close
// reads the shards' agent data, which only their writers guard.
func (r *Recorder) Close(now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.end = now
	err := r.cut(now, false)
	r.closeAgents(now)
	r.ledger.Finish(now, r.cfg.cutOff())
	if r.logs != nil {
		err = errors.Join(err, r.logs.close())
	}
	if err != nil {
		return fmt.Errorf("close recorder: %w", err)
	}
	return nil
}

// closeAgents gathers the shards' agent concurrency, counting open
// periods up to now.
func (r *Recorder) closeAgents(now time.Time) {
	for _, s := range r.shards {
		for _, st := range s.agents {
			s.account(st, now)
			r.agents++
			for len(r.peaked) <= st.max {
				r.peaked = append(r.peaked, 0)
			}
			r.peaked[st.max]++
			r.maxChatsOn = max(r.maxChatsOn, st.max)
		}
		for chats, d := range s.levels {
			for len(r.levels) <= chats {
				r.levels = append(r.levels, 0)
			}
			r.levels[chats] += d
		}
		for chats, h := range s.replies {
			if h == nil {
				continue
			}
			for len(r.replies) <= chats {
				r.replies = append(r.replies, nil)
			}
			if r.replies[chats] == nil {
				r.replies[chats] = h.Clone()
			} else {
				r.replies[chats].Merge(h)
			}
		}
	}
}

// Links returns, live, how many links of the run are down (dropped and
// not back yet) and how many have dropped so far, summed over the shards.
func (r *Recorder) Links() (down, dropped int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.shards {
		down += s.down.Load()
		dropped += s.drops.Load()
	}
	return down, dropped
}

// Live returns, for a progress line, the last interval ended (zero before
// the first) and the errors counted in the intervals ended so far.
func (r *Recorder) Live() (last reports.Point, errors int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.series); n > 0 {
		last = r.series[n-1]
	}
	for _, c := range r.total.errors {
		errors += c
	}
	return last, errors
}

// Summary returns metric m's corrected (or, with raw, uncorrected) summary
// over the intervals ended so far: the live "p99 so far".
func (r *Recorder) Summary(m Metric, raw bool) (reports.Summary, error) {
	k := 0
	if raw {
		k = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := reports.NewSummary(r.total.hist[m][k])
	if err != nil {
		return reports.Summary{}, fmt.Errorf("summary %s: %w", m, err)
	}
	return s, nil
}

// Result fills a result document from the closed recorder: run is the
// run's description, to which it adds the start and end times; the
// latencies of every metric, the message accounting, the generator's
// schedule keeping (invalidating the run if it fell behind), errors,
// sessions, agent concurrency and the time series. The caller adds
// resources and evaluated objectives.
func (r *Recorder) Result(run reports.Run) (*reports.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		return nil, fmt.Errorf("result: %w", ErrNotClosed)
	}
	// The recorder's clock is scenario time: the caller, which knows the
	// wall clock, sets End and DurationS again when the two differ.
	run.Start, run.End = r.start, r.end
	run.DurationS = r.end.Sub(r.start).Seconds()
	run.ScenarioS = run.DurationS
	if run.Host == nil {
		run.Host = reports.ThisHost()
	}
	if run.Shard.Count == 0 {
		run.Shard = reports.ShardIndex{Index: 0, Count: 1}
	}
	res := &reports.Result{
		Schema:   reports.Schema,
		Run:      run,
		Valid:    true,
		Latency:  map[string]reports.Latency{},
		Messages: r.ledger.Counts(),
		Errors:   maps.Clone(r.total.errors),
		Series:   append([]reports.Point(nil), r.series...),
	}
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	t := &r.total
	if l := t.links; l != [numLinkEvents]int64{} {
		res.Reconnects = &reports.Reconnects{
			Dropped: l[LinkDropped], Attempts: l[LinkRedial], Failed: l[LinkFailed], Resumed: l[LinkResumed],
		}
	}
	for _, m := range Metrics() {
		var l reports.Latency
		var err error
		if l.Summary, err = r.summarize(t.hist[m][0]); err != nil {
			return nil, fmt.Errorf("result: %s: %w", m, err)
		}
		if l.Raw, err = r.summarize(t.hist[m][1]); err != nil {
			return nil, fmt.Errorf("result: %s raw: %w", m, err)
		}
		l.OutOfRange = t.outOfRange[m]
		res.Latency[m.String()] = l
	}

	a := &res.Actions
	a.Started, a.Late, a.Dropped = t.started, t.late, t.dropped
	a.LateBoundMs = float64(r.cfg.LateBound) / float64(time.Millisecond)
	a.MaxLateFraction = r.cfg.MaxLateFraction
	var err error
	if a.Lag, err = r.summarize(t.lag); err != nil {
		return nil, fmt.Errorf("result: lag: %w", err)
	}
	if scheduled := a.Started + a.Dropped; scheduled > 0 {
		// A share allowed is never less than one action: in a run of
		// fewer than 100 actions, 1% is not a whole one, and a single
		// late action says nothing of a generator that fell behind. A
		// fraction of 0 allows none.
		behind := a.Late + a.Dropped
		allowed := r.cfg.MaxLateFraction * float64(scheduled)
		if r.cfg.MaxLateFraction > 0 {
			allowed = max(1, allowed)
		}
		if frac := float64(behind) / float64(scheduled); float64(behind) > allowed {
			res.Invalidate(fmt.Sprintf(
				"generator fell behind: %d of %d actions (%.2f%%) started more than %v late or were dropped (limit %g%%)",
				behind, scheduled, 100*frac, r.cfg.LateBound, 100*r.cfg.MaxLateFraction))
		}
	}

	res.Sessions = reports.Sessions{
		Started:     t.sessions[SessionStarted],
		BotResolved: t.sessions[SessionBotResolved],
		ToHuman:     t.sessions[SessionToHuman],
		Abandoned:   t.sessions[SessionAbandoned],
		Completed:   t.sessions[SessionCompleted],
	}

	if err := r.fillAgents(&res.Agents); err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	return res, nil
}

func (r *Recorder) fillAgents(ag *reports.Agents) error {
	ag.Count = r.agents
	ag.MaxConcurrent = r.maxChatsOn
	var total, weighted float64
	for chats, d := range r.levels {
		total += d.Seconds()
		weighted += float64(chats) * d.Seconds()
	}
	n := max(len(r.levels), len(r.peaked))
	for chats := range n {
		lv := reports.ConcurrencyLevel{Chats: chats}
		if chats < len(r.levels) {
			lv.AgentSeconds = r.levels[chats].Seconds()
		}
		if chats < len(r.peaked) {
			lv.Peaked = r.peaked[chats]
		}
		if total > 0 {
			lv.Share = lv.AgentSeconds / total
		}
		ag.Concurrency = append(ag.Concurrency, lv)
	}
	if total > 0 {
		ag.MeanConcurrent = weighted / total
	}
	for chats, h := range r.replies {
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		s, err := r.summarize(h)
		if err != nil {
			return fmt.Errorf("agent reply at %d chats: %w", chats, err)
		}
		ag.Reply = append(ag.Reply, reports.ReplyLevel{Chats: chats, Summary: s})
	}
	return nil
}

// summarize summarises a sparse histogram the way reports summarises the
// histograms it reads: from the dense histogram its encoding decodes to, so
// a result's figures are exactly those any reader recomputes. It encodes
// with the Recorder's Encoder; the caller holds r.mu.
func (r *Recorder) summarize(p *hdrhistogram.PackedHistogram) (reports.Summary, error) {
	enc := r.enc.Encode(p)
	h, err := hdrhistogram.Decode(enc)
	if err != nil {
		return reports.Summary{}, fmt.Errorf("decode histogram: %w", err)
	}
	return reports.NewSummaryEncoded(h, enc), nil // copies enc
}
