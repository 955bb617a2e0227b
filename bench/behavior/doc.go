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
// Every chat message (customer questions and messages, agent replies) goes
// through the record.Ledger: sent, acked and received at every device,
// including the transcript of an assignment and the replay after a
// reconnect, so that lost, duplicated and reordered messages are counted.
package behavior
