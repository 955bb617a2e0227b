package wire

import (
	"fmt"
	"unicode/utf8"
)

// Type identifies a message; it is the first byte of a frame body.
type Type uint8

// Message types. The numbers are part of the protocol: never reuse one.
const (
	THello         Type = 1
	TReady         Type = 2
	TOpen          Type = 3
	TMessage       Type = 4
	TAck           Type = 5
	TDelivery      Type = 6
	TMenu          Type = 7
	TTransfer      Type = 8
	TAssignment    Type = 9
	TQueuePosition Type = 10
	TClose         Type = 11
	TAgentStatus   Type = 12
	TPing          Type = 13
	TPong          Type = 14
	TError         Type = 15
	TBroadcast     Type = 16
	TWatch         Type = 17
	TResume        Type = 18
	tLast               = TResume
)

var typeNames = [...]string{
	THello: "hello", TReady: "ready", TOpen: "open", TMessage: "message", TAck: "ack",
	TDelivery: "delivery", TMenu: "menu", TTransfer: "transfer", TAssignment: "assignment",
	TQueuePosition: "queue-position", TClose: "close", TAgentStatus: "agent-status",
	TPing: "ping", TPong: "pong", TError: "error", TBroadcast: "broadcast", TWatch: "watch",
	TResume: "resume",
}

// Valid reports whether t names a message of this protocol version.
func (t Type) Valid() bool { return t >= THello && t <= tLast }

func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Role is what a connected user is.
type Role uint8

// Roles. Bot and System appear only as the sender of a delivery.
const (
	RoleCustomer   Role = 1
	RoleAgent      Role = 2
	RoleSupervisor Role = 3
	RoleBot        Role = 4
	RoleSystem     Role = 5
)

func (r Role) String() string {
	switch r {
	case RoleCustomer:
		return "customer"
	case RoleAgent:
		return "agent"
	case RoleSupervisor:
		return "supervisor"
	case RoleBot:
		return "bot"
	case RoleSystem:
		return "system"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Kind is what a chat message carries.
type Kind uint8

// Message kinds.
const (
	KindText       Kind = 1
	KindImage      Kind = 2 // body: an image reference (URL or object key)
	KindLocation   Kind = 3 // body: "lat,lng[,label]"
	KindOrderCard  Kind = 4 // body: an order card (JSON, opaque to the server)
	KindMenuChoice Kind = 5 // body: the chosen menu item id
	KindSystem     Kind = 6 // server notices (handoff, agent joined, ...)
)

// Valid reports whether k is a kind a client may send.
func (k Kind) Valid() bool { return k >= KindText && k <= KindMenuChoice }

// Text reports whether the body of a message of kind k is text, which must
// be valid UTF-8: text, location, menu choice and system notices. Image
// references and order cards are opaque bytes to the server.
func (k Kind) Text() bool {
	switch k {
	case KindText, KindLocation, KindMenuChoice, KindSystem:
		return true
	}
	return false
}

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindImage:
		return "image"
	case KindLocation:
		return "location"
	case KindOrderCard:
		return "order-card"
	case KindMenuChoice:
		return "menu-choice"
	case KindSystem:
		return "system"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// AgentState is an agent's availability.
type AgentState uint8

// Agent states.
const (
	AgentOnline AgentState = 1
	AgentAway   AgentState = 2
)

// Code is an error code carried by an Error frame.
type Code uint16

// Error codes. 1xx are connection-fatal (the server closes after sending),
// 2xx refuse one request and the connection goes on.
const (
	CodeBadFrame     Code = 100 // undecodable frame or payload
	CodeTooLarge     Code = 101 // frame over the size limit
	CodeNotHello     Code = 102 // a message before hello
	CodeAuth         Code = 103 // hello refused (bad token, unknown tenant)
	CodeSlowReader   Code = 104 // outbound buffer over its bound
	CodeIdle         Code = 105 // no traffic within the idle timeout
	CodeShutdown     Code = 106 // the server is stopping
	CodeDupHello     Code = 107 // hello sent twice
	CodeUnknownType  Code = 108 // a type byte this server does not know
	CodeRateLimited  Code = 109 // too many frames
	CodeOverloaded   Code = 110 // the server sheds this connection
	CodeFrameTimeout Code = 111 // a frame begun and not finished in time (slow-loris)
	CodeBadText      Code = 112 // invalid UTF-8 where text is required
	CodeForbidden    Code = 200 // not a participant / another tenant
	CodeUnknownConv  Code = 201 // no such conversation
	CodeBadRequest   Code = 202 // a valid frame the server cannot act on
	CodeClosed       Code = 203 // the conversation is closed
	CodeNoAgent      Code = 204 // transfer target cannot take the chat
	CodeWrongRole    Code = 205 // the message is not for this role
	CodeInternal     Code = 206 // the server failed (e.g. store)
	CodeUnknownGroup Code = 207 // no such skill group
	CodeBusy         Code = 208 // refused at capacity (no new chats now); retry later
)

// Fatal reports whether the server closes the connection after this error.
func (c Code) Fatal() bool { return c >= 100 && c < 200 }

// ResumePoint names a conversation and the last sequence a client holds of it.
type ResumePoint struct {
	Conv uint64
	Seq  uint64
}

func appendResume(dst []byte, rp []ResumePoint) []byte {
	dst = appendUvarint(dst, uint64(len(rp)))
	for _, p := range rp {
		dst = appendUvarint(dst, p.Conv)
		dst = appendUvarint(dst, p.Seq)
	}
	return dst
}

func (d *decoder) resume(dst []ResumePoint) []ResumePoint {
	n := d.count("resume", 2)
	dst = dst[:0]
	for i := 0; i < n && d.err == nil; i++ {
		dst = append(dst, ResumePoint{Conv: d.uvarint("resume conv"), Seq: d.uvarint("resume seq")})
	}
	return dst
}

// Hello starts a session: who the client is, and what it already holds.
// Resume lists, for each conversation the client was in, the last sequence
// it received; the server replays what follows, in order.
type Hello struct {
	Role   Role
	Tenant string
	User   string
	Device string
	Token  string
	Resume []ResumePoint
}

// Ready answers Hello: the session is established. Convs lists the user's
// active conversations with their latest sequence, so a client that lost
// its state can resume them.
type Ready struct {
	ServerTime  int64 // unix nanoseconds
	HeartbeatMS uint64
	MaxFrame    uint64
	Convs       []ResumePoint
}

// Open asks the server to open a conversation for a customer. The server
// answers with an Ack (ClientID, Conv) and the tenant's Menu.
type Open struct {
	ClientID uint64
	Channel  string // "app", "web", "mini-program", ...
	Group    string // skill-group hint for a later handoff
}

// Message is a chat message sent by a client into a conversation. ClientID
// is unique per sender; a retry with the same id is acknowledged again and
// never stored twice.
type Message struct {
	ClientID uint64
	Conv     uint64
	Kind     Kind
	Body     []byte
}

// Ack confirms that request ClientID took effect in Conv at Seq (0 for
// requests that are not stored messages).
type Ack struct {
	ClientID   uint64
	Conv       uint64
	Seq        uint64
	ServerTime int64
}

// Delivery is a stored conversation message pushed to a participant.
type Delivery struct {
	Conv       uint64
	Seq        uint64
	Sender     []byte
	SenderRole Role
	Kind       Kind
	ClientID   uint64 // the sender's ClientID (0 for bot and system)
	ServerTime int64
	Body       []byte
}

// MenuItem is one choice of a navigation menu.
type MenuItem struct {
	ID    string
	Label string
}

// Menu is the tenant's navigation menu, sent when a conversation opens and
// when the bot did not understand.
type Menu struct {
	Conv  uint64
	Title string
	Items []MenuItem
}

// Transfer asks for a conversation to move to another agent or skill group.
// A customer's Transfer (no target) asks for a person.
type Transfer struct {
	ClientID uint64
	Conv     uint64
	ToAgent  string
	ToGroup  string
}

// Assignment tells an agent a conversation is theirs, with the transcript so
// far; a customer receives it without transcript when an agent joins.
type Assignment struct {
	Conv       uint64
	Agent      string
	Customer   string
	Group      string
	Transcript []Delivery
}

// QueuePosition tells a waiting customer where they stand.
type QueuePosition struct {
	Conv     uint64
	Group    string
	Position uint64
}

// Close ends a conversation (client to server), or tells a participant that
// it ended (server to client).
type Close struct {
	ClientID uint64
	Conv     uint64
	Reason   string
}

// AgentStatus sets an agent's availability, concurrent-chat limit and skill
// groups (empty: the groups the tenant configures for the agent, else all).
type AgentStatus struct {
	State    AgentState
	MaxChats uint64
	Groups   []string
}

// Ping is a heartbeat; the peer answers with a Pong carrying the same Nonce.
type Ping struct{ Nonce uint64 }

// Pong answers a Ping.
type Pong struct{ Nonce uint64 }

// Error reports a refused request (ClientID set) or a connection fault.
type Error struct {
	Code     Code
	ClientID uint64
	Text     string
}

// Broadcast is a tenant-wide announcement to every connected customer.
type Broadcast struct {
	ID         uint64
	ServerTime int64
	Kind       Kind
	Body       []byte
}

// Watch subscribes a supervisor to skill groups (empty: all of the tenant's).
type Watch struct {
	Groups []string
}

// Resume asks, on an established session, for the deliveries after each
// point, as a hello's resume list does.
type Resume struct {
	Points []ResumePoint
}

// Msg is implemented by every message type.
type Msg interface {
	// Type is the message's type byte.
	Type() Type
	// AppendFrame appends the whole frame (header included) to dst.
	AppendFrame(dst []byte) []byte
	// Decode sets the message from a payload (the body after the type byte).
	Decode(payload []byte) error
}

// New returns a zero message of type t, or nil for an unknown type.
func New(t Type) Msg {
	switch t {
	case THello:
		return &Hello{}
	case TReady:
		return &Ready{}
	case TOpen:
		return &Open{}
	case TMessage:
		return &Message{}
	case TAck:
		return &Ack{}
	case TDelivery:
		return &Delivery{}
	case TMenu:
		return &Menu{}
	case TTransfer:
		return &Transfer{}
	case TAssignment:
		return &Assignment{}
	case TQueuePosition:
		return &QueuePosition{}
	case TClose:
		return &Close{}
	case TAgentStatus:
		return &AgentStatus{}
	case TPing:
		return &Ping{}
	case TPong:
		return &Pong{}
	case TError:
		return &Error{}
	case TBroadcast:
		return &Broadcast{}
	case TWatch:
		return &Watch{}
	case TResume:
		return &Resume{}
	}
	return nil
}

// Decode decodes a frame body into a newly allocated message. Servers on a
// hot path decode into reused values with Parse and Msg.Decode instead.
func Decode(body []byte) (Msg, error) {
	t, payload, err := Parse(body)
	if err != nil {
		return nil, err
	}
	m := New(t)
	if err := m.Decode(payload); err != nil {
		return nil, fmt.Errorf("decode %s: %w", t, err)
	}
	return m, nil
}

// Type implements Msg.
func (*Hello) Type() Type { return THello }

// Type implements Msg.
func (*Ready) Type() Type { return TReady }

// Type implements Msg.
func (*Open) Type() Type { return TOpen }

// Type implements Msg.
func (*Message) Type() Type { return TMessage }

// Type implements Msg.
func (*Ack) Type() Type { return TAck }

// Type implements Msg.
func (*Delivery) Type() Type { return TDelivery }

// Type implements Msg.
func (*Menu) Type() Type { return TMenu }

// Type implements Msg.
func (*Transfer) Type() Type { return TTransfer }

// Type implements Msg.
func (*Assignment) Type() Type { return TAssignment }

// Type implements Msg.
func (*QueuePosition) Type() Type { return TQueuePosition }

// Type implements Msg.
func (*Close) Type() Type { return TClose }

// Type implements Msg.
func (*AgentStatus) Type() Type { return TAgentStatus }

// Type implements Msg.
func (*Ping) Type() Type { return TPing }

// Type implements Msg.
func (*Pong) Type() Type { return TPong }

// Type implements Msg.
func (*Error) Type() Type { return TError }

// Type implements Msg.
func (*Broadcast) Type() Type { return TBroadcast }

// Type implements Msg.
func (*Watch) Type() Type { return TWatch }

// Type implements Msg.
func (*Resume) Type() Type { return TResume }

// AppendFrame implements Msg.
func (m *Hello) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, THello)
	dst = append(dst, byte(m.Role))
	dst = appendString(dst, m.Tenant)
	dst = appendString(dst, m.User)
	dst = appendString(dst, m.Device)
	dst = appendString(dst, m.Token)
	dst = appendResume(dst, m.Resume)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Hello) Decode(p []byte) error {
	d := decoder{b: p}
	m.Role = Role(d.byte1("role"))
	m.Tenant = d.str("tenant")
	m.User = d.str("user")
	m.Device = d.str("device")
	m.Token = d.str("token")
	m.Resume = d.resume(m.Resume)
	return d.err
}

// AppendFrame implements Msg.
func (m *Ready) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TReady)
	dst = appendUvarint(dst, uint64(m.ServerTime))
	dst = appendUvarint(dst, m.HeartbeatMS)
	dst = appendUvarint(dst, m.MaxFrame)
	dst = appendResume(dst, m.Convs)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Ready) Decode(p []byte) error {
	d := decoder{b: p}
	m.ServerTime = int64(d.uvarint("server time"))
	m.HeartbeatMS = d.uvarint("heartbeat")
	m.MaxFrame = d.uvarint("max frame")
	m.Convs = d.resume(m.Convs)
	return d.err
}

// AppendFrame implements Msg.
func (m *Open) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TOpen)
	dst = appendUvarint(dst, m.ClientID)
	dst = appendString(dst, m.Channel)
	dst = appendString(dst, m.Group)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Open) Decode(p []byte) error {
	d := decoder{b: p}
	m.ClientID = d.uvarint("client id")
	m.Channel = d.str("channel")
	m.Group = d.str("group")
	return d.err
}

// AppendFrame implements Msg.
func (m *Message) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TMessage)
	dst = appendUvarint(dst, m.ClientID)
	dst = appendUvarint(dst, m.Conv)
	dst = append(dst, byte(m.Kind))
	dst = appendBytes(dst, m.Body)
	return endFrame(dst, s)
}

// Decode implements Msg. Body aliases p. The body of a text kind (see
// Kind.Text) must be valid UTF-8, else the error is ErrBadText.
func (m *Message) Decode(p []byte) error {
	d := decoder{b: p}
	m.ClientID = d.uvarint("client id")
	m.Conv = d.uvarint("conv")
	m.Kind = Kind(d.byte1("kind"))
	m.Body = d.bytes("body")
	if d.err == nil && m.Kind.Text() && !utf8.Valid(m.Body) {
		return errBadBody
	}
	return d.err
}

// errBadBody is returned by Message.Decode, preallocated: a client sending
// bad text costs the server no allocation to refuse it.
var errBadBody = fmt.Errorf("%w in message body (a text kind)", ErrBadText)

// AppendFrame implements Msg.
func (m *Ack) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TAck)
	dst = appendUvarint(dst, m.ClientID)
	dst = appendUvarint(dst, m.Conv)
	dst = appendUvarint(dst, m.Seq)
	dst = appendUvarint(dst, uint64(m.ServerTime))
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Ack) Decode(p []byte) error {
	d := decoder{b: p}
	m.ClientID = d.uvarint("client id")
	m.Conv = d.uvarint("conv")
	m.Seq = d.uvarint("seq")
	m.ServerTime = int64(d.uvarint("server time"))
	return d.err
}

func (m *Delivery) appendPayload(dst []byte) []byte {
	dst = appendUvarint(dst, m.Conv)
	dst = appendUvarint(dst, m.Seq)
	dst = appendBytes(dst, m.Sender)
	dst = append(dst, byte(m.SenderRole), byte(m.Kind))
	dst = appendUvarint(dst, m.ClientID)
	dst = appendUvarint(dst, uint64(m.ServerTime))
	return appendBytes(dst, m.Body)
}

func (m *Delivery) decode(d *decoder) {
	m.Conv = d.uvarint("conv")
	m.Seq = d.uvarint("seq")
	m.Sender = d.bytes("sender")
	m.SenderRole = Role(d.byte1("sender role"))
	m.Kind = Kind(d.byte1("kind"))
	m.ClientID = d.uvarint("client id")
	m.ServerTime = int64(d.uvarint("server time"))
	m.Body = d.bytes("body")
}

// AppendFrame implements Msg.
func (m *Delivery) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TDelivery)
	dst = m.appendPayload(dst)
	return endFrame(dst, s)
}

// Decode implements Msg. Sender and Body alias p.
func (m *Delivery) Decode(p []byte) error {
	d := decoder{b: p}
	m.decode(&d)
	return d.err
}

// AppendFrame implements Msg.
func (m *Menu) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TMenu)
	dst = appendUvarint(dst, m.Conv)
	dst = appendString(dst, m.Title)
	dst = appendUvarint(dst, uint64(len(m.Items)))
	for _, it := range m.Items {
		dst = appendString(dst, it.ID)
		dst = appendString(dst, it.Label)
	}
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Menu) Decode(p []byte) error {
	d := decoder{b: p}
	m.Conv = d.uvarint("conv")
	m.Title = d.str("title")
	n := d.count("items", 2)
	m.Items = m.Items[:0]
	for i := 0; i < n && d.err == nil; i++ {
		m.Items = append(m.Items, MenuItem{ID: d.str("item id"), Label: d.str("item label")})
	}
	return d.err
}

// AppendFrame implements Msg.
func (m *Transfer) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TTransfer)
	dst = appendUvarint(dst, m.ClientID)
	dst = appendUvarint(dst, m.Conv)
	dst = appendString(dst, m.ToAgent)
	dst = appendString(dst, m.ToGroup)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Transfer) Decode(p []byte) error {
	d := decoder{b: p}
	m.ClientID = d.uvarint("client id")
	m.Conv = d.uvarint("conv")
	m.ToAgent = d.str("to agent")
	m.ToGroup = d.str("to group")
	return d.err
}

// AppendFrame implements Msg.
func (m *Assignment) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TAssignment)
	dst = appendUvarint(dst, m.Conv)
	dst = appendString(dst, m.Agent)
	dst = appendString(dst, m.Customer)
	dst = appendString(dst, m.Group)
	dst = appendUvarint(dst, uint64(len(m.Transcript)))
	for i := range m.Transcript {
		dst = m.Transcript[i].appendPayload(dst)
	}
	return endFrame(dst, s)
}

// Decode implements Msg. The transcript's byte fields alias p.
func (m *Assignment) Decode(p []byte) error {
	d := decoder{b: p}
	m.Conv = d.uvarint("conv")
	m.Agent = d.str("agent")
	m.Customer = d.str("customer")
	m.Group = d.str("group")
	n := d.count("transcript", 8)
	m.Transcript = m.Transcript[:0]
	for i := 0; i < n && d.err == nil; i++ {
		var dl Delivery
		dl.decode(&d)
		m.Transcript = append(m.Transcript, dl)
	}
	return d.err
}

// AppendFrame implements Msg.
func (m *QueuePosition) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TQueuePosition)
	dst = appendUvarint(dst, m.Conv)
	dst = appendString(dst, m.Group)
	dst = appendUvarint(dst, m.Position)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *QueuePosition) Decode(p []byte) error {
	d := decoder{b: p}
	m.Conv = d.uvarint("conv")
	m.Group = d.str("group")
	m.Position = d.uvarint("position")
	return d.err
}

// AppendFrame implements Msg.
func (m *Close) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TClose)
	dst = appendUvarint(dst, m.ClientID)
	dst = appendUvarint(dst, m.Conv)
	dst = appendString(dst, m.Reason)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Close) Decode(p []byte) error {
	d := decoder{b: p}
	m.ClientID = d.uvarint("client id")
	m.Conv = d.uvarint("conv")
	m.Reason = d.str("reason")
	return d.err
}

// AppendFrame implements Msg.
func (m *AgentStatus) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TAgentStatus)
	dst = append(dst, byte(m.State))
	dst = appendUvarint(dst, m.MaxChats)
	dst = appendStrings(dst, m.Groups)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *AgentStatus) Decode(p []byte) error {
	d := decoder{b: p}
	m.State = AgentState(d.byte1("state"))
	m.MaxChats = d.uvarint("max chats")
	m.Groups = d.strings("groups", m.Groups)
	return d.err
}

// AppendFrame implements Msg.
func (m *Ping) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TPing)
	dst = appendUvarint(dst, m.Nonce)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Ping) Decode(p []byte) error {
	d := decoder{b: p}
	m.Nonce = d.uvarint("nonce")
	return d.err
}

// AppendFrame implements Msg.
func (m *Pong) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TPong)
	dst = appendUvarint(dst, m.Nonce)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Pong) Decode(p []byte) error {
	d := decoder{b: p}
	m.Nonce = d.uvarint("nonce")
	return d.err
}

// AppendFrame implements Msg.
func (m *Error) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TError)
	dst = appendUvarint(dst, uint64(m.Code))
	dst = appendUvarint(dst, m.ClientID)
	dst = appendString(dst, m.Text)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Error) Decode(p []byte) error {
	d := decoder{b: p}
	c := d.uvarint("code")
	if c > 0xffff {
		d.fail("code")
	}
	m.Code = Code(c)
	m.ClientID = d.uvarint("client id")
	m.Text = d.str("text")
	return d.err
}

// AppendFrame implements Msg.
func (m *Broadcast) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TBroadcast)
	dst = appendUvarint(dst, m.ID)
	dst = appendUvarint(dst, uint64(m.ServerTime))
	dst = append(dst, byte(m.Kind))
	dst = appendBytes(dst, m.Body)
	return endFrame(dst, s)
}

// Decode implements Msg. Body aliases p.
func (m *Broadcast) Decode(p []byte) error {
	d := decoder{b: p}
	m.ID = d.uvarint("id")
	m.ServerTime = int64(d.uvarint("server time"))
	m.Kind = Kind(d.byte1("kind"))
	m.Body = d.bytes("body")
	return d.err
}

// AppendFrame implements Msg.
func (m *Watch) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TWatch)
	dst = appendStrings(dst, m.Groups)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Watch) Decode(p []byte) error {
	d := decoder{b: p}
	m.Groups = d.strings("groups", m.Groups)
	return d.err
}

// AppendFrame implements Msg.
func (m *Resume) AppendFrame(dst []byte) []byte {
	dst, s := beginFrame(dst, TResume)
	dst = appendResume(dst, m.Points)
	return endFrame(dst, s)
}

// Decode implements Msg.
func (m *Resume) Decode(p []byte) error {
	d := decoder{b: p}
	m.Points = d.resume(m.Points)
	return d.err
}

// Compile-time checks that every message implements Msg.
var (
	_ Msg = (*Hello)(nil)
	_ Msg = (*Ready)(nil)
	_ Msg = (*Open)(nil)
	_ Msg = (*Message)(nil)
	_ Msg = (*Ack)(nil)
	_ Msg = (*Delivery)(nil)
	_ Msg = (*Menu)(nil)
	_ Msg = (*Transfer)(nil)
	_ Msg = (*Assignment)(nil)
	_ Msg = (*QueuePosition)(nil)
	_ Msg = (*Close)(nil)
	_ Msg = (*AgentStatus)(nil)
	_ Msg = (*Ping)(nil)
	_ Msg = (*Pong)(nil)
	_ Msg = (*Error)(nil)
	_ Msg = (*Broadcast)(nil)
	_ Msg = (*Watch)(nil)
	_ Msg = (*Resume)(nil)
)
