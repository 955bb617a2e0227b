package daemon_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/child"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// TestCrashRecovery kills refserver (durability sync) with SIGKILL while
// customers write, restarts it on the same data directory, and checks from
// the store's own replay that nothing acknowledged was lost, nothing was
// stored twice and the order held: each customer resumes, re-sends the
// message it had in flight with the same client id, and at the end reads
// its whole conversation back from sequence 0.
func TestCrashRecovery(t *testing.T) {
	bin := refserverBinary(t)
	p, err := child.Start(bin, "--durability", "sync", "--data-dir", t.TempDir(), "--rate-limit", "0")
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
	time.Sleep(time.Second)
	inFlight := 0
	for _, c := range cs {
		if c.pending.Load() != 0 {
			inFlight++
		}
	}
	killed := time.Now()
	if _, err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of %d customers' messages in flight; serving again after %v", inFlight, customers, time.Since(killed).Round(time.Millisecond))
	time.Sleep(time.Second)
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
	if total < customers*10 {
		t.Errorf("only %d messages acknowledged in all", total)
	}
	t.Logf("%d acknowledged messages checked after the restart", total)
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
