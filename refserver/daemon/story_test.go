package daemon_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		os.Exit(serve(os.Args[1:]))
	}
	goleak.VerifyTestMain(m, rt.LeakOptions()...)
}

// must returns v, or panics with err: it keeps the story readable, and a
// panic fails the test with the line that failed.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// check fails the test on an error.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func connect(t *testing.T, addr string, role wire.Role, tenant, user, device string, resume ...wire.ResumePoint) *rt.Client {
	t.Helper()
	c, _, err := rt.Connect(addr, role, tenant, user, device, resume...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func online(t *testing.T, c *rt.Client, max uint64) {
	t.Helper()
	if err := c.Send(&wire.AgentStatus{State: wire.AgentOnline, MaxChats: max, Groups: []string{"general"}}); err != nil {
		t.Fatal(err)
	}
	// A ping answered means the status was applied: frames of a connection
	// are handled in order.
	barrier(t, c)
}

// barrier sends a ping and reads until its pong, returning what came before.
func barrier(t *testing.T, c *rt.Client) []wire.Msg {
	t.Helper()
	nonce := c.NextID()
	if err := c.Send(&wire.Ping{Nonce: nonce}); err != nil {
		t.Fatal(err)
	}
	pong, before, err := rt.Until[*wire.Pong](c)
	if err != nil {
		t.Fatal(err)
	}
	if pong.Nonce != nonce {
		t.Fatalf("pong nonce %d, want %d", pong.Nonce, nonce)
	}
	return before
}

// openChat opens a conversation and reads the menu and the greeting.
func openChat(t *testing.T, c *rt.Client) uint64 {
	t.Helper()
	conv := must(c.Open(""))
	menu := must(rt.Expect[*wire.Menu](c))
	if menu.Conv != conv || len(menu.Items) == 0 {
		t.Fatalf("menu %+v for conversation %d", menu, conv)
	}
	greet := must(rt.Expect[*wire.Delivery](c))
	if greet.SenderRole != wire.RoleBot || greet.Seq != 1 {
		t.Fatalf("greeting %+v, want the bot's delivery with seq 1", greet)
	}
	return conv
}

// askPerson asks the bot for a person and returns what the customer
// receives up to the assignment or queue position.
func askPerson(t *testing.T, c *rt.Client, conv uint64) wire.Msg {
	t.Helper()
	must(c.Say(conv, "转人工"))
	must(rt.Expect[*wire.Ack](c))
	for {
		m := must(c.Next())
		switch m.(type) {
		case *wire.Assignment, *wire.QueuePosition:
			return m
		case *wire.Delivery:
		default:
			t.Fatalf("waiting for a person, got %s %+v", m.Type(), m)
		}
	}
}

func expectAssigned(t *testing.T, agent *rt.Client, conv uint64, customer string) *wire.Assignment {
	t.Helper()
	a := must(rt.Expect[*wire.Assignment](agent))
	if a.Conv != conv || a.Customer != customer {
		t.Fatalf("agent got assignment %+v, want conversation %d of %s", a, conv, customer)
	}
	return a
}

// TestStory runs the whole story of the issue over real TCP: menu, a
// Chinese question the bot answers, a request for a person, least-loaded
// assignment, a chat with acks and sequences, a drop and a resume that
// delivers exactly the missed messages in order, a close, and the queue
// draining at once.
//
// It runs on each store: in memory, and on disk with durability sync, where
// every answer waits for the disk (the held, group-committed path).
func TestStory(t *testing.T) {
	t.Run("durability=none", func(t *testing.T) { story(t, rt.NewServer()) })
	t.Run("durability=sync", func(t *testing.T) { story(t, rt.NewServer(rt.WithDurability("sync", t.TempDir()))) })
}

func story(t *testing.T, srv *rt.Server) {
	defer srv.Close()
	const tenant = "demo"

	// Agent a1 comes online first and takes customer c0.
	a1 := connect(t, srv.Addr, wire.RoleAgent, tenant, "a1", "console")
	online(t, a1, 2)
	c0 := connect(t, srv.Addr, wire.RoleCustomer, tenant, "c0", "phone")
	conv0 := openChat(t, c0)
	if _, ok := askPerson(t, c0, conv0).(*wire.Assignment); !ok {
		t.Fatal("c0 was not assigned")
	}
	expectAssigned(t, a1, conv0, "c0")

	// Agent a2 comes online with no chats: the least-loaded.
	a2 := connect(t, srv.Addr, wire.RoleAgent, tenant, "a2", "console")
	online(t, a2, 1)

	// The customer opens, gets the menu, and asks a Chinese question.
	c1 := connect(t, srv.Addr, wire.RoleCustomer, tenant, "c1", "phone")
	conv := openChat(t, c1)
	const question = "我的快递到哪里了"
	qid := must(c1.Say(conv, question))
	ack := must(rt.Expect[*wire.Ack](c1))
	if ack.ClientID != qid || ack.Seq != 2 {
		t.Fatalf("ack %+v, want client id %d seq 2", ack, qid)
	}
	answer := must(rt.Expect[*wire.Delivery](c1))
	if answer.SenderRole != wire.RoleBot || answer.Kind != wire.KindText || answer.Seq != 3 || len(answer.Body) == 0 {
		t.Fatalf("bot answer %+v", answer)
	}
	if !hasHan(string(answer.Body)) {
		t.Fatalf("bot answered a Chinese question with %q", answer.Body)
	}

	// Asks for a person: assigned to a2, the least-loaded agent.
	as, ok := askPerson(t, c1, conv).(*wire.Assignment)
	if !ok || as.Agent != "a2" {
		t.Fatalf("customer got %+v, want assignment to a2", as)
	}
	agentView := expectAssigned(t, a2, conv, "c1")
	if !transcriptHas(agentView.Transcript, question) {
		t.Fatalf("the agent's transcript lacks the customer's question: %+v", agentView.Transcript)
	}
	last := agentView.Transcript[len(agentView.Transcript)-1].Seq

	// Both chat: each message is acked with the next sequence and
	// delivered to the other side with the same sequence.
	exchange := func(from, to *rt.Client, text string) uint64 {
		t.Helper()
		id := must(from.Say(conv, text))
		ack := must(rt.Expect[*wire.Ack](from))
		if ack.ClientID != id || ack.Seq != last+1 {
			t.Fatalf("ack %+v, want client id %d seq %d", ack, id, last+1)
		}
		last = ack.Seq
		d := must(rt.Expect[*wire.Delivery](to))
		if d.Seq != ack.Seq || string(d.Body) != text || d.ClientID != id {
			t.Fatalf("delivery %+v, want seq %d %q", d, ack.Seq, text)
		}
		return ack.Seq
	}
	exchange(c1, a2, "你好，我想退货")
	exchange(a2, c1, "好的，请提供订单号")
	exchange(c1, a2, "订单号 12345")

	// A retried client id is acked with its sequence, not stored again.
	retry := &wire.Message{ClientID: 999, Conv: conv, Kind: wire.KindText, Body: []byte("retry me")}
	check(t, c1.Send(retry))
	first := must(rt.Expect[*wire.Ack](c1))
	must(rt.Expect[*wire.Delivery](a2))
	check(t, c1.Send(retry))
	again := must(rt.Expect[*wire.Ack](c1))
	if again.Seq != first.Seq {
		t.Fatalf("retry acked with seq %d, first with %d", again.Seq, first.Seq)
	}
	if extra := barrier(t, a2); len(extra) != 0 {
		t.Fatalf("a retried message was delivered again: %+v", extra)
	}
	// The customer holds everything up to its own last message.
	last = first.Seq
	customerHas := first.Seq

	// The customer drops; the agent goes on writing.
	c1.Close()
	var missed []string
	for i := range 3 {
		text := fmt.Sprintf("消息 %d", i)
		must(a2.Say(conv, text))
		ack := must(rt.Expect[*wire.Ack](a2))
		if ack.Seq != last+1 {
			t.Fatalf("ack seq %d, want %d", ack.Seq, last+1)
		}
		last = ack.Seq
		missed = append(missed, text)
	}

	// It reconnects with its last sequence and receives exactly what it
	// missed, in order, once.
	c1b, ready, err := rt.Connect(srv.Addr, wire.RoleCustomer, tenant, "c1", "phone", wire.ResumePoint{Conv: conv, Seq: customerHas})
	if err != nil {
		t.Fatal(err)
	}
	defer c1b.Close()
	if len(ready.Convs) != 1 || ready.Convs[0] != (wire.ResumePoint{Conv: conv, Seq: last}) {
		t.Fatalf("ready lists %+v, want conversation %d at %d", ready.Convs, conv, last)
	}
	got := barrier(t, c1b)
	// First where the chat stands (it is assigned), then what it missed.
	if len(got) == 0 {
		t.Fatal("nothing after a resuming hello")
	}
	if as, ok := got[0].(*wire.Assignment); !ok || as.Conv != conv || as.Customer != "c1" {
		t.Fatalf("first after a resuming hello: %+v, want the assignment of conversation %d", got[0], conv)
	}
	got = got[1:]
	if len(got) != len(missed) {
		t.Fatalf("resume delivered %d messages, want %d: %+v", len(got), len(missed), got)
	}
	for i, m := range got {
		d, ok := m.(*wire.Delivery)
		if !ok || d.Seq != customerHas+uint64(i)+1 || string(d.Body) != missed[i] {
			t.Fatalf("resume message %d = %+v, want seq %d %q", i, m, customerHas+uint64(i)+1, missed[i])
		}
	}

	// Another customer finds every agent full and waits in the queue.
	c3 := connect(t, srv.Addr, wire.RoleCustomer, tenant, "c3", "phone")
	conv3 := openChat(t, c3)
	if _, ok := askPerson(t, c3, conv3).(*wire.Assignment); !ok {
		t.Fatal("c3 was not assigned to a1's free slot")
	}
	expectAssigned(t, a1, conv3, "c3")
	c4 := connect(t, srv.Addr, wire.RoleCustomer, tenant, "c4", "phone")
	conv4 := openChat(t, c4)
	qp, ok := askPerson(t, c4, conv4).(*wire.QueuePosition)
	if !ok || qp.Position != 1 {
		t.Fatalf("c4 got %+v, want queue position 1", qp)
	}

	// The agent closes; both sides are told; the queued customer is
	// assigned to the freed agent at once.
	check(t, a2.Send(&wire.Close{ClientID: a2.NextID(), Conv: conv, Reason: "resolved"}))
	must(rt.Expect[*wire.Ack](a2))
	cl := must(rt.Expect[*wire.Close](a2))
	if cl.Conv != conv {
		t.Fatalf("agent got close %+v", cl)
	}
	expectAssigned(t, a2, conv4, "c4")
	if cl := must(rt.Expect[*wire.Close](c1b)); cl.Conv != conv || cl.Reason != "resolved" {
		t.Fatalf("customer got close %+v", cl)
	}
	if as := must(rt.Expect[*wire.Assignment](c4)); as.Agent != "a2" || as.Conv != conv4 {
		t.Fatalf("queued customer got %+v, want assignment to a2", as)
	}

	// A closed conversation refuses messages.
	must(c1b.Say(conv, "还在吗"))
	if e := must(rt.Expect[*wire.Error](c1b)); e.Code != wire.CodeClosed {
		t.Fatalf("message to a closed conversation got %+v", e)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func transcriptHas(ds []wire.Delivery, text string) bool {
	for _, d := range ds {
		if strings.Contains(string(d.Body), text) {
			return true
		}
	}
	return false
}

// expectFault reads until the connection closes and checks the last frame
// was an error with code.
func expectFault(t *testing.T, c *rt.Client, code wire.Code) {
	t.Helper()
	var last wire.Msg
	for {
		m, err := c.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("waiting for close: %v", err)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection not closed after error (last frame %+v)", last)
			}
			break
		}
		last = m
	}
	e, ok := last.(*wire.Error)
	if !ok || e.Code != code {
		t.Fatalf("last frame before close = %+v, want error %d", last, code)
	}
}
