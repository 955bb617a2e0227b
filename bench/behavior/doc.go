// Package behavior holds the customer and agent scripts of a bench run as
// event-driven state machines over an abstract clock and connection, so
// that the swarm (real connections, wall time scaled by the scenario's
// timescale) and the simulator (direct desk calls, virtual time) run the
// very same behaviour.
//
// An actor (Customer, Agent) owns no goroutine: its driver calls Receive
// when a message arrives on one of its links, Timer when a timer it set
// comes due, and Dropped when a link ends. Per-customer state is a few
// hundred bytes and does not grow with the messages exchanged, because one
// bench process holds hundreds of thousands of customers.
//
// # Time and measurement
//
// Scheduler.Now is scenario time. Every action a script takes (connect,
// open, a question, a message, a reply) first gets its intended time from
// the script's own schedule (think times, typing times, the answer it
// waits for) and is then set as a timer for that time. When the timer
// fires the actor records the lag (record.Shard.ActionStarted) and sends;
// latencies are recorded both from the intended time (corrected) and from
// the actual send (raw), so a stalled server or generator shows in the
// corrected tail instead of being hidden by coordinated omission.
//
// Network latencies (connect, hello, menu, bot, ack, delivery, resume) are
// recorded in wall time: a span of scenario time divided by Env.Timescale.
// Human latencies (queue_wait, first_reply, agent_reply) are recorded in
// scenario time.
//
// # Replies
//
// A chat step sends each message after the agent's reply to the one
// before. The reply to a customer message is the message the agent wrote
// in answer to it: its first message typed after that customer message
// reached it. Not the agent's greeting, which may well arrive after the
// customer's message was acknowledged (the customer wrote before the
// greeting came), and not the late answer to an earlier message. The
// protocol has no field saying what a message answers, so the agent's
// reply carries it in its body: a stamp "re <seq> " naming the sequence of
// the customer message answered (replyStamp), as a person reading the chat
// would tell an answer from a greeting by what it says. The customer takes
// an agent message as its reply once the stamp names its last message's
// sequence or a later one (the sequence comes with the message's ack; an
// answer that comes before the ack, replayed on a reconnect, is kept for
// it).
//
// The human latencies follow: first_reply runs from the request for a
// person to the agent's first message received, the greeting included (a
// contact centre's first response time); agent_reply, recorded by the
// agent, from a customer message's intended (and actual) send time to the
// send of the agent's answer to it, bucketed by the chats the agent then
// carries; the answer's network delivery is measured as delivery.
//
// Every chat message (customer questions and messages, agent replies) goes
// through the record.Ledger: sent, acked and received at every device,
// including the transcript of an assignment and the replay after a
// reconnect, so that lost, duplicated and reordered messages are counted.
//
// # Reconnects
//
// A link the server or the network ends (Dropped) is dialed again, always,
// as a mobile app or an agent console does: after a delay drawn with full
// jitter from a ceiling that starts at RedialBase and doubles with each
// failed dial up to RedialMax (wall time; the draws come from Env.Rand, so
// a run is reproducible). A dial that fails while the server is down is
// counted as a failed attempt (record.LinkFailed), not an error. The new
// link's hello names the last sequence received in each conversation the
// user holds, per device. Once the first link is ready again the customer
// sends again its pending request (it has at most one) with the same client
// id and content; an agent says its status again, since a server does not
// keep it across a restart, and sends again every message and close not yet
// acknowledged. The ledger takes a request sent again as the same message,
// and its latency is still measured from its intended time, so an outage
// shows in the corrected latencies. What a crash may swallow that no resume
// replays is recovered from what does come: an open stored before the drop
// is acked again without its menu (the ready lists the conversation), an
// assignment lost is learnt from the agent's first message, an agent's chat
// whose assignment was lost is taken up from its ready. A scenario's own
// kill step closes its links itself and reconnects when the step says.
package behavior
