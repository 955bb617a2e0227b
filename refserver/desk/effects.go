package desk

import (
	"unsafe"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Audience says who receives an Out.
type Audience uint8

// Audiences.
const (
	// ToOrigin: only the connection whose request produced the effect.
	ToOrigin Audience = iota + 1
	// ToUser: every connected device of User.
	ToUser
	// ToMembers: every device of every user in Members and Watchers,
	// except the origin connection when SkipOrigin is set.
	ToMembers
)

// Out is one message the desk asks its driver to send. Exactly one of
// Delivery, Ack, Err or Msg is meaningful, as AppendFrame encodes it.
type Out struct {
	Audience Audience
	User     string
	// Members and Watchers are shared with the desk and never modified
	// after being handed out (the desk replaces them instead), so a driver
	// may read them after releasing the desk.
	Members    []string
	Watchers   []string
	SkipOrigin bool

	Type     wire.Type
	Delivery wire.Delivery
	Ack      wire.Ack
	Err      wire.Error
	Msg      wire.Msg // the colder messages: menu, assignment, queue position, close, ready
}

// AppendFrame appends the encoded frame of o to dst.
func (o *Out) AppendFrame(dst []byte) []byte {
	switch o.Type {
	case wire.TDelivery:
		return o.Delivery.AppendFrame(dst)
	case wire.TAck:
		return o.Ack.AppendFrame(dst)
	case wire.TError:
		return o.Err.AppendFrame(dst)
	}
	return o.Msg.AppendFrame(dst)
}

// Effects collects what one desk call asks its driver to do. The driver
// reuses one value across calls with Reset.
type Effects struct {
	Out []Out
}

// Reset empties e for reuse, keeping its capacity.
func (e *Effects) Reset() {
	clear(e.Out)
	e.Out = e.Out[:0]
}

func (e *Effects) add() *Out {
	e.Out = append(e.Out, Out{})
	return &e.Out[len(e.Out)-1]
}

func (e *Effects) errorTo(code wire.Code, clientID uint64, text string) {
	o := e.add()
	o.Audience = ToOrigin
	o.Type = wire.TError
	o.Err = wire.Error{Code: code, ClientID: clientID, Text: text}
}

func (e *Effects) ack(clientID, conv, seq uint64, now int64) {
	o := e.add()
	o.Audience = ToOrigin
	o.Type = wire.TAck
	o.Ack = wire.Ack{ClientID: clientID, Conv: conv, Seq: seq, ServerTime: now}
}

func (e *Effects) toUser(user string, m wire.Msg) {
	o := e.add()
	o.Audience = ToUser
	o.User = user
	o.Type = m.Type()
	o.Msg = m
}

func (e *Effects) toOrigin(m wire.Msg) {
	o := e.add()
	o.Audience = ToOrigin
	o.Type = m.Type()
	o.Msg = m
}

// sbytes views a string as bytes without copying. The desk only hands such
// slices to encoders, which read them.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
