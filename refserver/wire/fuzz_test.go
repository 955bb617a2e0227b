package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"
)

// FuzzFrames feeds an arbitrary byte stream to the frame functions and
// checks they agree on it: Split over the whole stream, ReadFrame reading
// it whole and a byte at a time, and Split over the stream as a transport
// sees it, arriving in chunks of random sizes, yield the same frame bodies
// and end in the same way, for a large and a small frame limit.
func FuzzFrames(f *testing.F) {
	for _, s := range frameSeeds() {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, max := range []int{DefaultMaxFrame, 16} {
			want, end := splitAll(t, data, max)
			for name, r := range map[string]io.Reader{
				"whole":            bytes.NewReader(data),
				"a byte at a time": iotest.OneByteReader(bytes.NewReader(data)),
			} {
				got, err := readAll(r, max)
				if !slices.EqualFunc(got, want, bytes.Equal) {
					t.Fatalf("max %d, ReadFrame %s: %d frames, Split %d", max, name, len(got), len(want))
				}
				if !sameEnd(err, end, len(data) == consumed(want)) {
					t.Fatalf("max %d, ReadFrame %s ended with %v, Split with %v", max, name, err, end)
				}
			}
			got, err := splitChunked(data, max, rand.New(rand.NewPCG(uint64(len(data)), 1)))
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("max %d, chunked Split: %d frames, whole %d", max, len(got), len(want))
			}
			if !errors.Is(err, end) {
				t.Fatalf("max %d, chunked Split ended with %v, whole with %v", max, err, end)
			}
		}
	})
}

// splitAll splits data into frame bodies until Split fails, checking what
// each split returns, and returns the bodies and that failure.
func splitAll(t *testing.T, data []byte, max int) ([][]byte, error) {
	var bodies [][]byte
	for {
		body, n, err := Split(data, max)
		total, lerr := FrameLen(data, max)
		if err != nil {
			switch {
			case !errors.Is(err, ErrShort):
				if baseErr(lerr) != baseErr(err) {
					t.Fatalf("Split failed with %v, FrameLen with %v", err, lerr)
				}
			case lerr == nil && total <= len(data):
				t.Fatalf("Split says short, FrameLen says %d of %d bytes", total, len(data))
			}
			return bodies, baseErr(err)
		}
		if len(body) == 0 || len(body) > max || n != HeaderSize+len(body) || lerr != nil || total != n {
			t.Fatalf("Split returned %d body bytes in %d (limit %d), FrameLen %d, %v", len(body), n, max, total, lerr)
		}
		if !bytes.Equal(body, data[HeaderSize:n]) || binary.BigEndian.Uint32(data) != uint32(len(body)) {
			t.Fatal("Split's body is not the bytes after the header")
		}
		bodies = append(bodies, body)
		data = data[n:]
	}
}

// baseErr maps an error of the frame functions to its sentinel.
func baseErr(err error) error {
	for _, e := range []error{ErrShort, ErrEmpty, ErrTooLarge} {
		if errors.Is(err, e) {
			return e
		}
	}
	return err
}

func consumed(bodies [][]byte) int {
	n := 0
	for _, b := range bodies {
		n += HeaderSize + len(b)
	}
	return n
}

// readAll reads frames until ReadFrame fails; the bodies are copies.
func readAll(r io.Reader, max int) ([][]byte, error) {
	var bodies [][]byte
	var buf []byte
	for {
		body, nb, err := ReadFrame(r, buf, max)
		buf = nb
		if err != nil {
			return bodies, err
		}
		bodies = append(bodies, slices.Clone(body))
	}
}

// sameEnd reports whether ReadFrame's final error matches Split's: a
// stream ending between frames is io.EOF, one ending inside a frame
// io.ErrUnexpectedEOF; a bad header is the same error for both.
func sameEnd(readErr, splitEnd error, atBoundary bool) bool {
	if errors.Is(splitEnd, ErrShort) {
		if atBoundary {
			return readErr == io.EOF
		}
		return errors.Is(readErr, io.ErrUnexpectedEOF)
	}
	return errors.Is(readErr, splitEnd)
}

// splitChunked delivers data in chunks of random sizes to a buffer and
// splits whole frames off it as they complete, as a transport does; it
// stops at the first error other than ErrShort, or at the end of data.
func splitChunked(data []byte, max int, rng *rand.Rand) ([][]byte, error) {
	var bodies [][]byte
	var buf []byte
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(2*HeaderSize+8))
		buf = append(buf, data[:n]...)
		data = data[n:]
		for {
			body, used, err := Split(buf, max)
			if errors.Is(err, ErrShort) {
				break
			}
			if err != nil {
				return bodies, baseErr(err)
			}
			bodies = append(bodies, slices.Clone(body))
			buf = buf[used:]
		}
	}
	return bodies, ErrShort
}

type seed struct {
	name string
	data []byte
}

// decodeSeeds are FuzzDecode's seed corpus: each protocol test vector, and
// frames the codec must refuse.
func decodeSeeds() []seed {
	var ss []seed
	for _, s := range samples {
		ss = append(ss, seed{"vector-" + s.name, s.msg.AppendFrame(nil)})
	}
	return append(ss,
		seed{"unknown-type", []byte{0, 0, 0, 1, 200}},
		seed{"huge-header", []byte{0xff, 0xff, 0xff, 0xff}},
		seed{"bad-utf8-hello", (&Hello{Role: RoleCustomer, Tenant: "demo\xff", User: "u"}).AppendFrame(nil)},
		seed{"bad-utf8-text", (&Message{ClientID: 1, Conv: 2, Kind: KindText, Body: []byte{0xe4, 0xbd}}).AppendFrame(nil)},
		seed{"forged-count", []byte{0, 0, 0, 5, byte(TWatch), 0xff, 0xff, 0xff, 0x0f}},
	)
}

// frameSeeds are FuzzFrames' seed corpus: every vector in one stream, cut
// short, with a zero-length and an oversize header, and single frames.
func frameSeeds() []seed {
	var stream []byte
	for _, s := range samples {
		stream = s.msg.AppendFrame(stream)
	}
	ss := []seed{
		{"all-vectors", stream},
		{"all-vectors-cut", stream[:len(stream)-3]},
		{"cut-in-header", stream[:len(samples[0].msg.AppendFrame(nil))+2]},
		{"then-empty", append(slices.Clone(stream[:20]), 0, 0, 0, 0)},
		{"then-oversize", append((&Ping{Nonce: 1}).AppendFrame(nil), 0, 1, 0, 1, byte(TPing))},
		{"small-limit-edge", append((&Error{Code: CodeNotHello, Text: "0123456789"}).AppendFrame(nil), (&Error{Code: CodeNotHello, Text: "01234567890"}).AppendFrame(nil)...)},
		{"empty", nil},
	}
	for _, s := range samples[:4] {
		ss = append(ss, seed{"vector-" + s.name, s.msg.AppendFrame(nil)})
	}
	return ss
}

// corpusFile is a seed in the `go test fuzz v1` format of one []byte.
func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestFuzzCorpus checks that testdata/fuzz holds the seed corpora generated
// from the protocol's samples (rewritten by -update), so the corpora
// follow the protocol.
func TestFuzzCorpus(t *testing.T) {
	checkCorpus(t, "FuzzDecode", decodeSeeds())
	checkCorpus(t, "FuzzFrames", frameSeeds())
}

func checkCorpus(t *testing.T, fuzzName string, seeds []seed) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", fuzzName)
	for _, s := range seeds {
		path := filepath.Join(dir, s.name)
		want := corpusFile(s.data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (go test ./refserver/wire -run TestFuzzCorpus -update): %v", path, err)
		}
	}
}
