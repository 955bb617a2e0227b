package behavior

import (
	"bytes"
	"strconv"
	"time"
)

// broadcastStamp begins every broadcast body bench sends.
const broadcastStamp = "swarmdesk-broadcast "

// BroadcastBody returns the body of an admin broadcast of about size bytes
// that carries its intended and actual send times (scenario time), so that
// each customer receiving it measures its latency from both, corrected and
// raw, as for every other metric. It is padded to size, and longer than
// size only when size is too small for the stamp.
func BroadcastBody(intended, sent time.Time, size int) []byte {
	b := make([]byte, 0, max(size, 64))
	b = append(b, broadcastStamp...)
	b = strconv.AppendInt(b, intended.UnixNano(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, sent.UnixNano(), 10)
	b = append(b, ' ')
	for len(b) < size {
		b = append(b, 'a'+byte(len(b)%26))
	}
	return b
}

// parseBroadcast returns the send times a BroadcastBody carries, and false
// for a body bench did not make (an operator's own broadcast).
func parseBroadcast(body []byte) (intended, sent time.Time, ok bool) {
	rest, found := bytes.CutPrefix(body, []byte(broadcastStamp))
	if !found {
		return time.Time{}, time.Time{}, false
	}
	var ns [2]int64
	for i := range ns {
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			return time.Time{}, time.Time{}, false
		}
		v, err := strconv.ParseInt(string(rest[:end]), 10, 64)
		if err != nil {
			return time.Time{}, time.Time{}, false
		}
		ns[i], rest = v, rest[end+1:]
	}
	return time.Unix(0, ns[0]).UTC(), time.Unix(0, ns[1]).UTC(), true
}
