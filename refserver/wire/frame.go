// Package wire is swarmdesk's frame codec: the binary, length-prefixed
// protocol spoken between clients (customers, agents, supervisors, the bench
// swarm) and a customer-service connection server. It does no I/O beyond
// reading frames from an io.Reader; the format is specified in PROTOCOL.md
// beside this file, with hex test vectors that the tests decode and re-encode.
//
// Encoding appends to a caller's buffer and decoding of the hot-path messages
// (Message, Delivery, Ack, Ping, Pong, Broadcast) aliases the input: their
// []byte fields point into the frame and are valid only as long as it is.
// Copy what must outlive the frame. Decoding refuses text that is not valid
// UTF-8 (ErrBadText): every str field, and the body of a text kind.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// HeaderSize is the size of the length prefix that starts every frame.
const HeaderSize = 4

// DefaultMaxFrame is the default bound on a frame's body (type byte and
// payload): large enough for an order card or a transcript page, small
// enough that one connection cannot make the server buffer much.
const DefaultMaxFrame = 64 << 10

// HardMaxFrame is the largest body any peer may be configured to accept.
const HardMaxFrame = 16 << 20

// Errors returned by the codec. They are matched with errors.Is.
var (
	// ErrShort means the buffer holds only part of a frame: read more.
	ErrShort = errors.New("wire: short frame")
	// ErrTooLarge means a frame's declared length exceeds the limit.
	ErrTooLarge = errors.New("wire: frame too large")
	// ErrEmpty means a frame declared a zero-length body (no type byte).
	ErrEmpty = errors.New("wire: empty frame")
	// ErrUnknownType means the frame's type byte names no message.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrMalformed means a payload could not be decoded.
	ErrMalformed = errors.New("wire: malformed payload")
	// ErrBadText means a text field (a str, or the body of a text kind)
	// is not valid UTF-8. The error names the field.
	ErrBadText = errors.New("wire: invalid UTF-8")
)

// Split looks at the start of data for one whole frame no larger than max
// body bytes. It returns the frame's body (type byte and payload, aliasing
// data) and the number of bytes the frame occupies. When data holds only part
// of a frame it returns ErrShort; a declared length over max is ErrTooLarge,
// reported as soon as the header is seen, so a peer cannot make the reader
// wait for (or buffer) an oversize frame.
func Split(data []byte, max int) (body []byte, n int, err error) {
	if len(data) < HeaderSize {
		return nil, 0, ErrShort
	}
	l := binary.BigEndian.Uint32(data)
	if l == 0 {
		return nil, 0, ErrEmpty
	}
	if uint64(l) > uint64(max) {
		return nil, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, l, max)
	}
	end := HeaderSize + int(l)
	if len(data) < end {
		return nil, 0, ErrShort
	}
	return data[HeaderSize:end], end, nil
}

// FrameLen returns the total size of the frame starting at data, once its
// header is there, after checking the declared length against max.
func FrameLen(data []byte, max int) (int, error) {
	if len(data) < HeaderSize {
		return 0, ErrShort
	}
	l := binary.BigEndian.Uint32(data)
	if l == 0 {
		return 0, ErrEmpty
	}
	if uint64(l) > uint64(max) {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, l, max)
	}
	return HeaderSize + int(l), nil
}

// ReadFrame reads one frame from r into buf (grown when too small) and
// returns its body, which aliases the returned buffer.
func ReadFrame(r io.Reader, buf []byte, max int) (body, newBuf []byte, err error) {
	if cap(buf) < HeaderSize {
		buf = make([]byte, 0, 512)
	}
	buf = buf[:HeaderSize]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, buf, err
	}
	total, err := FrameLen(buf, max)
	if err != nil {
		return nil, buf, err
	}
	if cap(buf) < total {
		nb := make([]byte, total)
		copy(nb, buf[:HeaderSize])
		buf = nb
	}
	buf = buf[:total]
	if _, err := io.ReadFull(r, buf[HeaderSize:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, buf, err
	}
	return buf[HeaderSize:], buf, nil
}

// Parse splits a frame body into its type and payload.
func Parse(body []byte) (Type, []byte, error) {
	if len(body) == 0 {
		return 0, nil, ErrEmpty
	}
	t := Type(body[0])
	if !t.Valid() {
		return t, nil, fmt.Errorf("%w: %d", ErrUnknownType, body[0])
	}
	return t, body[1:], nil
}

// beginFrame appends a placeholder header and the type byte; endFrame fills
// in the length once the payload is appended.
func beginFrame(dst []byte, t Type) ([]byte, int) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, byte(t))
	return dst, start
}

func endFrame(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-HeaderSize))
	return dst
}

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads fields from a payload; the first error sticks, so a decode
// function reads every field and checks err once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail(what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bytes(what string) []byte {
	l := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if l > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	v := d.b[:l:l]
	d.b = d.b[l:]
	return v
}

// str reads a str field, which must be valid UTF-8: a peer may not make
// the server store or relay bytes that are not text where text is due.
func (d *decoder) str(what string) string {
	b := d.bytes(what)
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.err = fmt.Errorf("%w in %s", ErrBadText, what)
		d.b = nil
		return ""
	}
	return string(b)
}

// count reads a list length and bounds it by the bytes left, each item
// taking at least minItem bytes, so a forged count cannot force a large
// allocation.
func (d *decoder) count(what string, minItem int) int {
	n := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minItem) {
		d.fail(what)
		return 0
	}
	return int(n)
}

func (d *decoder) strings(what string, dst []string) []string {
	n := d.count(what, 1)
	dst = dst[:0]
	for i := 0; i < n && d.err == nil; i++ {
		dst = append(dst, d.str(what))
	}
	return dst
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = appendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}
