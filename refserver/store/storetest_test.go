package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// maker opens a fresh, empty store for one test.
type maker struct {
	name string
	open func(t testing.TB) Store
}

func openPebbleT(t testing.TB, dir string, o PebbleOptions) *Pebble {
	t.Helper()
	p, err := OpenPebble(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

var makers = []maker{
	{"mem", func(testing.TB) Store { return NewMem(0) }},
	{"pebble-sync", func(t testing.TB) Store {
		return openPebbleT(t, t.TempDir(), PebbleOptions{Durability: DurabilitySync})
	}},
	{"pebble-batch", func(t testing.TB) Store {
		return openPebbleT(t, t.TempDir(), PebbleOptions{Durability: DurabilityBatch, SyncInterval: time.Millisecond})
	}},
}

// conformance is the behaviour every Store shares.
var conformance = []struct {
	name string
	fn   func(t *testing.T, st Store)
}{
	{"NewConvDistinct", testNewConvDistinct},
	{"AppendOrder", testAppendOrder},
	{"Lookup", testLookup},
	{"Since", testSince},
	{"Forget", testForget},
	{"SaveConv", testSaveConv},
	{"Convs", testConvs},
	{"Sync", testSync},
	{"Concurrent", testConcurrent},
}

func TestConformance(t *testing.T) {
	for _, m := range makers {
		t.Run(m.name, func(t *testing.T) {
			for _, c := range conformance {
				t.Run(c.name, func(t *testing.T) { c.fn(t, m.open(t)) })
			}
		})
	}
}

func newConv(t testing.TB, st Store) uint64 {
	t.Helper()
	id, err := st.NewConv()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// rec is the record of conv at seq that the tests write and expect back.
func rec(conv, seq, clientID uint64) *Record {
	return &Record{
		Conv: conv, Seq: seq,
		Sender:     fmt.Sprintf("user%d", seq%3),
		SenderRole: wire.Role(seq % 4),
		Kind:       wire.Kind(seq % 5),
		ClientID:   clientID,
		Time:       time.Date(2026, 11, 21, 10, 0, 0, int(seq), time.UTC).UnixNano(),
		Body:       fmt.Appendf(nil, "message %d of conversation %d", seq, conv),
	}
}

func appendN(t testing.TB, st Store, conv uint64, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		if err := st.Append(rec(conv, seq, seq*10)); err != nil {
			t.Fatal(err)
		}
	}
}

func sameRecord(t testing.TB, got, want *Record) {
	t.Helper()
	if got.Conv != want.Conv || got.Seq != want.Seq || got.Sender != want.Sender ||
		got.SenderRole != want.SenderRole || got.Kind != want.Kind || got.ClientID != want.ClientID ||
		got.Time != want.Time || string(got.Body) != string(want.Body) {
		t.Fatalf("record\n got %+v (body %q)\nwant %+v (body %q)", *got, got.Body, *want, want.Body)
	}
}

// seqsSince returns the sequences Since passes, checking each record.
func seqsSince(t testing.TB, st Store, conv, after uint64) []uint64 {
	t.Helper()
	var seqs []uint64
	err := st.Since(conv, after, func(r *Record) bool {
		sameRecord(t, r, rec(conv, r.Seq, r.Seq*10))
		seqs = append(seqs, r.Seq)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func testNewConvDistinct(t *testing.T, st Store) {
	const goroutines, each = 4, 700 // crosses Pebble's reservation block
	ids := make([][]uint64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				id, err := st.NewConv()
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
			}
		})
	}
	wg.Wait()
	seen := make(map[uint64]bool)
	for _, l := range ids {
		for _, id := range l {
			if id == 0 || seen[id] {
				t.Fatalf("id %d repeated or zero", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != goroutines*each {
		t.Fatalf("%d ids, want %d", len(seen), goroutines*each)
	}
}

func testAppendOrder(t *testing.T, st Store) {
	if err := st.Append(rec(1<<40, 1, 0)); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("append to an unknown conversation: %v, want ErrUnknownConv", err)
	}
	c := newConv(t, st)
	for _, seq := range []uint64{0, 2} {
		if err := st.Append(rec(c, seq, 0)); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("append seq %d first: %v, want ErrOutOfOrder", seq, err)
		}
	}
	appendN(t, st, c, 1, 3)
	for _, seq := range []uint64{1, 3, 5} {
		if err := st.Append(rec(c, seq, 0)); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("append seq %d after 3: %v, want ErrOutOfOrder", seq, err)
		}
	}
	appendN(t, st, c, 4, 4)
	if got := seqsSince(t, st, c, 0); !slices.Equal(got, seqRange(1, 4)) {
		t.Fatalf("seqs %v", got)
	}
}

func testLookup(t *testing.T, st Store) {
	c := newConv(t, st)
	other := newConv(t, st)
	appendN(t, st, c, 1, 5) // client id seq*10, sender user(seq%3)
	if err := st.Append(rec(c, 6, 0)); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 5; seq++ {
		r := rec(c, seq, seq*10)
		if got, ok := st.Lookup(c, r.Sender, r.ClientID); !ok || got != seq {
			t.Fatalf("Lookup(%s, %d) = %d, %v; want %d", r.Sender, r.ClientID, got, ok, seq)
		}
		if _, ok := st.Lookup(c, r.Sender+"x", r.ClientID); ok {
			t.Fatalf("another sender's client id %d found", r.ClientID)
		}
		if _, ok := st.Lookup(other, r.Sender, r.ClientID); ok {
			t.Fatal("client id found in another conversation")
		}
	}
	if _, ok := st.Lookup(c, "user0", 0); ok {
		t.Fatal("client id 0 found")
	}
	if _, ok := st.Lookup(c, "user1", 11); ok {
		t.Fatal("unknown client id found")
	}
	if _, ok := st.Lookup(1<<40, "user1", 10); ok {
		t.Fatal("found in an unknown conversation")
	}
}

func testSince(t *testing.T, st Store) {
	c := newConv(t, st)
	empty := newConv(t, st)
	appendN(t, st, c, 1, 10)
	for _, tc := range []struct {
		after uint64
		want  []uint64
	}{
		{0, seqRange(1, 10)},
		{4, seqRange(5, 10)},
		{9, []uint64{10}},
		{10, nil},
		{100, nil},
		{^uint64(0), nil},
	} {
		if got := seqsSince(t, st, c, tc.after); !slices.Equal(got, tc.want) {
			t.Fatalf("Since(%d) = %v, want %v", tc.after, got, tc.want)
		}
	}
	if got := seqsSince(t, st, empty, 0); got != nil {
		t.Fatalf("Since of an empty conversation: %v", got)
	}
	var got []uint64
	err := st.Since(c, 2, func(r *Record) bool {
		got = append(got, r.Seq)
		return len(got) < 3
	})
	if err != nil || !slices.Equal(got, []uint64{3, 4, 5}) {
		t.Fatalf("early stop: %v, %v", got, err)
	}
	if err := st.Since(1<<40, 0, func(*Record) bool { return true }); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("Since of an unknown conversation: %v", err)
	}
}

func testForget(t *testing.T, st Store) {
	c := newConv(t, st)
	keep := newConv(t, st)
	appendN(t, st, c, 1, 5)
	appendN(t, st, keep, 1, 5)
	for _, id := range []uint64{c, keep} {
		if err := st.SaveConv("t", id, []byte("state")); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Forget(c); err != nil {
		t.Fatal(err)
	}
	if err := st.Since(c, 0, func(*Record) bool { return true }); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("Since after Forget: %v", err)
	}
	if _, ok := st.Lookup(c, "user1", 10); ok {
		t.Fatal("Lookup after Forget found")
	}
	if err := st.Append(rec(c, 6, 0)); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("Append after Forget: %v", err)
	}
	if err := st.SaveConv("t", c, []byte("x")); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("SaveConv after Forget: %v", err)
	}
	if got := convsOf(t, st, "t"); !slices.Equal(got, []savedConv{{keep, 5, "state"}}) {
		t.Fatalf("Convs after Forget: %v", got)
	}
	if got := seqsSince(t, st, keep, 0); !slices.Equal(got, seqRange(1, 5)) {
		t.Fatalf("other conversation after Forget: %v", got)
	}
	if err := st.Forget(c); err != nil {
		t.Fatalf("second Forget: %v", err)
	}
	if err := st.Forget(1 << 40); err != nil {
		t.Fatalf("Forget of an unknown conversation: %v", err)
	}
}

type savedConv struct {
	id, last uint64
	meta     string
}

func convsOf(t testing.TB, st Store, tenant string) []savedConv {
	t.Helper()
	var got []savedConv
	err := st.Convs(tenant, func(conv, last uint64, meta []byte) error {
		got = append(got, savedConv{conv, last, string(meta)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testSaveConv(t *testing.T, st Store) {
	if err := st.SaveConv("t", 1<<40, []byte("x")); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("SaveConv of an unknown conversation: %v", err)
	}
	c := newConv(t, st)
	meta := []byte("opened")
	if err := st.SaveConv("t", c, meta); err != nil {
		t.Fatal(err)
	}
	copy(meta, "XXXXXX") // the store keeps its own copy
	if got := convsOf(t, st, "t"); !slices.Equal(got, []savedConv{{c, 0, "opened"}}) {
		t.Fatalf("Convs: %v", got)
	}
	if err := st.SaveConv("t", c, []byte("assigned to agent 7")); err != nil {
		t.Fatal(err)
	}
	if got := convsOf(t, st, "t"); !slices.Equal(got, []savedConv{{c, 0, "assigned to agent 7"}}) {
		t.Fatalf("Convs after a second save: %v", got)
	}
	if err := st.SaveConv("u", c, []byte("moved")); err != nil {
		t.Fatal(err)
	}
	if got := convsOf(t, st, "t"); got != nil {
		t.Fatalf("old tenant after a save under another: %v", got)
	}
	if got := convsOf(t, st, "u"); !slices.Equal(got, []savedConv{{c, 0, "moved"}}) {
		t.Fatalf("new tenant: %v", got)
	}
}

func testConvs(t *testing.T, st Store) {
	var wantA, wantB []savedConv
	for i := range 12 {
		c := newConv(t, st)
		n := uint64(i % 4)
		appendN(t, st, c, 1, n)
		if i%5 == 4 {
			continue // no saved state: not listed
		}
		tenant, meta := "a", fmt.Sprintf("a-%d", i)
		if i%3 == 0 {
			tenant, meta = "b", fmt.Sprintf("b-%d", i)
		}
		if err := st.SaveConv(tenant, c, []byte(meta)); err != nil {
			t.Fatal(err)
		}
		if tenant == "a" {
			wantA = append(wantA, savedConv{c, n, meta})
		} else {
			wantB = append(wantB, savedConv{c, n, meta})
		}
		appendN(t, st, c, n+1, n+1) // after the save: Convs reports the latest
		if tenant == "a" {
			wantA[len(wantA)-1].last++
		} else {
			wantB[len(wantB)-1].last++
		}
	}
	if got := convsOf(t, st, "a"); !slices.Equal(got, wantA) {
		t.Fatalf("Convs(a)\n got %v\nwant %v", got, wantA)
	}
	if got := convsOf(t, st, "b"); !slices.Equal(got, wantB) {
		t.Fatalf("Convs(b)\n got %v\nwant %v", got, wantB)
	}
	if got := convsOf(t, st, "nobody"); got != nil {
		t.Fatalf("Convs(nobody): %v", got)
	}
	stop := errors.New("stop")
	calls := 0
	err := st.Convs("a", func(uint64, uint64, []byte) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("error from fn: %v after %d calls, want it returned after 1", err, calls)
	}
}

func testSync(t *testing.T, st Store) {
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	c := newConv(t, st)
	appendN(t, st, c, 1, 3)
	if err := st.SaveConv("t", c, []byte("m")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := st.Sync(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// testConcurrent has desks append to their own conversations, look up,
// read and sync at once (run it with -race).
func testConcurrent(t *testing.T, st Store) {
	const goroutines, each = 8, 150
	convs := make([]uint64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			c, err := st.NewConv()
			if err != nil {
				t.Error(err)
				return
			}
			convs[g] = c
			for seq := uint64(1); seq <= each; seq++ {
				if err := st.Append(rec(c, seq, seq*10)); err != nil {
					t.Error(err)
					return
				}
				if seq%10 == 0 {
					if err := st.Sync(); err != nil {
						t.Error(err)
						return
					}
					if err := st.SaveConv("t", c, fmt.Appendf(nil, "at %d", seq)); err != nil {
						t.Error(err)
						return
					}
					n := 0
					if err := st.Since(c, seq-5, func(*Record) bool { n++; return true }); err != nil || n != 5 {
						t.Errorf("Since: %d records, %v", n, err)
						return
					}
					if got, ok := st.Lookup(c, rec(c, seq, 0).Sender, seq*10); !ok || got != seq {
						t.Errorf("Lookup: %d, %v", got, ok)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, c := range convs {
		if got := seqsSince(t, st, c, 0); !slices.Equal(got, seqRange(1, each)) {
			t.Fatalf("conversation %d: %d records", c, len(got))
		}
	}
	if got := convsOf(t, st, "t"); len(got) != goroutines {
		t.Fatalf("Convs: %v", got)
	}
}
