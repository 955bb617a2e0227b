package record

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/swarmdesk/swarmdesk/reports"
)

// ErrTooManyDevices marks a Join beyond MaxDevices in one conversation.
var ErrTooManyDevices = errors.New("record: too many devices in a conversation")

// MaxDevices is the most devices a Ledger follows in one conversation
// (customer devices, agent consoles, supervisors). A device beyond it is
// not checked.
const MaxDevices = 64

// reorderWindow is how far below the highest sequence a device received the
// Ledger remembers which sequences it received. A receipt further below,
// of a message the device is not owed, counts as a duplicate.
const reorderWindow = 64

// historyMax is how many of a conversation's latest messages the Ledger
// keeps for an Assign: more than a transcript holds by default (refserver's
// transcript_max, 50). An agent is not owed older ones.
const historyMax = 64

// ledgerStripes is the number of independently locked parts of a Ledger.
// A conversation's messages are sent from one event loop and received on
// others, so the Ledger is shared; striping by conversation keeps loops from
// waiting on each other.
const ledgerStripes = 64

// Ledger is the correctness accounting of a run's chat messages: it checks
// every message the generator sends at every device that should receive it,
// and counts what was lost, duplicated and reordered.
//
// It follows the protocol's promises (refserver/wire/PROTOCOL.md): each
// conversation's messages have sequences 1, 2, 3, ... and reach every
// device of every participant, in order, except the sending device, which
// gets the ack. The generator tells the Ledger who takes part (Join,
// Leave), what it sent (Sent, Acked) and everything each device receives
// (Received), including the transcript in an assignment and what a resume
// replays; the Ledger does the rest.
//
// An agent joins a conversation later than its customer, and is owed what
// was written before it came as well (Assign): the assignment's transcript
// carries it. So until a conversation's first Assign the Ledger keeps the
// client id and sequence of its latest messages already delivered (its
// history: at most historyMax, 16 bytes each).
//
// Memory is bounded by what is in flight and those histories: a message is
// forgotten once every device it is owed to has it, a device's state in a
// conversation once it leaves, a conversation once nobody is in it and
// nothing is in flight. A device remembers only its highest sequence and
// which of the 64 below it arrived.
//
// A Ledger is safe for concurrent use. It is locked in stripes by
// conversation, so event loops recording different conversations do not
// wait on each other. Client ids must be unique within a conversation (the
// bench draws them from a per-run counter).
type Ledger struct {
	stripes [ledgerStripes]ledgerStripe
}

type ledgerStripe struct {
	mu     sync.Mutex
	convs  map[uint64]*ledgerConv
	counts reports.Messages
	_      [64]byte
}

// ledgerConv is one conversation: who is in it, and its messages in
// flight.
type ledgerConv struct {
	devices []ledgerDevice
	msgs    map[uint64]ledgerMsg // by client id
	// history is the messages acked and owed to nobody any more, kept for
	// an agent's Assign until the first one (assigned).
	history  []ledgerEntry
	assigned bool
}

// ledgerEntry is a message of a conversation's history.
type ledgerEntry struct{ clientID, seq uint64 }

// ledgerDevice is one device's view of a conversation. Its slot number in
// ledgerConv.devices is its bit in the pending masks of messages.
type ledgerDevice struct {
	id     uint64
	member bool   // the slot is in use
	seen   bool   // received anything yet
	max    uint64 // highest sequence received
	window uint64 // bit i: received max-1-i
	from   uint64 // an assigned device is owed no sequence below it
}

// ledgerMsg is one sent message in flight. Its times are zero when it is
// owed from a conversation's history (Assign).
type ledgerMsg struct {
	intended time.Time
	sent     time.Time
	seq      uint64 // 0 until acked
	pending  uint64 // slots still owed the message
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger {
	l := &Ledger{}
	for i := range l.stripes {
		l.stripes[i].convs = map[uint64]*ledgerConv{}
	}
	return l
}

func (l *Ledger) stripe(conv uint64) *ledgerStripe {
	// Fibonacci hashing: conversation ids are usually consecutive.
	return &l.stripes[(conv*0x9e3779b97f4a7c15)>>(64-6)]
}

// conv returns the conversation, creating it if asked.
func (s *ledgerStripe) conv(conv uint64, create bool) *ledgerConv {
	c := s.convs[conv]
	if c == nil && create {
		c = &ledgerConv{} // msgs is made on the first message: most idle customers' conversations never have one
		s.convs[conv] = c
	}
	return c
}

// put records message id in flight.
func (c *ledgerConv) put(id uint64, m ledgerMsg) {
	if c.msgs == nil {
		c.msgs = map[uint64]ledgerMsg{}
	}
	c.msgs[id] = m
}

// slot returns the slot of device in c, or -1.
func (c *ledgerConv) slot(device uint64) int {
	for i := range c.devices {
		if d := &c.devices[i]; d.member && d.id == device {
			return i
		}
	}
	return -1
}

// join adds device to c and returns its slot, or -1 if c is full.
func (c *ledgerConv) join(device uint64) int {
	if i := c.slot(device); i >= 0 {
		return i
	}
	for i := range c.devices {
		if !c.devices[i].member {
			c.devices[i] = ledgerDevice{id: device, member: true}
			return i
		}
	}
	if len(c.devices) == MaxDevices {
		return -1
	}
	c.devices = append(c.devices, ledgerDevice{id: device, member: true})
	return len(c.devices) - 1
}

// members returns the mask of slots in use.
func (c *ledgerConv) members() uint64 {
	var m uint64
	for i := range c.devices {
		if c.devices[i].member {
			m |= 1 << i
		}
	}
	return m
}

// Join says device takes part in conversation conv from now on: it is owed
// every message sent in conv after this call, except its own. Call it when
// a customer's device opens or resumes a conversation and when an agent or
// supervisor is given one. Joining twice is harmless.
func (l *Ledger) Join(conv, device uint64) error {
	s := l.stripe(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conv(conv, true).join(device) < 0 {
		return fmt.Errorf("join conversation %d: %w (%d)", conv, ErrTooManyDevices, MaxDevices)
	}
	return nil
}

// Assign says device is given conv with what was written in it before, as
// an agent is by an assignment: it joins (as Join does), and is also owed
// the messages sent before it came from sequence first on, first being
// the first sequence in the assignment's transcript (a transcript holds
// only the latest messages; 0 for an empty one: nothing before is owed).
// It receives those stored already in the transcript, the others as
// deliveries; Received counts a transcript's entries delivered but reports
// no delivery time for them: they waited for the device to exist. Assign
// owes nothing more to a device already in conv. After a conversation's
// first Assign the Ledger keeps no history of it: a later agent (a
// transfer) is owed only what is sent after it joins.
func (l *Ledger) Assign(conv, device, first uint64) error {
	s := l.stripe(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conv(conv, true)
	known := c.slot(device) >= 0
	i := c.join(device)
	if i < 0 {
		return fmt.Errorf("assign conversation %d: %w (%d)", conv, ErrTooManyDevices, MaxDevices)
	}
	history := c.history
	c.history, c.assigned = nil, true
	if known || first == 0 {
		return nil
	}
	bit := uint64(1) << i
	c.devices[i].from = first
	for id, m := range c.msgs {
		if m.seq == 0 || m.seq >= first {
			m.pending |= bit
			c.msgs[id] = m
		}
	}
	for _, h := range history {
		if h.seq >= first {
			c.put(h.clientID, ledgerMsg{seq: h.seq, pending: bit})
		}
	}
	return nil
}

// Leave says device no longer takes part in conv: the conversation closed
// or was transferred away from it, or the device will not come back. Owed
// messages below the highest sequence it received count as lost, since the
// server delivers in order and they can no longer come; the others stop
// being owed, since the server may have stored them after the device left.
func (l *Ledger) Leave(conv, device uint64) {
	s := l.stripe(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conv(conv, false)
	if c == nil {
		return
	}
	i := c.slot(device)
	if i < 0 {
		return
	}
	d := &c.devices[i]
	bit := uint64(1) << i
	for id, m := range c.msgs {
		if m.pending&bit == 0 {
			continue
		}
		if m.seq != 0 && d.seen && m.seq < d.max {
			s.counts.Lost++
		}
		m.pending &^= bit
		s.retire(c, id, m)
	}
	*d = ledgerDevice{}
	s.forget(conv, c)
}

// Sent records that device sent a message with clientID in conv, meant to
// go at intended and actually written at sent. It is owed to every device
// in conv but the sender. Call it before writing the message, so that no
// receipt can come before it. A retry with the same clientID is not a new
// message.
func (l *Ledger) Sent(conv, device, clientID uint64, intended, sent time.Time) {
	s := l.stripe(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conv(conv, true)
	if _, ok := c.msgs[clientID]; ok {
		return
	}
	pending := c.members()
	if i := c.slot(device); i >= 0 {
		pending &^= 1 << i
	}
	c.put(clientID, ledgerMsg{intended: intended, sent: sent, pending: pending})
	s.counts.Sent++
}

// Acked records the server's ack of the message with clientID in conv,
// stored as seq. A seq of 0 (nothing stored: the server refused it) means
// the message is owed to nobody.
func (l *Ledger) Acked(conv, clientID, seq uint64) {
	s := l.stripe(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conv(conv, false)
	if c == nil {
		return
	}
	m, ok := c.msgs[clientID]
	if !ok || m.seq != 0 {
		return
	}
	if seq == 0 {
		delete(c.msgs, clientID)
		s.forget(conv, c)
		return
	}
	m.seq = seq
	for i := range c.devices {
		if d := &c.devices[i]; m.pending&(1<<i) != 0 && seq < d.from {
			// Stored before the window of the transcript the device had.
			m.pending &^= 1 << i
		}
	}
	s.retire(c, clientID, m)
	s.forget(conv, c)
}

// Received records that device received sequence seq of conv, a message
// the sender marked with clientID (0 for the bot's and the server's own).
// It counts the receipt duplicated if the device already had seq, and
// reordered if it had a higher one. For the first receipt of a message the
// device was owed, it returns the message's intended and actual send times
// and ok, so that the caller records the delivery latency; not for one owed
// from before an Assign, which has no delivery time.
//
// A device receiving in a conversation it did not Join joins it: the
// server decided it takes part.
func (l *Ledger) Received(device, conv, seq, clientID uint64) (intended, sent time.Time, ok bool) {
	s := l.stripe(conv)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conv(conv, true)
	i := c.join(device)
	if i < 0 {
		return time.Time{}, time.Time{}, false
	}
	bit := uint64(1) << i
	var m ledgerMsg
	owed := false
	if clientID != 0 {
		m, owed = c.msgs[clientID]
		owed = owed && m.pending&bit != 0
	}
	d := &c.devices[i]
	switch {
	case !d.seen:
		d.seen, d.max, d.window = true, seq, 0
	case seq > d.max:
		if shift := seq - d.max; shift > reorderWindow {
			d.window = 0
		} else {
			d.window = d.window<<shift | 1<<(shift-1)
		}
		d.max = seq
	case seq == d.max:
		s.counts.Duplicated++
		return time.Time{}, time.Time{}, false
	default:
		below := d.max - seq - 1
		switch {
		case below < reorderWindow && d.window&(1<<below) != 0:
			s.counts.Duplicated++
			return time.Time{}, time.Time{}, false
		case below < reorderWindow:
			d.window |= 1 << below
			s.counts.Reordered++
		case owed:
			s.counts.Reordered++
		default:
			s.counts.Duplicated++
			return time.Time{}, time.Time{}, false
		}
	}
	if !owed {
		return time.Time{}, time.Time{}, false
	}
	s.counts.Delivered++
	m.pending &^= bit
	s.retire(c, clientID, m)
	return m.intended, m.sent, !m.sent.IsZero()
}

// retire stores m back, or forgets it once it is acked and owed to nobody
// (keeping it in the conversation's history until an Assign).
func (s *ledgerStripe) retire(c *ledgerConv, clientID uint64, m ledgerMsg) {
	if m.pending == 0 && m.seq != 0 {
		delete(c.msgs, clientID)
		if !c.assigned {
			if len(c.history) == historyMax {
				c.history = append(c.history[:0], c.history[1:]...)
			}
			c.history = append(c.history, ledgerEntry{clientID, m.seq})
		}
		return
	}
	c.msgs[clientID] = m
}

// forget drops c once nobody is in it and nothing is in flight.
func (s *ledgerStripe) forget(conv uint64, c *ledgerConv) {
	if len(c.msgs) == 0 && c.members() == 0 {
		delete(s.convs, conv)
	}
}

// Finish ends the accounting at end, the end of the run: every acked
// message still owed to a device counts as lost once per device, every
// message never acked counts as unacked, and the Ledger is emptied. But
// what was sent less than window before end is taken as in flight, cut off
// by the end (reports.Messages.CutOff): an unacked message once, an acked
// one once per device owed it, except at a device that received a later
// sequence of the conversation, which was skipped past it: there it is
// lost.
func (l *Ledger) Finish(end time.Time, window time.Duration) {
	since := end.Add(-window)
	for i := range l.stripes {
		s := &l.stripes[i]
		s.mu.Lock()
		for conv, c := range s.convs {
			for _, m := range c.msgs {
				recent := m.sent.After(since)
				switch {
				case m.seq == 0 && recent:
					s.counts.CutOff++
				case m.seq == 0:
					s.counts.Unacked++
				case recent:
					for j := range c.devices {
						if m.pending&(1<<j) == 0 {
							continue
						}
						if d := &c.devices[j]; d.seen && d.max > m.seq {
							s.counts.Lost++
						} else {
							s.counts.CutOff++
						}
					}
				default:
					s.counts.Lost += int64(bits.OnesCount64(m.pending))
				}
			}
			delete(s.convs, conv)
		}
		s.mu.Unlock()
	}
}

// Counts returns the counts so far. Lost is final only after Finish.
func (l *Ledger) Counts() reports.Messages {
	var out reports.Messages
	for i := range l.stripes {
		s := &l.stripes[i]
		s.mu.Lock()
		c := s.counts
		s.mu.Unlock()
		out.Sent += c.Sent
		out.Delivered += c.Delivered
		out.Lost += c.Lost
		out.Duplicated += c.Duplicated
		out.Reordered += c.Reordered
		out.Unacked += c.Unacked
		out.CutOff += c.CutOff
	}
	return out
}

// Unacked returns how many messages are sent and not yet acknowledged now:
// the messages in flight that a crash of the server puts at risk.
func (l *Ledger) Unacked() int64 {
	var n int64
	for i := range l.stripes {
		s := &l.stripes[i]
		s.mu.Lock()
		for _, c := range s.convs {
			for _, m := range c.msgs {
				if m.seq == 0 {
					n++
				}
			}
		}
		s.mu.Unlock()
	}
	return n
}

// InFlight returns how many messages and conversations the Ledger holds:
// what its memory is proportional to.
func (l *Ledger) InFlight() (messages, conversations int) {
	for i := range l.stripes {
		s := &l.stripes[i]
		s.mu.Lock()
		conversations += len(s.convs)
		for _, c := range s.convs {
			messages += len(c.msgs)
		}
		s.mu.Unlock()
	}
	return messages, conversations
}
