package routing

import "math/bits"

// ref says where a conversation is: a non-negative value is the index of the
// agent holding it, a negative one the complement of its queue entry index.
type ref int32

func (c ref) queued() bool { return c < 0 }
func (c ref) entry() int32 { return int32(^c) }
func (c ref) agent() int32 { return int32(c) }
func queueRef(e int32) ref { return ref(^e) }
func agentRef(a int32) ref { return ref(a) }

// convIndex maps conversation ids to where they are (a ref). It is an open
// addressing hash table with linear probing and backward-shift deletion, so
// deletes leave no tombstones: the route-and-release churn of fresh ids,
// which fills a Go map with deleted slots and lengthens its probes, keeps
// probes short here. Slots cost 16 bytes; the table is kept
// at most 3/4 full.
type convIndex struct {
	slots []convSlot // length a power of two, or zero
	shift uint8      // 64 - log2(len(slots))
	n     int
}

type convSlot struct {
	key uint64
	ref ref // emptyRef when the slot is free
}

// emptyRef marks a free slot: it is no agent index, and the queue entry it
// would name (the 2^31-th) is never allocated.
const emptyRef = ref(-1 << 31)

func (x *convIndex) home(key uint64) int {
	return int((key * 0x9e3779b97f4a7c15) >> x.shift)
}

func (x *convIndex) len() int { return x.n }

// get returns key's ref.
func (x *convIndex) get(key uint64) (ref, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := len(x.slots) - 1
	for i := x.home(key); ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.ref == emptyRef {
			return 0, false
		}
		if s.key == key {
			return s.ref, true
		}
	}
}

// set sets key, present or not, to v.
func (x *convIndex) set(key uint64, v ref) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	mask := len(x.slots) - 1
	for i := x.home(key); ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.ref == emptyRef {
			s.key, s.ref = key, v
			x.n++
			return
		}
		if s.key == key {
			s.ref = v
			return
		}
	}
}

// deleteIf removes key if it maps to want, reporting whether it did.
func (x *convIndex) deleteIf(key uint64, want ref) bool {
	if x.n == 0 {
		return false
	}
	mask := len(x.slots) - 1
	i := x.home(key)
	for ; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.ref == emptyRef {
			return false
		}
		if s.key == key {
			if s.ref != want {
				return false
			}
			break
		}
	}
	// Shift back the entries after i whose probe sequence passes through it.
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := &x.slots[j]
		if s.ref == emptyRef {
			break
		}
		if (j-x.home(s.key))&mask >= (j-i)&mask {
			x.slots[i] = *s
			i = j
		}
	}
	x.slots[i] = convSlot{ref: emptyRef}
	x.n--
	return true
}

func (x *convIndex) grow() {
	size := max(64, 2*len(x.slots))
	old := x.slots
	x.slots = make([]convSlot, size)
	for i := range x.slots {
		x.slots[i].ref = emptyRef
	}
	x.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	x.n = 0
	for _, s := range old {
		if s.ref != emptyRef {
			x.set(s.key, s.ref)
		}
	}
}

// all calls f for every key and its ref.
func (x *convIndex) all(f func(uint64, ref)) {
	for _, s := range x.slots {
		if s.ref != emptyRef {
			f(s.key, s.ref)
		}
	}
}
