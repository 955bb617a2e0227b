package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// The Pebble store's key layout. Ids are big-endian so that a conversation's
// keys sort together and its messages sort by sequence.
//
//	c conv(8)                      -> uvarint len(tenant) tenant meta
//	d conv(8) clientID(8) sender   -> seq(8)
//	m conv(8) seq(8)               -> record (appendRecord)
//	n                              -> conversation id high-water mark(8)
const (
	prefixConv   = 'c'
	prefixDedupe = 'd'
	prefixMsg    = 'm'
	keyNextConv  = "n"

	convKeyLen = 1 + 8
	msgKeyLen  = 1 + 8 + 8
)

// recordFormat is the first byte of every stored record, so a later layout
// can be told apart.
const recordFormat = 1

// ErrCorrupt is wrapped by the errors of data read back from disk that does
// not decode.
var ErrCorrupt = errors.New("store: corrupt data")

// corruptError names the key whose value (or the key itself) does not
// decode.
type corruptError struct {
	key []byte
	why string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("store: corrupt data under key %s: %s", fmtKey(e.key), e.why)
}

func (e *corruptError) Unwrap() error { return ErrCorrupt }

func corrupt(key []byte, why string) error {
	return &corruptError{key: append([]byte(nil), key...), why: why}
}

// fmtKey renders a key readably: m/conv/seq, d/conv/clientID/sender,
// c/conv, n; anything else in hex.
func fmtKey(k []byte) string {
	if len(k) == 0 {
		return "(empty)"
	}
	be := binary.BigEndian
	switch {
	case k[0] == prefixMsg && len(k) == msgKeyLen:
		return fmt.Sprintf("m/%d/%d", be.Uint64(k[1:]), be.Uint64(k[9:]))
	case k[0] == prefixConv && len(k) == convKeyLen:
		return fmt.Sprintf("c/%d", be.Uint64(k[1:]))
	case k[0] == prefixDedupe && len(k) >= convKeyLen+8:
		return fmt.Sprintf("d/%d/%d/%q", be.Uint64(k[1:]), be.Uint64(k[9:]), k[17:])
	case string(k) == keyNextConv:
		return keyNextConv
	}
	return fmt.Sprintf("%x", k)
}

func appendConvPrefix(dst []byte, prefix byte, conv uint64) []byte {
	dst = append(dst, prefix)
	return binary.BigEndian.AppendUint64(dst, conv)
}

func appendMsgKey(dst []byte, conv, seq uint64) []byte {
	dst = appendConvPrefix(dst, prefixMsg, conv)
	return binary.BigEndian.AppendUint64(dst, seq)
}

func appendDedupeKey(dst []byte, conv, clientID uint64, sender string) []byte {
	dst = appendConvPrefix(dst, prefixDedupe, conv)
	dst = binary.BigEndian.AppendUint64(dst, clientID)
	return append(dst, sender...)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil when there is none (prefix all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// appendRecord encodes r's fields other than Conv and Seq, which the key
// holds: format, role, kind, uvarint client id, varint time, then sender
// and body, each uvarint length-prefixed.
func appendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, recordFormat, byte(r.SenderRole), byte(r.Kind))
	dst = binary.AppendUvarint(dst, r.ClientID)
	dst = binary.AppendVarint(dst, r.Time)
	dst = binary.AppendUvarint(dst, uint64(len(r.Sender)))
	dst = append(dst, r.Sender...)
	dst = binary.AppendUvarint(dst, uint64(len(r.Body)))
	return append(dst, r.Body...)
}

// decodeRecord decodes the record stored under key (an m key) into r. Body
// aliases v. Sender is a fresh string unless it equals *prevSender, which
// is then reused (a conversation has few senders); *prevSender is updated.
func decodeRecord(key, v []byte, r *Record, prevSender *string) error {
	if len(key) != msgKeyLen {
		return corrupt(key, fmt.Sprintf("message key of %d bytes, want %d", len(key), msgKeyLen))
	}
	r.Conv = binary.BigEndian.Uint64(key[1:])
	r.Seq = binary.BigEndian.Uint64(key[9:])
	if len(v) < 3 {
		return corrupt(key, fmt.Sprintf("record of %d bytes is too short", len(v)))
	}
	if v[0] != recordFormat {
		return corrupt(key, fmt.Sprintf("record format %d, want %d", v[0], recordFormat))
	}
	r.SenderRole, r.Kind = wire.Role(v[1]), wire.Kind(v[2])
	v = v[3:]
	var n int
	if r.ClientID, n = binary.Uvarint(v); n <= 0 {
		return corrupt(key, "bad client id")
	}
	v = v[n:]
	if r.Time, n = binary.Varint(v); n <= 0 {
		return corrupt(key, "bad time")
	}
	v = v[n:]
	sender, v, ok := lenPrefixed(v)
	if !ok {
		return corrupt(key, "bad sender length")
	}
	if string(sender) != *prevSender {
		*prevSender = string(sender)
	}
	r.Sender = *prevSender
	body, v, ok := lenPrefixed(v)
	if !ok {
		return corrupt(key, "bad body length")
	}
	if len(v) != 0 {
		return corrupt(key, fmt.Sprintf("%d trailing bytes after the record", len(v)))
	}
	r.Body = body
	return nil
}

// lenPrefixed splits a uvarint length-prefixed field off v.
func lenPrefixed(v []byte) (field, rest []byte, ok bool) {
	l, n := binary.Uvarint(v)
	if n <= 0 || l > uint64(len(v)-n) {
		return nil, v, false
	}
	v = v[n:]
	return v[:l:l], v[l:], true
}

// appendConvState encodes a conversation's saved state.
func appendConvState(dst []byte, tenant string, meta []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(tenant)))
	dst = append(dst, tenant...)
	return append(dst, meta...)
}

// decodeConvState splits the state saved under key (a c key) into tenant
// and meta (both aliasing v).
func decodeConvState(key, v []byte) (tenant, meta []byte, err error) {
	tenant, meta, ok := lenPrefixed(v)
	if !ok {
		return nil, nil, corrupt(key, "bad tenant length")
	}
	return tenant, meta, nil
}
