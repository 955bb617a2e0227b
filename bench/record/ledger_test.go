package record

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/reports"
)

// Devices and the conversation of the ledger tests.
const (
	conv     = 7
	phone    = 1 // the customer's phone
	web      = 2 // the customer's web session
	console  = 3 // the agent's console
	watching = 4 // a supervisor
)

// step is one event fed to a Ledger.
type step struct {
	op     string // join, assign, leave, sent, ack, recv
	device uint64
	id     uint64 // client id
	seq    uint64 // for assign: the transcript's first sequence
}

func join(d uint64) step                  { return step{op: "join", device: d} }
func leave(d uint64) step                 { return step{op: "leave", device: d} }
func assign(d, first uint64) step         { return step{op: "assign", device: d, seq: first} }
func sent(from, id uint64) step           { return step{op: "sent", device: from, id: id} }
func ack(id, seq uint64) step             { return step{op: "ack", id: id, seq: seq} }
func recv(d, seq, id uint64) step         { return step{op: "recv", device: d, seq: seq, id: id} }
func sendAck(from, id, seq uint64) []step { return []step{sent(from, id), ack(id, seq)} }

func run(t *testing.T, l *Ledger, steps []step) {
	t.Helper()
	for _, s := range steps {
		switch s.op {
		case "join":
			if err := l.Join(conv, s.device); err != nil {
				t.Fatal(err)
			}
		case "assign":
			if err := l.Assign(conv, s.device, s.seq); err != nil {
				t.Fatal(err)
			}
		case "leave":
			l.Leave(conv, s.device)
		case "sent":
			l.Sent(conv, s.device, s.id, t0, t0)
		case "ack":
			l.Acked(conv, s.id, s.seq)
		case "recv":
			l.Received(s.device, conv, s.seq, s.id)
		default:
			t.Fatalf("unknown op %q", s.op)
		}
	}
}

func cat(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch p := p.(type) {
		case step:
			out = append(out, p)
		case []step:
			out = append(out, p...)
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return out
}

// inOrder is the customer's phone sending n messages (sequences from
// first, client ids 101+sequence) in a conversation the web session and the agent's
// console take part in, and both receiving every one in order.
func inOrder(first, n uint64) []step {
	var out []step
	for i := range n {
		id, seq := 101+first+i, first+i
		out = append(out, sendAck(phone, id, seq)...)
		out = append(out, recv(web, seq, id), recv(console, seq, id))
	}
	return out
}

var members = []step{join(phone), join(web), join(console)}

func TestLedger(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  reports.Messages
	}{
		{"healthy", cat(members, inOrder(1, 5)), reports.Messages{Sent: 5, Delivered: 10}},
		{
			// The agent's console: 1, 2, 2 again, 4, 3 (3 and 4 swapped), 5 never.
			"dropped, duplicated and swapped",
			cat(members,
				sendAck(phone, 101, 1), sendAck(phone, 102, 2), sendAck(phone, 103, 3), sendAck(phone, 104, 4), sendAck(phone, 105, 5),
				recv(web, 1, 101), recv(web, 2, 102), recv(web, 3, 103), recv(web, 4, 104), recv(web, 5, 105),
				recv(console, 1, 101), recv(console, 2, 102), recv(console, 2, 102), recv(console, 4, 104), recv(console, 3, 103)),
			reports.Messages{Sent: 5, Delivered: 9, Lost: 1, Duplicated: 1, Reordered: 1},
		},
		{"never acked", cat(members, sent(phone, 101)), reports.Messages{Sent: 1, Unacked: 1}},
		{"delivered, then acked", cat(members, sent(phone, 101), recv(web, 1, 101), recv(console, 1, 101), ack(101, 1)), reports.Messages{Sent: 1, Delivered: 2}},
		{"delivered, never acked", cat(members, sent(phone, 101), recv(web, 1, 101), recv(console, 1, 101)), reports.Messages{Sent: 1, Delivered: 2, Unacked: 1}},
		{"refused", cat(members, sent(phone, 101), ack(101, 0)), reports.Messages{Sent: 1}},
		{"retry is one message", cat(members, sent(phone, 101), sent(phone, 101), ack(101, 1), ack(101, 1), recv(web, 1, 101), recv(console, 1, 101)), reports.Messages{Sent: 1, Delivered: 2}},
		{"the sender is not owed its own", cat(join(phone), sendAck(phone, 101, 1)), reports.Messages{Sent: 1}},
		{
			"joined after the send: not owed",
			cat(join(phone), sendAck(phone, 101, 1), join(console), recv(console, 1, 101)),
			reports.Messages{Sent: 1},
		},
		{
			"leave with a gap: the skipped one is lost, the later one not",
			cat(join(phone), join(console), sendAck(phone, 101, 1), sendAck(phone, 102, 2), sendAck(phone, 103, 3), sendAck(phone, 104, 4),
				recv(console, 1, 101), recv(console, 3, 103), leave(console)),
			reports.Messages{Sent: 4, Delivered: 2, Lost: 1},
		},
		{
			"leave before anything arrived: nothing lost",
			cat(join(phone), join(console), sendAck(phone, 101, 1), leave(console)),
			reports.Messages{Sent: 1},
		},
		{
			"owed at the end: lost once per device",
			cat(members, sendAck(phone, 101, 1)),
			reports.Messages{Sent: 1, Lost: 2},
		},
		{
			"bot messages are checked too",
			cat(join(phone), recv(phone, 1, 0), recv(phone, 2, 0), recv(phone, 2, 0), recv(phone, 4, 0), recv(phone, 3, 0)),
			reports.Messages{Duplicated: 1, Reordered: 1},
		},
		{
			"a device receiving without joining takes part",
			cat(join(phone), recv(watching, 1, 0), sendAck(phone, 101, 2), recv(watching, 2, 101)),
			reports.Messages{Sent: 1, Delivered: 1},
		},
		{
			"a duplicate far below the newest",
			cat(join(phone), join(console), inOrderTo(console, 1, 100), recv(console, 3, 0)),
			reports.Messages{Duplicated: 1},
		},
		{
			"an owed message arriving far behind",
			cat(join(phone), join(console), sendAck(phone, 101, 1), inOrderTo(console, 2, 100), recv(console, 1, 101)),
			reports.Messages{Sent: 1, Delivered: 1, Reordered: 1},
		},
		{
			// The customer wrote to the bot before an agent took the chat:
			// the assignment's transcript carries it to the agent.
			"assigned later: owed what came before, in the transcript",
			cat(join(phone), join(web), sendAck(phone, 101, 1), recv(web, 1, 101), sendAck(phone, 102, 2),
				assign(console, 1), recv(console, 1, 101), recv(console, 2, 102), recv(web, 2, 102)),
			reports.Messages{Sent: 2, Delivered: 4},
		},
		{
			"assigned later: one missing from the transcript is lost",
			cat(join(phone), sendAck(phone, 101, 1), sendAck(phone, 102, 2), sendAck(phone, 103, 3),
				assign(console, 1), recv(console, 1, 101), recv(console, 3, 103), leave(console)),
			reports.Messages{Sent: 3, Delivered: 2, Lost: 1},
		},
		{
			"assigned later: owed at the end, lost",
			cat(join(phone), sendAck(phone, 101, 1), assign(console, 1)),
			reports.Messages{Sent: 1, Lost: 1},
		},
		{
			"assigned later: what the transcript's window leaves out is not owed",
			cat(join(phone), sendAck(phone, 101, 1), sendAck(phone, 102, 2), sendAck(phone, 103, 3),
				assign(console, 2), recv(console, 2, 102), recv(console, 3, 103), leave(console)),
			reports.Messages{Sent: 3, Delivered: 2},
		},
		{
			"assigned later: an empty transcript owes nothing before",
			cat(join(phone), sendAck(phone, 101, 1), assign(console, 0), sendAck(phone, 102, 2), recv(console, 2, 102)),
			reports.Messages{Sent: 2, Delivered: 1},
		},
		{
			"assigned while a message is in flight: owed, in the transcript or after",
			cat(join(phone), sent(phone, 101), sent(phone, 102), assign(console, 1), ack(101, 1), recv(console, 1, 101), ack(102, 2)),
			reports.Messages{Sent: 2, Delivered: 1, Lost: 1},
		},
		{
			"assigned while a message is in flight, stored before the transcript's window",
			cat(join(phone), sent(phone, 101), assign(console, 5), ack(101, 3), inOrderTo(console, 5, 6), leave(console)),
			reports.Messages{Sent: 1},
		},
		{
			"assigned twice: the second changes nothing",
			cat(join(phone), sendAck(phone, 101, 1), assign(console, 1), recv(console, 1, 101), assign(console, 1), sendAck(phone, 102, 2), recv(console, 2, 102)),
			reports.Messages{Sent: 2, Delivered: 2},
		},
		{
			"a resume replaying what arrived",
			cat(members, inOrder(1, 3), recv(console, 2, 103), recv(console, 3, 104), recv(console, 4, 0)),
			reports.Messages{Sent: 3, Delivered: 6, Duplicated: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLedger()
			run(t, l, tt.steps)
			l.Finish(t0.Add(time.Hour), time.Second) // long after the sends
			if got := l.Counts(); got != tt.want {
				t.Errorf("counts %+v\n  want %+v", got, tt.want)
			}
			if m, c := l.InFlight(); m != 0 || c != 0 {
				t.Errorf("after Finish the ledger holds %d messages in %d conversations", m, c)
			}
		})
	}
}

// inOrderTo is device receiving sequences from..to of bot messages.
func inOrderTo(device, from, to uint64) []step {
	var out []step
	for seq := from; seq <= to; seq++ {
		out = append(out, recv(device, seq, 0))
	}
	return out
}

// TestLedgerUnacked counts the messages sent and not yet acknowledged, a
// retry once; an acknowledged or refused one is no longer counted.
func TestLedgerUnacked(t *testing.T) {
	l := NewLedger()
	run(t, l, cat(members, sent(phone, 101), sent(phone, 102), sent(phone, 102), sent(web, 103)))
	if n := l.Unacked(); n != 3 {
		t.Fatalf("%d unacked, want 3", n)
	}
	run(t, l, cat(ack(101, 1), ack(102, 0)))
	if n := l.Unacked(); n != 1 {
		t.Fatalf("%d unacked after an ack and a refusal, want 1", n)
	}
}

func TestLedgerDeliveryTimes(t *testing.T) {
	l := NewLedger()
	intended, at := t0, t0.Add(3*time.Millisecond)
	if err := l.Join(conv, console); err != nil {
		t.Fatal(err)
	}
	l.Sent(conv, phone, 101, intended, at)
	l.Acked(conv, 101, 1)
	gotI, gotS, ok := l.Received(console, conv, 1, 101)
	if !ok || !gotI.Equal(intended) || !gotS.Equal(at) {
		t.Fatalf("first receipt: %v %v %v", gotI, gotS, ok)
	}
	if _, _, ok := l.Received(console, conv, 1, 101); ok {
		t.Fatal("a duplicate was reported as a delivery")
	}
	if _, _, ok := l.Received(web, conv, 1, 101); ok {
		t.Fatal("a receipt by a device not owed the message was reported as a delivery")
	}
}

func TestLedgerTooManyDevices(t *testing.T) {
	l := NewLedger()
	for d := range uint64(MaxDevices) {
		if err := l.Join(conv, d+1); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Join(conv, 1000); !errors.Is(err, ErrTooManyDevices) {
		t.Fatalf("join past the limit: %v", err)
	}
	if err := l.Join(conv, 5); err != nil {
		t.Fatalf("joining again: %v", err)
	}
	l.Leave(conv, 5)
	if err := l.Join(conv, 1000); err != nil {
		t.Fatalf("join into a freed slot: %v", err)
	}
	if _, _, ok := l.Received(2000, conv, 1, 0); ok {
		t.Fatal("a device past the limit took part")
	}
}

// TestLedgerBounded checks that memory follows what is in flight: a long
// conversation holds only its undelivered messages, and leaving frees it.
func TestLedgerBounded(t *testing.T) {
	l := NewLedger()
	run(t, l, members)
	const n, window = 10_000, 8
	for i := uint64(1); i <= n; i++ {
		l.Sent(conv, phone, 1000+i, t0, t0)
		l.Acked(conv, 1000+i, i)
		if i > window { // recipients run window messages behind
			j := i - window
			l.Received(web, conv, j, 1000+j)
			l.Received(console, conv, j, 1000+j)
		}
		if m, _ := l.InFlight(); m > window {
			t.Fatalf("after %d messages the ledger holds %d", i, m)
		}
	}
	for j := uint64(n - window + 1); j <= n; j++ {
		l.Received(web, conv, j, 1000+j)
		l.Received(console, conv, j, 1000+j)
	}
	run(t, l, []step{leave(phone), leave(web), leave(console)})
	if m, c := l.InFlight(); m != 0 || c != 0 {
		t.Fatalf("after everyone left: %d messages in %d conversations", m, c)
	}
	if got := l.Counts(); got != (reports.Messages{Sent: n, Delivered: 2 * n}) {
		t.Fatalf("counts %+v", got)
	}
}

// TestLedgerConcurrent feeds one ledger from several goroutines, as the
// event loops of a run do: each conversation's sender on one goroutine, its
// recipient on another, receiving what was sent.
func TestLedgerConcurrent(t *testing.T) {
	l := NewLedger()
	const convs, msgs, loops = 64, 200, 2
	for c := range uint64(convs) {
		_ = l.Join(c, 1)
		_ = l.Join(c, 2)
	}
	wire := make([]chan uint64, loops) // sent sequences, to each receiving loop
	for i := range wire {
		wire[i] = make(chan uint64, convs*msgs)
	}
	var wg sync.WaitGroup
	for loop := range loops {
		wg.Add(2)
		go func() { // a sending loop: the conversations c%loops == loop
			defer wg.Done()
			for i := range uint64(msgs) {
				for c := uint64(loop); c < convs; c += loops {
					l.Sent(c, 1, i+1, t0, t0)
					wire[(c/loops)%loops] <- c<<32 | (i + 1)
					l.Acked(c, i+1, i+1)
				}
			}
		}()
		go func() { // a receiving loop
			defer wg.Done()
			for range convs / loops * msgs {
				v := <-wire[loop]
				c, seq := v>>32, v&(1<<32-1)
				if _, _, ok := l.Received(2, c, seq, seq); !ok {
					t.Errorf("conversation %d seq %d: not a delivery", c, seq)
				}
			}
		}()
	}
	wg.Wait()
	l.Finish(t0, time.Second)
	if got, want := l.Counts(), (reports.Messages{Sent: convs * msgs, Delivered: convs * msgs}); got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
}

// TestLedgerAssignTimes: a message owed from before the assignment counts
// delivered in the transcript but has no delivery time (it waited for the
// agent to exist); one sent after has.
func TestLedgerAssignTimes(t *testing.T) {
	l := NewLedger()
	run(t, l, cat(join(phone), sendAck(phone, 101, 1), assign(console, 1)))
	if _, _, ok := l.Received(console, conv, 1, 101); ok {
		t.Error("a transcript entry reported a delivery time")
	}
	l.Sent(conv, phone, 102, t0, t0.Add(time.Millisecond))
	l.Acked(conv, 102, 2)
	if _, sent, ok := l.Received(console, conv, 2, 102); !ok || !sent.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("a delivery after the assignment: %v %v", sent, ok)
	}
	if got := l.Counts(); got != (reports.Messages{Sent: 2, Delivered: 2}) {
		t.Errorf("counts %+v", got)
	}
}

// TestLedgerHistoryBounded: a long conversation with no agent keeps only
// its latest messages for an Assign, and an agent given the transcript of
// the last 50 is owed those.
func TestLedgerHistoryBounded(t *testing.T) {
	l := NewLedger()
	run(t, l, []step{join(phone), join(web)})
	const n = 1000
	for i := uint64(1); i <= n; i++ {
		run(t, l, cat(sendAck(phone, 1000+i, i), recv(web, i, 1000+i)))
	}
	if h := len(l.stripe(conv).convs[conv].history); h > historyMax {
		t.Fatalf("history of %d messages, want at most %d", h, historyMax)
	}
	run(t, l, []step{assign(console, n-49)})
	for i := uint64(n - 49); i <= n; i++ {
		run(t, l, []step{recv(console, i, 1000+i)})
	}
	if m, _ := l.InFlight(); m != 0 {
		t.Errorf("%d messages in flight after the transcript", m)
	}
	l.Finish(t0, time.Second)
	if got := l.Counts(); got != (reports.Messages{Sent: n, Delivered: n + 50}) {
		t.Errorf("counts %+v", got)
	}
}

// TestLedgerCutOff: what is still in flight when the run ends, sent within
// the window before the end, counts as cut off, neither lost nor unacked;
// what was sent before the window and never came is lost (or unacked), and
// so is a message a device was skipped past, however recent.
func TestLedgerCutOff(t *testing.T) {
	end, window := t0.Add(time.Hour), 10*time.Second
	recent, old := end.Add(-time.Second), end.Add(-time.Minute)
	tests := []struct {
		name  string
		at    time.Time // when the phone sent its last message
		acked bool
		rest  []step // what follows
		want  reports.Messages
	}{
		{"acked, in flight to both", recent, true, nil, reports.Messages{Sent: 2, Delivered: 2, CutOff: 2}},
		{"acked, sent long before", old, true, nil, reports.Messages{Sent: 2, Delivered: 2, Lost: 2}},
		{"never acked, in flight", recent, false, nil, reports.Messages{Sent: 2, Delivered: 2, CutOff: 1}},
		{"never acked, sent long before", old, false, nil, reports.Messages{Sent: 2, Delivered: 2, Unacked: 1}},
		{"skipped at one device", recent, true, []step{recv(web, 3, 0)}, reports.Messages{Sent: 2, Delivered: 2, Lost: 1, CutOff: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLedger()
			run(t, l, cat(members, inOrder(1, 1)))
			l.Sent(conv, phone, 200, tt.at, tt.at)
			if tt.acked {
				l.Acked(conv, 200, 2)
			}
			run(t, l, tt.rest)
			l.Finish(end, window)
			if got := l.Counts(); got != tt.want {
				t.Errorf("counts %+v\n  want %+v", got, tt.want)
			}
		})
	}
}
