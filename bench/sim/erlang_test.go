package sim

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/bench/scenario"
	"github.com/swarmdesk/swarmdesk/internal/longtest"
	"github.com/swarmdesk/swarmdesk/reports"
)

// queueModel is the M/M/c+M queue (Erlang A; Erlang C when theta is 0),
// solved exactly as a birth-death chain: arrivals at lambda, c servers at
// mu each, and each waiting customer leaving at theta.
type queueModel struct {
	lambda, mu, theta float64
	c                 int
}

// solve returns the probability that an arrival waits, the probability
// that it abandons, and the mean wait of those served.
func (q queueModel) solve() (pWait, pAbandon, meanWaitServed float64) {
	// Unnormalised stationary probabilities, truncated where they vanish.
	const maxN = 20000
	p := []float64{1}
	for n := 1; n < maxN; n++ {
		death := q.mu*float64(min(n, q.c)) + q.theta*float64(max(n-q.c, 0))
		p = append(p, p[n-1]*q.lambda/death)
		if n > q.c && p[n] < 1e-16*p[q.c] {
			break
		}
	}
	total := 0.0
	for _, x := range p {
		total += x
	}
	var queued float64 // mean number waiting
	for n, x := range p {
		x /= total
		if n >= q.c {
			pWait += x // PASTA: an arrival sees the time-average state
			queued += float64(n-q.c) * x
		}
	}
	pAbandon = q.theta * queued / q.lambda
	// Little's law over waiting customers: mean wait of all arrivals is
	// queued/lambda. Abandoners' waits are censored by their patience;
	// with theta = 0 every arrival is served.
	if q.theta == 0 {
		meanWaitServed = queued / q.lambda
	}
	return pWait, pAbandon, meanWaitServed
}

// erlangC is the Erlang C formula, to check the chain against the closed
// form: the probability that an arrival waits in M/M/c.
func erlangC(c int, a float64) float64 {
	sum, term := 0.0, 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	top := term * a / float64(c) * float64(c) / (float64(c) - a) // a^c/c! · c/(c−a)
	return top / (sum + top)
}

// TestErlang plays the M/M/c queue (Erlang C) and the M/M/c+M queue
// (Erlang A) in the simulator, over a grid of 5 loads × 3 agent counts
// each, and compares the probability of waiting, the mean wait and the
// probability of abandoning with queueing theory.
func TestErlang(t *testing.T) {
	longtest.Require(t, "simulates about 600,000 sessions, ten minutes under -race")
	const handle = 1.0 // seconds: mu = 1
	loads := []float64{0.3, 0.45, 0.6, 0.7, 0.8}
	agents := []int{2, 5, 20}
	for _, patience := range []float64{0, 4} { // 0: Erlang C; else Erlang A with mean patience 4 handle times
		for _, c := range agents {
			for _, rho := range loads {
				name := fmt.Sprintf("C/c=%d/rho=%.2f", c, rho)
				if patience > 0 {
					name = fmt.Sprintf("A/c=%d/rho=%.2f", c, rho)
				}
				t.Run(name, func(t *testing.T) {
					lambda := rho * float64(c) / handle
					sessions := 20000
					if n := os.Getenv("ERLANG_SESSIONS"); n != "" {
						sessions, _ = strconv.Atoi(n)
					}
					dur := time.Duration(float64(sessions) / lambda * float64(time.Second))
					abandon := ""
					if patience > 0 {
						abandon = fmt.Sprintf("    - abandon_after: exp(%gs)\n", patience)
					}
					doc := fmt.Sprintf(`
name: erlang
seed: %d
duration: %v
tenants: [{id: demo}]
agents:
  greet: const(0s)
  typing: const(0s)
  idle_close: 0s
  wrap_up: const(0s)
  groups: [{group: general, count: %d, max_chats: 1}]
customers:
  arrival: poisson
  rate: %g
  script:
    - connect
    - open
%s    - ask_person: {group: general}
    - chat: {messages: 1, think: exp(%gs)}
    - close
`, 1000+c*100+int(rho*100), dur, c, lambda, abandon, handle)
					sc, err := scenario.Parse([]byte(doc), "erlang.yaml")
					if err != nil {
						t.Fatal(err)
					}
					res, err := Simulate(context.Background(), sc, Options{Grace: 100 * time.Hour})
					if err != nil {
						t.Fatal(err)
					}
					if !res.Valid {
						t.Fatalf("invalid: %v", res.InvalidReasons)
					}
					gotWait, gotAbandon, gotMean := measured(t, res)
					q := queueModel{lambda: lambda, mu: 1 / handle, c: c}
					if patience > 0 {
						q.theta = 1 / patience
					}
					wantWait, wantAbandon, wantMean := q.solve()
					if patience == 0 {
						if ec := erlangC(c, rho*float64(c)); math.Abs(ec-wantWait) > 1e-9 {
							t.Fatalf("chain %g vs Erlang C %g", wantWait, ec)
						}
					}
					t.Logf("P(wait) %.4f (theory %.4f)  P(abandon) %.4f (%.4f)  mean wait %.3fs (%.3fs)  sessions %d  agent utilisation %.3f (offered %.3f)",
						gotWait, wantWait, gotAbandon, wantAbandon, gotMean, wantMean, res.Sessions.Started, res.Agents.MeanConcurrent, rho)
					// Tolerances, for runs of about 20,000 sessions: ±(0.03 +
					// 5%) on the probability of waiting, ±(0.01 + 15%) on
					// abandoning, ±(20 ms + 20%) on the mean wait. Waits are
					// correlated from one customer to the next, more so at
					// high load, so the mean wait converges slowest: at 85%
					// load, 100,000 sessions still land 10% off.
					if math.Abs(gotWait-wantWait) > 0.03+0.05*wantWait {
						t.Errorf("P(wait) %.4f, Erlang %.4f", gotWait, wantWait)
					}
					if patience > 0 {
						if math.Abs(gotAbandon-wantAbandon) > 0.015+0.15*wantAbandon {
							t.Errorf("P(abandon) %.4f, Erlang A %.4f", gotAbandon, wantAbandon)
						}
					} else if math.Abs(gotMean-wantMean) > 0.02+0.20*wantMean {
						t.Errorf("mean wait %.3fs, Erlang C %.3fs", gotMean, wantMean)
					}
				})
			}
		}
	}
}

// measured returns from a result the share of customers who waited for a
// person (the served with a wait above zero, and every abandoner), the
// share who abandoned, and the mean wait of the served.
func measured(t *testing.T, res *reports.Result) (pWait, pAbandon, meanWait float64) {
	t.Helper()
	qw := res.Latency["queue_wait"]
	h, err := reports.DecodeHistogram(qw.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	served := h.TotalCount()
	var zero int64 // waits of 0 ns: assigned at once
	for _, b := range h.Distribution() {
		if b.To < 1000 {
			zero += b.Count
		}
	}
	abandoned := res.Sessions.Abandoned
	total := float64(served + abandoned)
	if total == 0 {
		t.Fatal("no customer reached the queue")
	}
	pWait = float64(served-zero+abandoned) / total
	pAbandon = float64(abandoned) / total
	meanWait = h.Mean() / 1e9
	return pWait, pAbandon, meanWait
}
