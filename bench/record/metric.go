package record

import "fmt"

// Metric is one of the latencies a run measures (issue 3, item 3). Each has
// a corrected and a raw histogram.
type Metric uint8

// The metrics, named in the result document and the .hlog files by String.
const (
	// Connect is TCP connect: dial to established.
	Connect Metric = iota
	// Hello is hello sent to ready received.
	Hello
	// Menu is open sent to the menu received.
	Menu
	// Bot is a question sent to the bot's answer received.
	Bot
	// Ack is a message sent to the server's ack.
	Ack
	// Delivery is a message sent to its receipt, at each recipient device
	// (customer to agent and agent to customer).
	Delivery
	// QueueWait is asking for a person to being assigned one.
	QueueWait
	// FirstReply is asking for a person to the first human reply received.
	FirstReply
	// Broadcast is an admin broadcast sent to its receipt by each customer.
	Broadcast
	// Resume is a reconnecting hello sent to the last missed delivery
	// received.
	Resume
	// AgentReply is a customer's message sent to the agent's reply received,
	// as the customer perceives it.
	AgentReply
	// Session is a conversation's length: its open acknowledged to its
	// end (closed, resolved by the bot, or abandoned), in scenario time.
	Session

	// NumMetrics is the number of metrics.
	NumMetrics = iota
)

var metricNames = [NumMetrics]string{
	Connect:    "connect",
	Hello:      "hello",
	Menu:       "menu",
	Bot:        "bot",
	Ack:        "ack",
	Delivery:   "delivery",
	QueueWait:  "queue_wait",
	FirstReply: "first_reply",
	Broadcast:  "broadcast",
	Resume:     "resume",
	AgentReply: "agent_reply",
	Session:    "session",
}

// String returns the metric's name in results and logs ("queue_wait").
func (m Metric) String() string {
	if int(m) < NumMetrics {
		return metricNames[m]
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// ParseMetric returns the metric with the given name, as String gives it.
func ParseMetric(name string) (Metric, bool) {
	for m, n := range metricNames {
		if n == name {
			return Metric(m), true
		}
	}
	return 0, false
}

// Metrics returns every metric, in order.
func Metrics() []Metric {
	ms := make([]Metric, NumMetrics)
	for i := range ms {
		ms[i] = Metric(i)
	}
	return ms
}

// SessionEvent is a step in a customer session that the result counts.
type SessionEvent uint8

// The session events, counted in the result's sessions.
const (
	// SessionStarted is a conversation opened.
	SessionStarted SessionEvent = iota
	// SessionBotResolved is a session the bot ended without a person.
	SessionBotResolved
	// SessionToHuman is a session handed to a human agent.
	SessionToHuman
	// SessionAbandoned is a customer leaving while waiting.
	SessionAbandoned
	// SessionCompleted is a session closed after being served.
	SessionCompleted

	numSessionEvents = iota
)
