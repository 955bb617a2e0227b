package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmdesk/swarmdesk/refserver/child"
	"github.com/swarmdesk/swarmdesk/refserver/daemon"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// serveEnv is the environment variable that makes the test binary serve
// as refserver (TestMain calls serve) instead of running the tests.
const serveEnv = "SWARMDESK_TEST_SERVE"

// serve runs the daemon as refserver's main does, with the flags the
// tests pass (child.Start adds --listen and --admin), until SIGTERM. A
// test that must kill a server process runs this test binary as it, with
// serverBinary, rather than building refserver: a build costs tens of
// seconds on a busy machine.
func serve(args []string) int {
	opts := daemon.DefaultOptions()
	fs := pflag.NewFlagSet("refserver", pflag.ContinueOnError)
	fs.StringVar(&opts.Listen, "listen", opts.Listen, "")
	fs.StringVar(&opts.Admin, "admin", opts.Admin, "")
	fs.IntVar(&opts.Loops, "loops", opts.Loops, "")
	fs.StringVar(&opts.DataDir, "data-dir", "", "")
	fs.StringVar(&opts.Durability, "durability", opts.Durability, "")
	fs.Float64Var(&opts.Server.RateLimit, "rate-limit", opts.Server.RateLimit, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		return 2
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, opts); err != nil {
		opts.Logger.Error("refserver failed", "err", err)
		return 1
	}
	return 0
}

// serverBinary returns the binary that serves as refserver for the
// children t starts: this test binary, with serveEnv set.
func serverBinary(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(serveEnv, "1")
	return bin
}

// crashMessages is how many messages each customer has acknowledged
// before the kill, and again after the restart, at the least: the test
// waits for them rather than for a time, so a slow machine makes it
// longer, not failed.
const crashMessages = 5

// crashWait bounds the wait for crashMessages; only a server that stopped
// answering takes it.
const crashWait = 2 * time.Minute

// crashWriting returns how long the customers write, at the least, before
// the kill and again after the restart: a second, whose count of audited
// messages RESULTS.md reports; a fifth of it under the race detector, which
// slows client and server alike and makes that second cost several of CPU.
func crashWriting() time.Duration {
	if raceEnabled {
		return 200 * time.Millisecond
	}
	return time.Second
}

// TestCrashRecovery kills refserver (durability sync) with SIGKILL while
// customers write, restarts it on the same data directory, and checks from
// the store's own replay that nothing acknowledged was lost, nothing was
// stored twice and the order held: each customer resumes, re-sends the
// message it had in flight with the same client id, and at the end reads
// its whole conversation back from sequence 0.
func TestCrashRecovery(t *testing.T) {
	p, err := child.Start(serverBinary(t), "--durability", "sync", "--data-dir", t.TempDir(), "--rate-limit", "0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop() }()

	const customers = 20
	var stop atomic.Bool
	cs := make([]*crashCustomer, customers)
	var wg sync.WaitGroup
	for i := range cs {
		cs[i] = &crashCustomer{addr: p.Addr, user: fmt.Sprintf("crash-%d", i), acked: map[uint64]uint64{}}
		if err := cs[i].open(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { cs[i].run(&stop) })
	}
	// On a failure, the customers stop before the test does.
	fatal := func(err error) {
		t.Helper()
		stop.Store(true)
		wg.Wait()
		t.Fatal(err)
	}
	// At least crashWriting, and crashMessages each.
	time.Sleep(crashWriting())
	if err := waitAcked(cs, crashMessages, nil); err != nil {
		fatal(err)
	}
	inFlight := 0
	for _, c := range cs {
		if c.pending.Load() != 0 {
			inFlight++
		}
	}
	killed := time.Now()
	if _, err := p.Kill(); err != nil {
		fatal(err)
	}
	if err := p.Restart(); err != nil {
		fatal(err)
	}
	t.Logf("killed with %d of %d customers' messages in flight; serving again after %v", inFlight, customers, time.Since(killed).Round(time.Millisecond))
	before := make([]int64, len(cs))
	for i, c := range cs {
		before[i] = c.nacked.Load()
	}
	time.Sleep(crashWriting())
	if err := waitAcked(cs, crashMessages, before); err != nil {
		fatal(err)
	}
	stop.Store(true)
	wg.Wait()

	total := 0
	for _, c := range cs {
		if c.err != nil {
			t.Fatalf("%s: %v", c.user, c.err)
		}
		if c.reconnects == 0 {
			t.Errorf("%s never reconnected: the kill did not reach it", c.user)
		}
		total += len(c.acked)
		if err := c.audit(); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d acknowledged messages checked after the restart", total)
}

// waitAcked waits until each customer has n messages acknowledged more
// than from (nil: none); it fails when one stopped first, or the wait
// took crashWait.
func waitAcked(cs []*crashCustomer, n int64, from []int64) error {
	deadline := time.Now().Add(crashWait)
	for i := 0; i < len(cs); {
		c := cs[i]
		var base int64
		if from != nil {
			base = from[i]
		}
		if c.nacked.Load()-base >= n {
			i++
			continue
		}
		if c.stopped.Load() || time.Now().After(deadline) {
			return fmt.Errorf("%s: %d messages acknowledged, want %d more than %d (stopped: %v)", c.user, c.nacked.Load(), n, base, c.stopped.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// crashCustomer writes into its conversation one message at a time,
// reconnecting and re-sending the one in flight when the server goes.
type crashCustomer struct {
	addr, user string
	conv       uint64
	c          *rt.Client
	lastSeq    uint64
	nextCID    uint64
	pending    atomic.Uint64 // client id sent and not acked
	acked      map[uint64]uint64
	nacked     atomic.Int64 // len(acked), for other goroutines
	stopped    atomic.Bool  // run returned
	reconnects int
	err        error
}

func (cc *crashCustomer) open() error {
	c, _, err := rt.Connect(cc.addr, wire.RoleCustomer, "demo", cc.user, "phone")
	if err != nil {
		return err
	}
	cc.c = c
	if cc.conv, err = c.Open(""); err != nil {
		return err
	}
	cc.nextCID = 1000
	return nil
}

// connect reconnects, resuming the conversation, until the server answers.
func (cc *crashCustomer) connect() error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, _, err := rt.Connect(cc.addr, wire.RoleCustomer, "demo", cc.user, "phone", wire.ResumePoint{Conv: cc.conv, Seq: cc.lastSeq})
		if err == nil {
			cc.c = c
			cc.reconnects++
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reconnect: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (cc *crashCustomer) run(stop *atomic.Bool) {
	defer func() {
		if cc.c != nil {
			cc.c.Close()
		}
		cc.stopped.Store(true)
	}()
	for {
		cid := cc.pending.Load()
		if cid == 0 {
			if stop.Load() {
				return
			}
			cc.nextCID++
			cid = cc.nextCID
			cc.pending.Store(cid)
		}
		if cc.c == nil {
			if cc.err = cc.connect(); cc.err != nil {
				return
			}
		}
		// Sent, or re-sent after a reconnect: the same client id.
		err := cc.c.Send(&wire.Message{ClientID: cid, Conv: cc.conv, Kind: wire.KindText, Body: fmt.Appendf(nil, "%s message %d", cc.user, cid)})
		for err == nil {
			var m wire.Msg
			if m, err = cc.c.Next(); err != nil {
				break
			}
			switch m := m.(type) {
			case *wire.Delivery:
				cc.lastSeq = max(cc.lastSeq, m.Seq)
			case *wire.Ack:
				if m.ClientID == cid {
					cc.acked[cid] = m.Seq
					cc.nacked.Store(int64(len(cc.acked)))
					cc.lastSeq = max(cc.lastSeq, m.Seq)
					cc.pending.Store(0)
				}
			case *wire.Error:
				err = fmt.Errorf("error %d: %s", m.Code, m.Text)
				cc.err = err
				return
			}
			if cc.pending.Load() == 0 {
				break
			}
		}
		if err != nil {
			cc.c.Close()
			cc.c = nil
		}
	}
}

// audit reads the whole conversation back and checks it against what was
// acknowledged.
func (cc *crashCustomer) audit() error {
	c, ready, err := rt.Connect(cc.addr, wire.RoleCustomer, "demo", cc.user, "audit", wire.ResumePoint{Conv: cc.conv})
	if err != nil {
		return fmt.Errorf("%s: audit: %w", cc.user, err)
	}
	defer c.Close()
	var last uint64
	for _, p := range ready.Convs {
		if p.Conv == cc.conv {
			last = p.Seq
		}
	}
	seen := map[uint64]uint64{}
	var prev uint64
	for prev < last {
		m, err := c.Next()
		if err != nil {
			return fmt.Errorf("%s: audit after seq %d of %d: %w", cc.user, prev, last, err)
		}
		d, ok := m.(*wire.Delivery)
		if !ok || d.Conv != cc.conv {
			continue
		}
		if d.Seq != prev+1 {
			return fmt.Errorf("%s: seq %d after %d: a gap or a reorder", cc.user, d.Seq, prev)
		}
		prev = d.Seq
		if string(d.Sender) != cc.user {
			continue
		}
		if s, dup := seen[d.ClientID]; dup {
			return fmt.Errorf("%s: client id %d stored twice, at %d and %d", cc.user, d.ClientID, s, d.Seq)
		}
		seen[d.ClientID] = d.Seq
	}
	var errs []error
	for cid, seq := range cc.acked {
		got, ok := seen[cid]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: client id %d acked at %d is lost", cc.user, cid, seq))
		case got != seq:
			errs = append(errs, fmt.Errorf("%s: client id %d acked at %d is stored at %d", cc.user, cid, seq, got))
		}
	}
	return errors.Join(errs...)
}
