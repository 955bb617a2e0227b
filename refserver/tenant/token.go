package tenant

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// Token errors, matched with errors.Is. A server answers every one of them
// with the same protocol error (103, "bad token"), so a client learns no
// more than that its token was refused.
var (
	// ErrTokenMissing: the tenant has a secret and the hello carries no token.
	ErrTokenMissing = errors.New("tenant: token missing")
	// ErrTokenMalformed: the token is not "<expiry>.<mac>".
	ErrTokenMalformed = errors.New("tenant: token malformed")
	// ErrTokenForged: the token's signature does not match its claims.
	ErrTokenForged = errors.New("tenant: token signature does not match")
	// ErrTokenExpired: the token was genuine but its expiry has passed.
	ErrTokenExpired = errors.New("tenant: token expired")
)

// MinSecretLen is the shortest tenant secret Validate accepts: HMAC-SHA256
// with a shorter key is only as strong as the key.
const MinSecretLen = 16

// tokenPrefix starts the signed text, naming the scheme and its version so
// a MAC of this scheme is never valid for another use of the same secret.
const tokenPrefix = "swarmdesk-token-v1\n"

// SignToken returns a token that lets user connect to tenantID in role
// until expires (to the second, rounded down), signed with the tenant's
// secret. The format, specified in refserver/wire/PROTOCOL.md, is
//
//	<expiry: decimal Unix seconds>.<base64url, unpadded, of the MAC>
//	MAC = HMAC-SHA256(secret, "swarmdesk-token-v1\n" + tenant + "\n" +
//	                          role + "\n" + user + "\n" + expiry)
//
// where role is the role's name ("customer", "agent", "supervisor") and
// expiry the same decimal text as in the token.
func SignToken(secret, tenantID string, role wire.Role, user string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	mac := tokenMAC(secret, tenantID, role, user, exp)
	return exp + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// VerifyToken checks that token was signed with secret for user of
// tenantID in role, and that it has not expired at now (the server's
// clock): a token is valid while now is before its expiry. The signature is
// compared in constant time, and checked before the expiry, so only a
// genuine token is ever reported as expired.
func VerifyToken(secret, tenantID string, role wire.Role, user, token string, now time.Time) error {
	if token == "" {
		return ErrTokenMissing
	}
	exp, sig, ok := strings.Cut(token, ".")
	if !ok {
		return fmt.Errorf("%w: no '.'", ErrTokenMalformed)
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(secs, 10) != exp {
		return fmt.Errorf("%w: expiry %q is not canonical decimal seconds", ErrTokenMalformed, exp)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: the MAC is not %d bytes of unpadded base64url", ErrTokenMalformed, sha256.Size)
	}
	if !hmac.Equal(got, tokenMAC(secret, tenantID, role, user, exp)) {
		return ErrTokenForged
	}
	if now.Unix() >= secs {
		return fmt.Errorf("%w at %s", ErrTokenExpired, time.Unix(secs, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

func tokenMAC(secret, tenantID string, role wire.Role, user, exp string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	// A tenant id holds no '\n' (Validate) and the expiry is digits, so
	// the fields are separated unambiguously whatever the user id holds.
	for _, s := range []string{tokenPrefix, tenantID, "\n", role.String(), "\n", user, "\n", exp} {
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

// VerifyToken checks a hello's token against the tenant's secret (see the
// package function VerifyToken). A tenant without a secret accepts any
// token, or none: it is open, as the demo tenant is.
func (rt *Runtime) VerifyToken(role wire.Role, user, token string, now time.Time) error {
	if rt.Config.Secret == "" {
		return nil
	}
	return VerifyToken(rt.Config.Secret, rt.Config.ID, role, user, token, now)
}
