package tenant

import (
	"bufio"
	"encoding/base64"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// tokenVector reads the token test vector of PROTOCOL.md: the lines of its
// ```token block, "key: value".
func tokenVector(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../wire/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "```token":
			in = true
		case in && line == "```":
			return v
		case in:
			k, val, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("token vector line %q is not key: value", line)
			}
			v[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	t.Fatal("PROTOCOL.md has no ```token vector block")
	return nil
}

// TestTokenVector: the vector in PROTOCOL.md is what SignToken makes, and
// VerifyToken accepts it until its expiry and not from then on.
func TestTokenVector(t *testing.T) {
	v := tokenVector(t)
	for _, k := range []string{"secret", "tenant", "role", "user", "expires", "token"} {
		if v[k] == "" {
			t.Fatalf("token vector lacks %s: %v", k, v)
		}
	}
	roles := map[string]wire.Role{"customer": wire.RoleCustomer, "agent": wire.RoleAgent, "supervisor": wire.RoleSupervisor}
	role, ok := roles[v["role"]]
	if !ok {
		t.Fatalf("token vector role %q", v["role"])
	}
	secs, err := strconv.ParseInt(v["expires"], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(secs, 0)
	if got := SignToken(v["secret"], v["tenant"], role, v["user"], exp); got != v["token"] {
		t.Fatalf("SignToken = %s, vector %s", got, v["token"])
	}
	if err := VerifyToken(v["secret"], v["tenant"], role, v["user"], v["token"], exp.Add(-time.Second)); err != nil {
		t.Fatalf("the vector's token refused a second before expiry: %v", err)
	}
	if err := VerifyToken(v["secret"], v["tenant"], role, v["user"], v["token"], exp); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("the vector's token at its expiry: %v, want expired", err)
	}
}

func TestVerifyToken(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	now := time.Unix(1_790_000_000, 0)
	good := SignToken(secret, "acme", wire.RoleAgent, "alice", now.Add(time.Hour))
	exp, mac, _ := strings.Cut(good, ".")
	raw, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		t.Fatal(err)
	}
	raw[7] ^= 1
	flip := base64.RawURLEncoding.EncodeToString(raw)
	tests := []struct {
		name           string
		secret, tenant string
		role           wire.Role
		user, token    string
		want           error
	}{
		{"genuine", secret, "acme", wire.RoleAgent, "alice", good, nil},
		{"missing", secret, "acme", wire.RoleAgent, "alice", "", ErrTokenMissing},
		{"another secret", "another-secret-0123456", "acme", wire.RoleAgent, "alice", good, ErrTokenForged},
		{"another tenant", secret, "acme2", wire.RoleAgent, "alice", good, ErrTokenForged},
		{"another role", secret, "acme", wire.RoleSupervisor, "alice", good, ErrTokenForged},
		{"another user", secret, "acme", wire.RoleAgent, "alice2", good, ErrTokenForged},
		{"expiry moved later", secret, "acme", wire.RoleAgent, "alice", strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + "." + mac, ErrTokenForged},
		{"one MAC bit flipped", secret, "acme", wire.RoleAgent, "alice", exp + "." + flip, ErrTokenForged},
		{"expired", secret, "acme", wire.RoleAgent, "alice", SignToken(secret, "acme", wire.RoleAgent, "alice", now.Add(-time.Second)), ErrTokenExpired},
		{"no dot", secret, "acme", wire.RoleAgent, "alice", exp + mac, ErrTokenMalformed},
		{"expiry with a sign", secret, "acme", wire.RoleAgent, "alice", "+" + good, ErrTokenMalformed},
		{"expiry not a number", secret, "acme", wire.RoleAgent, "alice", "soon." + mac, ErrTokenMalformed},
		{"padded base64", secret, "acme", wire.RoleAgent, "alice", good + "=", ErrTokenMalformed},
		{"short MAC", secret, "acme", wire.RoleAgent, "alice", exp + "." + mac[:20], ErrTokenMalformed},
		// The user is signed whole: a newline in it cannot shift a field.
		{"user with newline", secret, "acme", wire.RoleAgent, "alice\n" + exp, SignToken(secret, "acme", wire.RoleAgent, "alice", now.Add(time.Hour)), ErrTokenForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyToken(tt.secret, tt.tenant, tt.role, tt.user, tt.token, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifyToken = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRuntimeVerifyToken: a tenant without a secret is open; one with a
// secret wants a token.
func TestRuntimeVerifyToken(t *testing.T) {
	now := time.Now()
	open := &Runtime{Config: Config{ID: "demo"}}
	if err := open.VerifyToken(wire.RoleCustomer, "c1", "", now); err != nil {
		t.Fatalf("a tenant without a secret refused a hello without token: %v", err)
	}
	closed := &Runtime{Config: Config{ID: "acme", Secret: "0123456789abcdef-secret"}}
	if err := closed.VerifyToken(wire.RoleCustomer, "c1", "", now); !errors.Is(err, ErrTokenMissing) {
		t.Fatalf("a tenant with a secret accepted a hello without token: %v", err)
	}
	tok := SignToken(closed.Config.Secret, "acme", wire.RoleCustomer, "c1", now.Add(time.Minute))
	if err := closed.VerifyToken(wire.RoleCustomer, "c1", tok, now); err != nil {
		t.Fatalf("genuine token refused: %v", err)
	}
}

func TestShortSecretInvalid(t *testing.T) {
	c := Demo()
	c.Secret = "short"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("Validate with a 5-byte secret = %v, want a secret error", err)
	}
	c.Secret = "long-enough-secret-0123"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	const secret = "0123456789abcdef-secret"
	now := time.Unix(1_790_000_000, 0)
	tok := SignToken(secret, "acme", wire.RoleAgent, "alice", now.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyToken(secret, "acme", wire.RoleAgent, "alice", tok, now); err != nil {
			b.Fatal(err)
		}
	}
}
