package behavior

import (
	"bytes"
	"math"
	"strconv"
)

// replyStamp begins the body of every reply an agent sends (not its
// greeting): "re <seq> ", the sequence of the customer message it
// answers. The protocol has no field for it; a person reading the chat
// tells an answer from a greeting by what it says, and the simulated
// customer does so by the stamp.
const replyStamp = "re "

// replyBody returns the body of a reply to sequence seq of about size
// bytes: the stamp, padded with scratch letters to size (longer than size
// only when size is too small for the stamp). It is valid until the next
// call.
func (e *Env) replyBody(seq uint64, size int) []byte {
	b := append(e.reply[:0], replyStamp...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, ' ')
	for len(b) < size {
		b = append(b, 'a'+byte(len(b)%26))
	}
	e.reply = b
	return b
}

// parseReply returns the sequence a reply's body says it answers, and
// false for a body without the stamp (a greeting, or a message bench did
// not make).
func parseReply(body []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(body, []byte(replyStamp))
	if !ok {
		return 0, false
	}
	var seq uint64
	for _, ch := range rest {
		if ch == ' ' && seq != 0 {
			return seq, true
		}
		d := uint64(ch - '0')
		if ch < '0' || ch > '9' || seq > (math.MaxUint64-d)/10 {
			return 0, false
		}
		seq = seq*10 + d
	}
	return 0, false
}
