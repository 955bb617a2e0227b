package bot

import (
	"unicode"
	"unicode/utf8"
)

// Text processing, shared by indexing and querying so both see the same terms.
//
// A question is first normalised (normalize): full-width ASCII is folded to
// half-width, letters are lowercased, Chinese modal particles (的, 了, 吗, ...)
// and every run of non-word characters (punctuation, symbols, emoji, spaces)
// become one ASCII space. The tokenizer then walks the normalised bytes in
// place and yields three kinds of term, each hashed to a uint64 on the fly:
//
//   - a Latin word or number, lightly stemmed (stem);
//   - every single CJK character (weighted low: alone it says little);
//   - every pair of adjacent CJK characters (a bigram: Chinese has no spaces,
//     and most Chinese words are two characters long, so bigrams approximate
//     words without a dictionary).
//
// Particles act as separators, so no bigram straddles them ("订单的状态"
// gives 订单 and 状态, not the meaningless 单的 and 的状).

// maxQuestionBytes bounds the part of a question the bot looks at. Customer
// messages are short; the bound keeps a hostile multi-megabyte message from
// costing more than a normal one.
const maxQuestionBytes = 2048

// tokKind is the kind of a term.
type tokKind uint8

const (
	kindWord   tokKind = iota + 1 // Latin word or number
	kindHan                       // single CJK character
	kindBigram                    // two adjacent CJK characters
)

// token is one term of a normalised text: its kind, its hash, and its text
// (for a word, the stem: text+suffix is the term). text points into the
// normalised bytes, or to a constant for the words contractions stand for.
type token struct {
	kind   tokKind
	hash   uint64
	text   []byte
	suffix byte
}

// String returns the term as text, for tests and debugging.
func (t token) String() string {
	if t.suffix != 0 {
		return string(t.text) + string(t.suffix)
	}
	return string(t.text)
}

// isCJK reports whether r is written without spaces between words and is
// therefore indexed by characters and bigrams.
func isCJK(r rune) bool {
	if r >= 0x4E00 && r <= 0x9FFF { // CJK Unified Ideographs, the common case
		return true
	}
	if r < 0x2E80 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// isParticle reports whether r is a Chinese modal or structural particle that
// carries no topic. Particles are treated as separators.
func isParticle(r rune) bool {
	switch r {
	case '的', '了', '吗', '呢', '吧', '啊', '呀', '哦', '嘛', '啦', '哈', '噢', '哇', '喔':
		return true
	}
	return false
}

// isASCIIWord reports whether c belongs to a Latin word or number.
func isASCIIWord(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// normalize appends the normalised form of s to dst and returns the result.
// At most maxQuestionBytes of s are read. The result holds lowercase words,
// CJK characters and single spaces, with no leading or trailing space.
func normalize(dst []byte, s string) []byte {
	if len(s) > maxQuestionBytes {
		s = s[:maxQuestionBytes] // a rune cut in half decodes as RuneError: a separator
	}
	sep := true // the last byte written is a separator (or nothing was written)
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII variants
			r -= 0xFEE0
		}
		if r < utf8.RuneSelf {
			c := byte(r)
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if isASCIIWord(c) {
				dst = append(dst, c)
				sep = false
				continue
			}
		} else if isCJK(r) {
			if !isParticle(r) {
				dst = utf8.AppendRune(dst, r)
				sep = false
				continue
			}
		} else if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
			sep = false
			continue
		}
		if !sep {
			dst = append(dst, ' ')
			sep = true
		}
	}
	if n := len(dst); n > 0 && dst[n-1] == ' ' {
		dst = dst[:n-1]
	}
	return dst
}

// tokenizer yields the terms of a normalised text without allocating.
type tokenizer struct {
	s       []byte
	i       int
	prev    int   // start of the previous CJK character, or -1 after anything else
	pend    token // term to return next: the unigram after a bigram, "not" after "has"
	hasPend bool
}

// newTokenizer returns a tokenizer over normalised text s.
func newTokenizer(s []byte) tokenizer {
	return tokenizer{s: s, prev: -1}
}

// next returns the next term, or false at the end of the text.
func (t *tokenizer) next() (token, bool) {
	if t.hasPend {
		t.hasPend = false
		return t.pend, true
	}
	for t.i < len(t.s) {
		c := t.s[t.i]
		if c == ' ' {
			t.prev = -1
			t.i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(t.s[t.i:])
			if isCJK(r) {
				at := t.i
				t.i += n
				uni := token{kind: kindHan, hash: hashHan(r), text: t.s[at:t.i]}
				prev := t.prev
				t.prev = at
				if prev < 0 {
					return uni, true
				}
				p, _ := utf8.DecodeRune(t.s[prev:])
				t.pend, t.hasPend = uni, true
				return token{kind: kindBigram, hash: hashBigram(p, r), text: t.s[prev:t.i]}, true
			}
		}
		// A word: up to a space or a CJK character.
		t.prev = -1
		start := t.i
		ascii := true
		for t.i < len(t.s) {
			c := t.s[t.i]
			if c == ' ' {
				break
			}
			if c >= utf8.RuneSelf {
				r, n := utf8.DecodeRune(t.s[t.i:])
				if isCJK(r) {
					break
				}
				ascii = false
				t.i += n
				continue
			}
			if c < 'a' {
				ascii = false // a digit: numbers are not stemmed
			}
			t.i++
		}
		w := t.s[start:t.i]
		if len(w) == 1 && w[0] >= 'a' {
			continue // a lone letter: the s of "what's", a stray "a" or "i"
		}
		if !ascii {
			return token{kind: kindWord, hash: hashWord(w, 0), text: w}, true
		}
		if neg := t.negation(w); neg > 0 {
			// "hasn't" was normalised to "hasn t": yield "has", then "not".
			t.pend, t.hasPend = token{kind: kindWord, hash: notHash, text: wordNot}, true
			t.i += 2
			w = w[:neg]
			if string(w) == "wo" { // won't
				return token{kind: kindWord, hash: willHash, text: wordWill}, true
			}
		}
		n, suffix := stem(w)
		return token{kind: kindWord, hash: hashWord(w[:n], suffix), text: w[:n], suffix: suffix}, true
	}
	return token{}, false
}

// The words English contractions stand for, and their hashes.
var (
	wordNot  = []byte("not")
	wordWill = []byte("will")
	notHash  = hashWord(wordNot, 0)
	willHash = hashWord(wordWill, 0)
)

// negation reports whether word w, just scanned, is the first half of a
// contraction in n't ("isn't" normalises to "isn t"), and if so returns the
// length of the verb: 2 for "isn", 3 for "can" (can't), 0 when w is no such
// word.
func (t *tokenizer) negation(w []byte) int {
	n := len(w)
	if n < 2 || w[n-1] != 'n' || t.i+1 >= len(t.s) || t.s[t.i] != ' ' || t.s[t.i+1] != 't' {
		return 0
	}
	if j := t.i + 2; j < len(t.s) && t.s[j] != ' ' && t.s[j] < utf8.RuneSelf {
		return 0 // "...n tea": a word that merely starts with t
	}
	if string(w) == "can" {
		return 3
	}
	if n < 3 {
		return 0
	}
	return n - 1
}

// stem strips common English inflections from w, a lowercase ASCII word, so
// that "refunds", "refunded" and "refunding" meet "refund". It returns the
// length of the stem within w and an optional byte to append ("deliveries"
// gives "deliver" + 'y'). It is deliberately light, far from Porter's: it
// only has to map a word and its inflections to the same term, and is applied
// to the index and the queries alike, so an odd stem ("chang") does no harm.
func stem(w []byte) (int, byte) {
	n := len(w)
	if n <= 3 {
		return n, 0
	}
	switch {
	case hasSuffix(w, "sses"):
		n -= 2
	case n > 4 && hasSuffix(w, "ies"):
		return n - 3, 'y'
	case hasSuffix(w, "xes") || hasSuffix(w, "ches") || hasSuffix(w, "shes"):
		n -= 2
	case w[n-1] == 's' && w[n-2] != 's' && w[n-2] != 'u' && w[n-2] != 'i':
		n--
	}
	switch {
	case n >= 6 && hasSuffix(w[:n], "ing") && hasVowel(w[:n-3]):
		n = undouble(w, n-3)
	case n >= 5 && hasSuffix(w[:n], "ed") && hasVowel(w[:n-2]):
		n = undouble(w, n-2)
	}
	if n >= 5 && w[n-1] == 'e' {
		n--
	}
	return n, 0
}

func hasSuffix(w []byte, suf string) bool {
	return len(w) >= len(suf) && string(w[len(w)-len(suf):]) == suf
}

func hasVowel(w []byte) bool {
	for _, c := range w {
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			return true
		}
	}
	return false
}

// undouble drops the last letter of w[:n] when it doubles a consonant, as
// "shipp(ed)" and "cancell(ed)" do; "miss(ed)" keeps its s.
func undouble(w []byte, n int) int {
	if n >= 3 && w[n-1] == w[n-2] {
		switch w[n-1] {
		case 'a', 'e', 'i', 'o', 'u', 's', 'z':
			return n
		}
		if w[n-1] >= 'a' && w[n-1] <= 'z' {
			return n - 1
		}
	}
	return n
}

// Hashing. Each kind of term is tagged with its kind before the final mix, so
// a word and a character are different terms even when their bytes agree.
// Collisions are left to the 64-bit hash: for vocabularies of thousands of
// terms they are vanishingly rare, and a collision would only blur two terms.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix is the splitmix64 finaliser: it spreads every input bit over the
// output, so the low bits index an open-addressing table well.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	if x == 0 {
		x = 1 // 0 marks an empty slot in the term table
	}
	return x
}

func hashWord(w []byte, suffix byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range w {
		h = (h ^ uint64(c)) * fnvPrime
	}
	if suffix != 0 {
		h = (h ^ uint64(suffix)) * fnvPrime
	}
	return mix(h ^ uint64(kindWord)<<56)
}

func hashHan(r rune) uint64 {
	return mix(uint64(r) | uint64(kindHan)<<56)
}

func hashBigram(a, b rune) uint64 {
	return mix(uint64(a)<<21 | uint64(b) | uint64(kindBigram)<<56)
}
