package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/behavior"
	"github.com/swarmdesk/swarmdesk/bench/record"
	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/bench/swarm"
)

// broadcastTimes are the offsets, in scenario time, of the scenario's
// admin broadcasts within its duration: the fixed ones and the periodic
// series, drawn with r.
func broadcastTimes(sc *scenario.Scenario, r *rand.Rand) []time.Duration {
	b := sc.Broadcast
	end := time.Duration(sc.Duration)
	var ts []time.Duration
	for _, at := range b.At {
		if d := time.Duration(at); d < end {
			ts = append(ts, d)
		}
	}
	if b.Every.IsSet() {
		for t := time.Duration(b.Start); t < end; {
			ts = append(ts, t)
			step := b.Every.Sample(r)
			if step <= 0 {
				break
			}
			t += step
		}
	}
	slices.Sort(ts)
	return ts
}

// broadcaster plays the scenario's admin broadcasts: at each planned time
// it posts one to the server's admin endpoint, with a body that carries
// the intended and actual send times (behavior.BroadcastBody), from which
// every customer receiving it records the broadcast latency.
type broadcaster struct {
	url    string // admin base URL
	tenant string
	kind   string
	sc     *scenario.Scenario
	rt     *swarm.Runtime
	rec    *record.Shard // this goroutine's own
	start  time.Time     // scenario time of offset 0
	out    io.Writer
	client *http.Client
	wg     sync.WaitGroup
	sent   int
}

// run posts the broadcasts at their times until they are done or ctx ends.
func (b *broadcaster) run(ctx context.Context, times []time.Duration) {
	defer b.wg.Done()
	r := rand.New(rand.NewPCG(b.sc.Seed, 3))
	for _, off := range times {
		intended := b.start.Add(off)
		if wait := intended.Sub(b.rt.Now()); wait > 0 {
			t := time.NewTimer(time.Duration(float64(wait) / b.sc.Timescale))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		now := b.rt.Now()
		b.rec.ActionStarted(intended, intended.Add(time.Duration(float64(now.Sub(intended))/b.sc.Timescale)))
		body := behavior.BroadcastBody(intended, now, b.sc.Broadcast.Size.Sample(r))
		n, err := b.post(ctx, body)
		if err != nil {
			b.rec.Error("broadcast")
			fmt.Fprintf(b.out, "broadcast at %v failed: %v\n", off, err)
			continue
		}
		b.sent++
		fmt.Fprintf(b.out, "broadcast at %v of scenario time sent to %d connections\n", off, n)
	}
}

// post sends one broadcast and returns how many connections it reached.
func (b *broadcaster) post(ctx context.Context, body []byte) (int, error) {
	req := struct {
		Tenant string `json:"tenant"`
		Kind   string `json:"kind"`
		Body   string `json:"body"`
	}{b.tenant, b.kind, string(body)}
	payload, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("broadcast request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/admin/broadcast", bytes.NewReader(payload))
	if err != nil {
		return 0, fmt.Errorf("broadcast request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(hreq)
	if err != nil {
		return 0, fmt.Errorf("post broadcast: %w", err)
	}
	defer resp.Body.Close()
	var answer struct {
		Recipients int    `json:"recipients"`
		Error      string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return 0, fmt.Errorf("post broadcast: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("post broadcast: %s: %s", resp.Status, answer.Error)
	}
	return answer.Recipients, nil
}
