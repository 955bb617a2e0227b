// Package store keeps conversation messages for the desk core: it assigns
// conversation ids, appends each message under its sequence, remembers the
// client ids it has seen so a retry is not stored twice, and serves a resume
// from a sequence.
//
// Two implementations, one per Durability: Mem keeps everything in memory
// (durability none: lost when the process ends); Pebble keeps it on disk in
// a pebble database (OpenPebble), with durability sync (the server calls
// Sync, a group commit, before it acknowledges) or batch (a background sync
// every few milliseconds; a crash may lose the last interval).
package store

import (
	"errors"

	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// ErrUnknownConv is returned for a conversation the store does not hold.
var ErrUnknownConv = errors.New("store: unknown conversation")

// ErrOutOfOrder is returned when an appended sequence is not the next one.
var ErrOutOfOrder = errors.New("store: sequence out of order")

// Record is one stored conversation message. Body is owned by the store once
// appended: the caller must not change it afterwards.
type Record struct {
	Conv       uint64
	Seq        uint64
	Sender     string
	SenderRole wire.Role
	Kind       wire.Kind
	ClientID   uint64
	Time       int64 // unix nanoseconds, server time
	Body       []byte
}

// Store is what the desk core needs of a message store. Implementations are
// safe for concurrent use by several desks (one per tenant).
type Store interface {
	// NewConv allocates a conversation id, unique in the store.
	NewConv() (uint64, error)
	// Append stores r; r.Seq must follow the conversation's last sequence.
	Append(r *Record) error
	// Lookup returns the sequence under which sender's request clientID was
	// stored in conv, if it was.
	Lookup(conv uint64, sender string, clientID uint64) (seq uint64, ok bool)
	// Since calls fn, in order, for each record of conv after sequence
	// after, until fn returns false. The record passed is valid only during
	// the call.
	Since(conv, after uint64, fn func(*Record) bool) error
	// Forget drops a conversation (closed and past retention): its
	// records, its client ids and its saved state.
	Forget(conv uint64) error
	// SaveConv stores the desk's state of conversation conv of tenant, an
	// opaque encoding the store keeps as given (it copies meta), replacing
	// what was saved before. The desk calls it on each change of the
	// conversation's life (opened, queued, assigned, transferred, closed),
	// so a restarted server rebuilds its conversations from it.
	SaveConv(tenant string, conv uint64, meta []byte) error
	// Convs calls fn for each conversation of tenant with saved state, in
	// increasing id order, with the sequence of its last record (0: none)
	// and the state last saved; meta is valid only during the call. An
	// error from fn stops the walk and is returned.
	Convs(tenant string, fn func(conv, last uint64, meta []byte) error) error
	// Sync makes everything appended or saved before the call durable: on
	// disk, surviving the process and the machine. A store without disk
	// (Mem) returns nil at once. Concurrent calls share one disk sync
	// (group commit).
	Sync() error
	// Close releases the store's resources.
	Close() error
}
