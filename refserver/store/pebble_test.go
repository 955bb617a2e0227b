package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
)

func TestParseDurability(t *testing.T) {
	for _, d := range []Durability{DurabilityNone, DurabilityBatch, DurabilitySync} {
		got, err := ParseDurability(d.String())
		if err != nil || got != d {
			t.Fatalf("ParseDurability(%q) = %v, %v", d.String(), got, err)
		}
	}
	_, err := ParseDurability("fsync")
	if err == nil || !strings.Contains(err.Error(), `"fsync"`) || !strings.Contains(err.Error(), "none, batch, sync") {
		t.Fatalf("ParseDurability(fsync): %v", err)
	}
	if s := Durability(9).String(); s != "Durability(9)" {
		t.Fatalf("String of an invalid durability: %s", s)
	}
}

func TestOpenPebbleRejects(t *testing.T) {
	_, err := OpenPebble(t.TempDir(), PebbleOptions{Durability: DurabilityNone})
	if err == nil || !strings.Contains(err.Error(), "in-memory") {
		t.Fatalf("durability none: %v", err)
	}
	if _, err := OpenPebble(t.TempDir(), PebbleOptions{Durability: 7}); err == nil {
		t.Fatal("invalid durability accepted")
	}
	if _, err := OpenPebble("", PebbleOptions{Durability: DurabilitySync}); err == nil {
		t.Fatal("empty directory accepted")
	}
}

// TestPebbleReopen closes a store and opens it again: records, client ids,
// saved state and last sequences are back; new ids are larger than any
// handed out before.
func TestPebbleReopen(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPebble(dir, PebbleOptions{Durability: DurabilitySync})
	if err != nil {
		t.Fatal(err)
	}
	var (
		convs   []uint64
		maxID   uint64
		saved   []savedConv
		counts  = map[uint64]uint64{}
		removed uint64
	)
	for i := range 6 {
		c := newConv(t, p)
		convs = append(convs, c)
		n := uint64(i * 3)
		appendN(t, p, c, 1, n)
		counts[c] = n
		if i%2 == 0 {
			meta := []byte{byte(i), 0, 'x'}
			if err := p.SaveConv("t", c, meta); err != nil {
				t.Fatal(err)
			}
			saved = append(saved, savedConv{c, n, string(meta)})
		}
	}
	// Saved state without records, records without state, a forgotten
	// conversation and ids handed out but never used.
	bare := newConv(t, p)
	if err := p.SaveConv("t", bare, []byte("bare")); err != nil {
		t.Fatal(err)
	}
	saved = append(saved, savedConv{bare, 0, "bare"})
	removed = convs[5]
	if err := p.Forget(removed); err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		maxID = newConv(t, p)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = openPebbleT(t, dir, PebbleOptions{Durability: DurabilitySync})
	for _, c := range convs {
		if c == removed {
			continue
		}
		if got := seqsSince(t, p, c, 0); !slices.Equal(got, seqRange(1, counts[c])) {
			t.Fatalf("conversation %d after reopen: %v", c, got)
		}
		for seq := uint64(1); seq <= counts[c]; seq++ {
			r := rec(c, seq, seq*10)
			if got, ok := p.Lookup(c, r.Sender, r.ClientID); !ok || got != seq {
				t.Fatalf("Lookup after reopen: %d, %v; want %d", got, ok, seq)
			}
		}
		// The last sequence is back: the next append must follow it.
		if err := p.Append(rec(c, counts[c]+2, 0)); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("append past the last sequence after reopen: %v", err)
		}
		appendN(t, p, c, counts[c]+1, counts[c]+1)
	}
	for i := range saved {
		if saved[i].id != bare {
			saved[i].last = counts[saved[i].id] + 1
		}
	}
	if got := convsOf(t, p, "t"); !slices.Equal(got, saved) {
		t.Fatalf("Convs after reopen\n got %v\nwant %v", got, saved)
	}
	if err := p.Append(rec(bare, 1, 0)); err != nil {
		t.Fatalf("append to a saved conversation without records: %v", err)
	}
	if err := p.Since(removed, 0, func(*Record) bool { return true }); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("forgotten conversation after reopen: %v", err)
	}
	if err := p.Append(rec(maxID, 1, 0)); !errors.Is(err, ErrUnknownConv) {
		t.Fatalf("an id never used is a conversation after reopen: %v", err)
	}
	if c := newConv(t, p); c <= maxID {
		t.Fatalf("new id %d after reopen, not above %d", c, maxID)
	}
}

// TestPebbleCorrupt: data that does not decode is an error naming the key,
// never a panic.
func TestPebbleCorrupt(t *testing.T) {
	dir := t.TempDir()
	p := openPebbleT(t, dir, PebbleOptions{Durability: DurabilitySync})
	c := newConv(t, p)
	appendN(t, p, c, 1, 3)
	if err := p.Sync(); err != nil { // the records leave the pending batch
		t.Fatal(err)
	}
	if err := p.db.Set(appendMsgKey(nil, c, 2), []byte("\x01\x02garbage\xff\xff"), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	err := p.Since(c, 0, func(r *Record) bool { got = append(got, r.Seq); return true })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "m/1/2") {
		t.Fatalf("Since over a corrupt record: %v", err)
	}
	if !slices.Equal(got, []uint64{1}) {
		t.Fatalf("records before the corrupt one: %v", got)
	}
	// Corrupt saved state.
	if err := p.db.Set(appendConvPrefix(nil, prefixConv, c), []byte{0x7f}, pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := p.Convs("t", func(uint64, uint64, []byte) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Convs over corrupt state: %v", err)
	}
	// A corrupt client id value: the index of client ids is rebuilt on
	// open, which fails naming the key.
	if err := p.db.Set(appendDedupeKey(nil, c, 10, rec(c, 1, 0).Sender), []byte{1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPebble(dir, PebbleOptions{Durability: DurabilitySync}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "d/1/10") {
		t.Fatalf("open with a corrupt client id: %v", err)
	}
}

func TestPebbleCorruptMark(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPebble(dir, PebbleOptions{Durability: DurabilitySync})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.db.Set([]byte(keyNextConv), []byte("bad"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = OpenPebble(dir, PebbleOptions{Durability: DurabilitySync})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("open with a corrupt id mark: %v", err)
	}
}

// FuzzDecodeRecord: any value decodes or fails, never panics; a valid
// record decodes to itself.
func FuzzDecodeRecord(f *testing.F) {
	valid := appendRecord(nil, rec(1, 2, 20))
	f.Add(valid)
	for i := range valid {
		f.Add(valid[:i])
	}
	f.Add([]byte{1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	key := appendMsgKey(nil, 1, 2)
	f.Fuzz(func(t *testing.T, v []byte) {
		var r Record
		var sender string
		if err := decodeRecord(key, v, &r, &sender); err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "m/1/2") {
				t.Fatalf("error %v", err)
			}
			return
		}
		// Not byte-equal: a varint may have a longer form than the
		// encoder's; the fields must round-trip.
		var back Record
		if err := decodeRecord(key, appendRecord(nil, &r), &back, &sender); err != nil {
			t.Fatalf("decoded %+v does not round-trip: %v", r, err)
		}
		sameRecord(t, &back, &r)
	})
}

func TestPebbleClosed(t *testing.T) {
	p, err := OpenPebble(t.TempDir(), PebbleOptions{Durability: DurabilityBatch})
	if err != nil {
		t.Fatal(err)
	}
	c := newConv(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.NewConv(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewConv after Close: %v", err)
	}
	for name, err := range map[string]error{
		"Append":   p.Append(rec(c, 1, 0)),
		"Since":    p.Since(c, 0, func(*Record) bool { return true }),
		"Forget":   p.Forget(c),
		"SaveConv": p.SaveConv("t", c, nil),
		"Convs":    p.Convs("t", func(uint64, uint64, []byte) error { return nil }),
		"Sync":     p.Sync(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("%s after Close: %v", name, err)
		}
	}
	if _, ok := p.Lookup(c, "u", 1); ok {
		t.Fatal("Lookup after Close found")
	}
}

// TestPebbleCloseWaits: Close waits for a call in progress, and a call made
// from inside it (a callback) does not deadlock against the pending Close.
func TestPebbleCloseWaits(t *testing.T) {
	p, err := OpenPebble(t.TempDir(), PebbleOptions{Durability: DurabilitySync})
	if err != nil {
		t.Fatal(err)
	}
	c := newConv(t, p)
	appendN(t, p, c, 1, 2)
	closed := make(chan error)
	err = p.Since(c, 0, func(r *Record) bool {
		if r.Seq == 1 {
			go func() { closed <- p.Close() }()
			for p.gate.n.Load()&gateClosed == 0 { // Close is now waiting for us
				time.Sleep(time.Millisecond)
			}
			time.Sleep(10 * time.Millisecond)
			select {
			case err := <-closed:
				t.Errorf("Close returned during a call: %v", err)
			default:
			}
			// A nested call is turned away, not blocked.
			if _, err := p.NewConv(); !errors.Is(err, ErrClosed) {
				t.Errorf("nested call during Close: %v", err)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// TestPebbleBatchSyncs: under DurabilityBatch the background loop syncs
// without anyone calling Sync.
func TestPebbleBatchSyncs(t *testing.T) {
	p := openPebbleT(t, t.TempDir(), PebbleOptions{Durability: DurabilityBatch, SyncInterval: time.Millisecond})
	c := newConv(t, p)
	appendN(t, p, c, 1, 10)
	w := p.writes.Load()
	deadline := time.Now().Add(5 * time.Second)
	for p.synced.Load() < w {
		if time.Now().After(deadline) {
			t.Fatalf("synced %d of %d writes after 5s", p.synced.Load(), w)
		}
		time.Sleep(time.Millisecond)
	}
}
