package designs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// IdlePoint is the server's resident memory holding Conns idle customers.
type IdlePoint struct {
	Conns    int   `json:"conns"`
	RSSBytes int64 `json:"rss_bytes"`
	// BytesPerConn is RSS over the server's RSS before any connection,
	// divided by Conns.
	BytesPerConn float64 `json:"bytes_per_conn"`
}

// Idle are the idle phase's figures.
type Idle struct {
	// BaseRSSBytes is the server's RSS before any client connected.
	BaseRSSBytes int64       `json:"base_rss_bytes"`
	Points       []IdlePoint `json:"points"`
	// SlopeBytesPerConn is the least-squares slope of RSS over
	// connections across the points: the marginal cost of one more.
	SlopeBytesPerConn float64 `json:"slope_bytes_per_conn"`
	// WindowS is how long the idle clients were counted, in seconds, and
	// Requests how many frames (long connections) or HTTP requests
	// (polling) the server received from them in it.
	WindowS  float64 `json:"window_s"`
	Requests int64   `json:"requests"`
	// RequestsPerClientHour is Requests per client per hour.
	RequestsPerClientHour float64 `json:"requests_per_client_hour"`
	// Broadcast is the time from posting one broadcast until every idle
	// customer had it, and until half had it.
	BroadcastRecipients int     `json:"broadcast_recipients"`
	BroadcastAllMs      float64 `json:"broadcast_all_ms"`
	BroadcastHalfMs     float64 `json:"broadcast_half_ms"`
	// Dropped counts idle links the server ended during the phase.
	Dropped int64 `json:"dropped"`
}

// idler is an idle customer: it says hello and then only keeps its link
// alive (the swarm's pings, or its polls), noting when a broadcast comes.
type idler struct {
	c    *idleCrowd
	link behavior.Link
}

// idleCrowd is what the idlers share.
type idleCrowd struct {
	ready, dropped atomic.Int64
	mu             sync.Mutex
	got            []time.Time // wall time each broadcast arrived
}

func (a *idler) Receive(_ int, m wire.Msg) {
	switch m.(type) {
	case *wire.Ready:
		a.c.ready.Add(1)
	case *wire.Broadcast:
		now := time.Now()
		a.c.mu.Lock()
		a.c.got = append(a.c.got, now)
		a.c.mu.Unlock()
	}
}

func (a *idler) Timer(uint64) {}

func (a *idler) Dropped(int, error) { a.c.dropped.Add(1) }

// idlePhase holds idle customers against a fresh server of design d at
// each size in turn, measuring memory at each, then at the largest counts
// the keep-alive requests over window and times one broadcast.
func idlePhase(ctx context.Context, d Design, server string, sizes []int, window time.Duration, log io.Writer) (*Idle, error) {
	p, err := child.Start(server, "--transport", d.Transport)
	if err != nil {
		return nil, fmt.Errorf("idle %s: %w", d.Name, err)
	}
	defer func() { _ = p.Stop() }()
	opts := swarm.Options{Addr: p.Addr, SourceAddrs: 8}
	if d.http() {
		opts.Poll = &swarm.PollOptions{Interval: d.PollInterval}
	}
	rt, err := swarm.New(opts)
	if err != nil {
		return nil, fmt.Errorf("idle %s: %w", d.Name, err)
	}
	defer rt.Close()

	if err := sleep(ctx, time.Second); err != nil {
		return nil, err
	}
	_, base, err := p.Usage()
	if err != nil {
		return nil, fmt.Errorf("idle %s: %w", d.Name, err)
	}
	out := &Idle{BaseRSSBytes: base}
	crowd := &idleCrowd{}
	open := 0
	for _, n := range sizes {
		for ; open < n; open++ {
			a := &idler{c: crowd}
			lp := rt.Loop(open)
			user := "idle-" + strconv.Itoa(open)
			var derr error
			lp.Do(func() {
				a.link, derr = lp.Dial(a, 0)
				if derr == nil {
					derr = a.link.Send(&wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: user, Device: "d0"})
				}
			})
			if derr != nil {
				return nil, fmt.Errorf("idle %s: customer %d: %w", d.Name, open, derr)
			}
		}
		if err := waitFor(ctx, 2*time.Minute, func() bool { return crowd.ready.Load()+crowd.dropped.Load() >= int64(n) }); err != nil {
			return nil, fmt.Errorf("idle %s: %d of %d customers ready: %w", d.Name, crowd.ready.Load(), n, err)
		}
		if dr := crowd.dropped.Load(); dr > 0 {
			return nil, fmt.Errorf("idle %s: %d of %d customers dropped while connecting", d.Name, dr, n)
		}
		// Let the connect burst's garbage go and the polls settle.
		if err := sleep(ctx, 3*time.Second); err != nil {
			return nil, err
		}
		_, rss, err := p.Usage()
		if err != nil {
			return nil, fmt.Errorf("idle %s: %w", d.Name, err)
		}
		pt := IdlePoint{Conns: n, RSSBytes: rss, BytesPerConn: float64(rss-base) / float64(n)}
		out.Points = append(out.Points, pt)
		fmt.Fprintf(log, "  %s: %d idle customers, server RSS %.1f MiB, %.0f B per connection\n", d.Name, n, float64(rss)/(1<<20), pt.BytesPerConn)
	}
	out.SlopeBytesPerConn = slope(out.Points)

	n := sizes[len(sizes)-1]
	series := "swarmdesk_frames_in_total"
	if d.http() {
		series = "swarmdesk_http_requests_total"
	}
	r0, err := metric(ctx, p.AdminURL, series)
	if err != nil {
		return nil, fmt.Errorf("idle %s: %w", d.Name, err)
	}
	t0 := time.Now()
	if err := sleep(ctx, window); err != nil {
		return nil, err
	}
	r1, err := metric(ctx, p.AdminURL, series)
	if err != nil {
		return nil, fmt.Errorf("idle %s: %w", d.Name, err)
	}
	took := time.Since(t0)
	out.WindowS = took.Seconds()
	out.Requests = int64(r1 - r0)
	out.RequestsPerClientHour = (r1 - r0) / float64(n) / took.Hours()
	fmt.Fprintf(log, "  %s: %d requests from %d idle clients in %s: %.0f per client per hour\n", d.Name, out.Requests, n, took.Round(time.Second), out.RequestsPerClientHour)

	posted := time.Now()
	recipients, err := broadcast(ctx, p.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("idle %s: %w", d.Name, err)
	}
	out.BroadcastRecipients = recipients
	if err := waitFor(ctx, time.Minute, func() bool {
		crowd.mu.Lock()
		defer crowd.mu.Unlock()
		return len(crowd.got) >= n
	}); err != nil {
		crowd.mu.Lock()
		got := len(crowd.got)
		crowd.mu.Unlock()
		return nil, fmt.Errorf("idle %s: broadcast reached %d of %d customers: %w", d.Name, got, n, err)
	}
	crowd.mu.Lock()
	got := slices.Clone(crowd.got)
	crowd.mu.Unlock()
	slices.SortFunc(got, func(a, b time.Time) int { return a.Compare(b) })
	out.BroadcastAllMs = ms(got[n-1].Sub(posted))
	out.BroadcastHalfMs = ms(got[(n-1)/2].Sub(posted))
	out.Dropped = crowd.dropped.Load()
	fmt.Fprintf(log, "  %s: broadcast to %d customers: half in %.1f ms, all in %.1f ms\n", d.Name, n, out.BroadcastHalfMs, out.BroadcastAllMs)
	return out, nil
}

// slope is the least-squares slope of RSS over connections.
func slope(pts []IdlePoint) float64 {
	if len(pts) < 2 {
		if len(pts) == 1 {
			return pts[0].BytesPerConn
		}
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		x, y := float64(p.Conns), float64(p.RSSBytes)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	k := float64(len(pts))
	den := k*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (k*sxy - sx*sy) / den
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sleep waits for d or ctx.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
}

// waitFor polls cond every 50ms until it holds, within limit.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// metric reads one series of the server's admin /metrics page.
func metric(ctx context.Context, admin, series string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("metrics: %s: %w", series, err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("metrics: no series %s on %s/metrics", series, admin)
}

// broadcast posts one announcement to the demo tenant's customers and
// returns how many devices the server queued it to.
func broadcast(ctx context.Context, admin string) (int, error) {
	payload, err := json.Marshal(map[string]string{"tenant": "demo", "kind": "text", "body": "swarmdesk designs: a broadcast"})
	if err != nil {
		return 0, fmt.Errorf("broadcast: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, admin+"/admin/broadcast", bytes.NewReader(payload))
	if err != nil {
		return 0, fmt.Errorf("broadcast: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("broadcast: %w", err)
	}
	defer resp.Body.Close()
	var answer struct {
		Recipients int    `json:"recipients"`
		Error      string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return 0, fmt.Errorf("broadcast: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("broadcast: %s: %s", resp.Status, answer.Error)
	}
	return answer.Recipients, nil
}
