package conform

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/tenant"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// suite is every case, in the order Run runs them.
var suite = []testCase{
	{"session/hello-ready", sessionHelloReady},
	{"session/ping-pong", sessionPingPong},
	{"session/not-hello", sessionNotHello},
	{"session/dup-hello", sessionDupHello},
	{"session/unknown-tenant", sessionUnknownTenant},
	{"session/trailing-bytes", sessionTrailingBytes},

	{"tokens/valid", tokensValid},
	{"tokens/missing", tokenRefused("missing", "missing")},
	{"tokens/forged", tokenRefused("forged", "signature does not match")},
	{"tokens/other-user", tokenRefused("other-user", "signature does not match")},
	{"tokens/other-role", tokenRefused("other-role", "signature does not match")},
	{"tokens/expired", tokenRefused("expired", "expired")},

	{"customer/open", customerOpen},
	{"customer/sequence", customerSequence},
	{"customer/menu-choice", customerMenuChoice},

	{"dedupe/message-retry", dedupeMessageRetry},
	{"dedupe/open-retry", dedupeOpenRetry},

	{"multi-device/fanout", multiDeviceFanout},

	{"resume/hello", resumeHello},
	{"resume/ready-convs", resumeReadyConvs},
	{"resume/message", resumeMessage},
	{"resume/not-yours", resumeNotYours},

	{"routing/assignment", routingAssignment},
	{"routing/chat", routingChat},
	{"routing/queue", routingQueue},
	{"routing/reconnect", routingReconnect},

	{"errors/too-large", errorsTooLarge},
	{"errors/bad-frame", errorsBadFrame},
	{"errors/unknown-type", errorsUnknownType},
	{"errors/bad-text", errorsBadText},
	{"errors/wrong-role", errorsWrongRole},
	{"errors/forbidden", errorsForbidden},
	{"errors/unknown-conv", errorsUnknownConv},
}

// session/hello-ready: hello is answered by ready, with a heartbeat and a
// frame limit, and no conversations for a user never seen (Session 2).
func sessionHelloReady(t *caseRun) {
	for _, role := range []wire.Role{wire.RoleCustomer, wire.RoleAgent} {
		_, r := t.connect(role.String(), role, t.user(role.String()), "phone")
		if r.HeartbeatMS == 0 {
			t.Errorf("%s: ready.heartbeat_ms is 0, want > 0", role)
		}
		if r.MaxFrame == 0 {
			t.Errorf("%s: ready.max_frame is 0, want > 0", role)
		}
		if len(r.Convs) != 0 {
			t.Errorf("%s: ready.convs of a new user lists %v, want none", role, r.Convs)
		}
	}
}

// session/ping-pong: a ping is answered by a pong with its nonce
// (Session 3), small nonces and large.
func sessionPingPong(t *caseRun) {
	p, _ := t.connect("customer", wire.RoleCustomer, t.user("c"), "phone")
	for _, nonce := range []uint64{7, 1<<63 | rand.Uint64()} {
		p.send(&wire.Ping{Nonce: nonce})
		pong := expect[*wire.Pong](p, fmt.Sprintf("pong %d", nonce))
		if pong.Nonce != nonce {
			t.Errorf("ping %d was answered by pong %d, want the same nonce", nonce, pong.Nonce)
		}
	}
}

// session/not-hello: anything before hello gets error 102 and a close
// (Session 1).
func sessionNotHello(t *caseRun) {
	p := t.dial("client")
	p.send(&wire.Ping{Nonce: 1})
	p.closedWith(wire.CodeNotHello, "a ping before hello")
}

// session/dup-hello: a second hello is error 107 (Session 4), fatal as
// every 1xx error.
func sessionDupHello(t *caseRun) {
	user := t.user("c")
	p, _ := t.connect("customer", wire.RoleCustomer, user, "phone")
	p.send(t.hello(wire.RoleCustomer, user, "phone"))
	p.closedWith(wire.CodeDupHello, "a second hello")
}

// session/unknown-tenant: a hello to a tenant the server does not serve
// gets error 103 and a close (Session 2).
func sessionUnknownTenant(t *caseRun) {
	p := t.dial("customer")
	p.send(&wire.Hello{Role: wire.RoleCustomer, Tenant: t.cfg.Prefix + "-no-such-tenant", User: t.user("c"), Device: "phone"})
	p.closedWith(wire.CodeAuth, "a hello to an unknown tenant")
}

// session/trailing-bytes: receivers ignore payload bytes after the last
// field they know, so that later versions may append fields (Transport
// and framing): a hello and a ping with bytes appended work as without.
func sessionTrailingBytes(t *caseRun) {
	p := t.dial("customer")
	p.sendRaw(withTrailer(t.hello(wire.RoleCustomer, t.user("c"), "phone").AppendFrame(nil), 1, 2, 3))
	expect[*wire.Ready](p, "ready (the answer to a hello with 3 bytes appended)")
	const nonce = 4242
	p.sendRaw(withTrailer((&wire.Ping{Nonce: nonce}).AppendFrame(nil), 0x80, 0x01, 0))
	if pong := expect[*wire.Pong](p, "pong (the answer to a ping with 3 bytes appended)"); pong.Nonce != nonce {
		t.Errorf("a ping %d with bytes appended was answered by pong %d, want the same nonce", nonce, pong.Nonce)
	}
}

// withTrailer appends extra bytes to the payload of a whole frame.
func withTrailer(frame []byte, extra ...byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(frame)-wire.HeaderSize+len(extra)))
	out = append(out, frame[wire.HeaderSize:]...)
	return append(out, extra...)
}

// needSecret skips a token case when the tenant is open.
func needSecret(t *caseRun) {
	if t.cfg.Secret == "" {
		t.Skipf("no secret given (--secret): the tenant is taken to be open, admitting any hello and ignoring its token, so tokens cannot be checked")
	}
}

// tokens/valid: a hello with a genuine token is admitted (Tokens).
func tokensValid(t *caseRun) {
	needSecret(t)
	for _, role := range []wire.Role{wire.RoleCustomer, wire.RoleAgent} {
		user := t.user(role.String())
		p := t.dial(role.String())
		p.send(&wire.Hello{Role: role, Tenant: t.cfg.Tenant, User: user, Device: "phone", Token: t.token(role, user)})
		expect[*wire.Ready](p, "ready (the answer to a hello with a valid token)")
	}
}

// tokenRefused returns the case of a bad token: error 103 whose text is
// "bad token: " and why (Tokens), and a close.
func tokenRefused(kind, why string) func(*caseRun) {
	return func(t *caseRun) {
		needSecret(t)
		user := t.user("c")
		role := wire.RoleCustomer
		later := time.Now().Add(time.Hour)
		var token, what string
		switch kind {
		case "missing":
			what = "a hello without a token"
		case "forged":
			token = tenant.SignToken(t.cfg.Secret+"-but-another", t.cfg.Tenant, role, user, later)
			what = "a hello whose token is signed with another secret"
		case "other-user":
			token = tenant.SignToken(t.cfg.Secret, t.cfg.Tenant, role, t.user("someone-else"), later)
			what = "a hello with another user's token"
		case "other-role":
			token = tenant.SignToken(t.cfg.Secret, t.cfg.Tenant, wire.RoleCustomer, user, later)
			role = wire.RoleAgent
			what = "an agent's hello with a customer's token"
		case "expired":
			token = tenant.SignToken(t.cfg.Secret, t.cfg.Tenant, role, user, time.Now().Add(-time.Hour))
			what = "a hello whose token expired an hour ago"
		}
		p := t.dial(role.String())
		p.send(&wire.Hello{Role: role, Tenant: t.cfg.Tenant, User: user, Device: "phone", Token: token})
		text := p.closedWith(wire.CodeAuth, what)
		if want := "bad token: " + why; !strings.HasPrefix(text, want) {
			t.Errorf("error 103 has the text %q, want %q (PROTOCOL.md, Tokens)", text, want)
		}
	}
}
