package bot

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
)

// Entry is one FAQ entry of a knowledge base: the ways customers ask one
// question, and the answer to give.
type Entry struct {
	ID        string   `yaml:"id"`
	Questions []string `yaml:"questions"`      // question variants (paraphrases), at least one
	Answer    string   `yaml:"answer"`         // what the bot replies
	Link      string   `yaml:"link,omitempty"` // optional menu item id the answer points to
}

// Match is the knowledge base's best guess for a question.
type Match struct {
	// Entry is the best entry, nil when no term of the question occurs in
	// the knowledge base at all. It belongs to the knowledge base: do not
	// modify it.
	Entry *Entry
	// Score is the raw BM25 score of the entry's best question variant. It
	// ranks entries for one question but is not comparable across
	// questions; use Confidence for that.
	Score float64
	// Confidence says how well the entry answers the question, in [0,1],
	// comparably across questions: compare it with a threshold. See
	// KnowledgeBase.Match.
	Confidence float64
}

// BM25 parameters: the usual values. k1 bounds how much repeating a term in
// a variant helps; b how much a long variant is penalised.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Scoring constants, measured on the held-out probes of the sample
// knowledge base (see TestSampleHeldout and the package documentation).
const (
	// variantShare is the weight of the best variant's BM25 score in an
	// entry's confidence; the rest is the entry's coverage of the question.
	// Variant score alone misses questions whose words are spread over an
	// entry's paraphrases ("how many days does delivery take": "how many
	// days" in one variant, "delivery take" in another); coverage alone
	// cannot tell a close paraphrase from a bag of shared words.
	variantShare = 0.5
	// unknownBigramWeight is how much a CJK bigram the knowledge base has
	// never seen counts against confidence, relative to an unknown word.
	// About half the bigrams of Chinese text straddle two words (们给, 货要)
	// and say nothing, so an unseen bigram is as likely noise as an unseen
	// word. Every other term counts fully: single CJK characters were
	// measured at weights 0.2 to 1 and do best at 1.
	unknownBigramWeight = 0.5
)

// stopWords are terms that say nothing about a question's topic: English
// function words and greetings, Chinese greetings (single letters such as
// "a" and "I" never become terms at all). They are dropped from
// questions and the index alike, so "hi, where's my order please" is the
// same question as "where order". Interrogatives (how, when, where, why,
// 怎么, 什么) are kept: "when" and "where" tell apart delivery time and
// order status.
var stopWords = []string{
	"an", "the", "is", "are", "am", "was", "were", "be", "been", "being",
	"im", "me", "my", "mine", "you", "your", "we", "our", "us", "it", "its", "they", "them",
	"to", "of", "in", "on", "at", "for", "with", "from", "by", "about", "as", "into",
	"and", "or", "but", "so", "if", "then", "than",
	"do", "does", "did", "done", "have", "has", "had",
	"can", "could", "would", "should", "will", "shall", "may", "might", "must",
	"this", "that", "these", "those", "there", "here",
	"please", "pls", "plz", "hi", "hello", "hey", "dear", "thanks", "thank", "thx",
	"just", "also", "still", "really", "very", "some", "any", "ok", "okay",
	"ll", "ve", "re", // of I'll, I've, you're
	"你好", "您好", "请问", "谢谢", "麻烦", "一下", "好的",
}

// stopChars are single CJK characters that, alone, say nothing about a
// question's topic: those of greetings, so that "你好" and "谢谢" are not
// questions. Their bigrams (好评, 请求) still count.
const stopChars = "你您好谢请嗯"

// stopHashes holds the hashes of stopWords' terms. It is computed once and
// never written afterwards.
var stopHashes = func() map[uint64]bool {
	m := make(map[uint64]bool, len(stopWords))
	for _, w := range stopWords {
		norm := normalize(nil, w)
		tk := newTokenizer(norm)
		for tok, ok := tk.next(); ok; tok, ok = tk.next() {
			if tok.kind != kindHan { // the characters of a stop bigram are not stop words...
				m[tok.hash] = true
			}
		}
	}
	for _, r := range stopChars { // ...unless listed here
		m[hashHan(r)] = true
	}
	return m
}()

// KnowledgeBase is an immutable BM25 index over the question variants of a
// set of entries. It is safe for concurrent use.
//
// Each question variant is a document. Term frequencies and lengths are
// per variant, but a term's inverse document frequency is computed over
// entries (how many entries have the term in any variant): an entry phrased
// five ways should not make its own words look common. An entry scores by
// its best variant and by how much of the question all its variants cover
// together (see Match).
type KnowledgeBase struct {
	entries []Entry
	byID    map[string]int

	terms      termTable
	termIDF    []float32 // per term
	postStart  []uint32  // variant postings of term t: [postStart[t], postStart[t+1])
	postDoc    []uint32  // variant of each posting
	postImpact []float32 // BM25 contribution of the term to the variant
	entStart   []uint32  // entry postings of term t: [entStart[t], entStart[t+1])
	entPost    []uint32  // entries that have the term
	entryDocs  []uint32  // variants of entry e: [entryDocs[e], entryDocs[e+1])

	avgLen     float64 // mean variant length in terms
	unknownIDF float64 // idf of a term no entry has

	pool sync.Pool // *scratch
}

// scratch is the per-call working memory of a query, reused through a pool
// so that a query allocates nothing.
type scratch struct {
	norm    []byte
	scores  []float32 // per variant: BM25 score; zero outside touched entries
	cover   []float32 // per entry: idf mass of the question's terms it has
	touched []uint32  // entries with a non-zero cover
	seen    []uint32  // per term: the epoch of the query that last saw it
	epoch   uint32
	unknown [32]uint64 // unknown terms seen in this query
}

// NewKnowledgeBase validates entries and indexes them. It returns every
// problem found, joined, each naming the entry; the entries are copied, so
// the caller may reuse its slice.
func NewKnowledgeBase(entries []Entry) (*KnowledgeBase, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrInvalidEntry)
	}
	if ps := entryProblems(entries); len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, p := range ps {
			errs[i] = fmt.Errorf("%w: entry %d (%q): %s: %s", ErrInvalidEntry, p.index, entries[p.index].ID, p.field, p.msg)
		}
		return nil, errors.Join(errs...)
	}
	kb := &KnowledgeBase{
		entries: make([]Entry, len(entries)),
		byID:    make(map[string]int, len(entries)),
	}
	for i, e := range entries {
		e.Questions = append([]string(nil), e.Questions...)
		kb.entries[i] = e
		kb.byID[e.ID] = i
	}
	kb.build()
	nt, ne := len(kb.termIDF), len(kb.entries)
	nd := int(kb.entryDocs[ne]) // variants
	kb.pool.New = func() any {
		return &scratch{
			norm:    make([]byte, 0, 256),
			scores:  make([]float32, nd),
			cover:   make([]float32, ne),
			touched: make([]uint32, 0, ne),
			seen:    make([]uint32, nt),
		}
	}
	return kb, nil
}

// build fills the index from kb.entries.
func (kb *KnowledgeBase) build() {
	type posting struct {
		doc uint32
		tf  float64
	}
	type termInfo struct {
		entries  []uint32 // entries with the term, in order
		postings []posting
	}
	ids := make(map[uint64]uint32)
	var infos []*termInfo
	var docLen []float64
	var norm []byte
	tf := make(map[uint32]float64)
	kb.entryDocs = make([]uint32, 1, len(kb.entries)+1)
	for ei := range kb.entries {
		for _, q := range kb.entries[ei].Questions {
			doc := uint32(len(docLen))
			clear(tf)
			length := 0.0
			norm = normalize(norm[:0], q)
			tk := newTokenizer(norm)
			for tok, ok := tk.next(); ok; tok, ok = tk.next() {
				if stopHashes[tok.hash] {
					continue
				}
				id, ok := ids[tok.hash]
				if !ok {
					id = uint32(len(infos))
					ids[tok.hash] = id
					infos = append(infos, &termInfo{})
				}
				tf[id]++
				length++
			}
			for id, n := range tf {
				in := infos[id]
				in.postings = append(in.postings, posting{doc, n})
				if k := len(in.entries); k == 0 || in.entries[k-1] != uint32(ei) {
					in.entries = append(in.entries, uint32(ei))
				}
			}
			docLen = append(docLen, length)
		}
		kb.entryDocs = append(kb.entryDocs, uint32(len(docLen)))
	}

	total := 0.0
	for _, l := range docLen {
		total += l
	}
	kb.avgLen = total / float64(len(docLen))
	if kb.avgLen == 0 {
		kb.avgLen = 1 // every variant is stop words only
	}
	n := float64(len(kb.entries))
	kb.unknownIDF = idf(n, 0)

	kb.terms = newTermTable(len(ids) + len(stopHashes))
	for h := range stopHashes {
		kb.terms.put(h, stopTerm)
	}
	kb.termIDF = make([]float32, len(infos))
	kb.postStart = make([]uint32, len(infos)+1)
	kb.entStart = make([]uint32, len(infos)+1)
	for h, id := range ids {
		kb.terms.put(h, id)
	}
	for id, in := range infos {
		w := idf(n, len(in.entries))
		kb.termIDF[id] = float32(w)
		for _, p := range in.postings {
			norm := bm25K1 * (1 - bm25B + bm25B*docLen[p.doc]/kb.avgLen)
			kb.postDoc = append(kb.postDoc, p.doc)
			kb.postImpact = append(kb.postImpact, float32(w*p.tf*(bm25K1+1)/(p.tf+norm)))
		}
		kb.postStart[id+1] = uint32(len(kb.postDoc))
		kb.entPost = append(kb.entPost, in.entries...)
		kb.entStart[id+1] = uint32(len(kb.entPost))
	}
}

// idf is BM25's inverse document frequency, in the variant that never goes
// negative, for a term found in df of n entries.
func idf(n float64, df int) float64 {
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// Len returns the number of entries.
func (kb *KnowledgeBase) Len() int { return len(kb.entries) }

// Entry returns the entry with the given id. The entry belongs to the
// knowledge base: do not modify it.
func (kb *KnowledgeBase) Entry(id string) (*Entry, bool) {
	i, ok := kb.byID[id]
	if !ok {
		return nil, false
	}
	return &kb.entries[i], true
}

// Match returns the knowledge base's best entry for question.
//
// Entries are ranked by confidence, which blends two measures, each in
// [0,1] and each relative to the question itself:
//
//   - the BM25 score of the entry's best question variant, divided by the
//     score a perfect match would get: a variant made of exactly the
//     question's terms, scored with the same idf and length normalisation
//     (a question found verbatim among the variants scores 1);
//   - the entry's coverage of the question: the idf-weighted share of the
//     question's terms found in any of the entry's variants.
//
// (See variantShare for the blend.) Both are normalised by the question's
// own ideal, so one threshold means the same for short and long questions,
// English and Chinese. Terms the knowledge base has never seen count
// against confidence with the idf of the rarest possible term, so an
// off-topic question ("what's the weather in Paris") that shares a common
// word with some entry still scores low; stop words count for nothing
// either way. Ties go to the entry listed first.
func (kb *KnowledgeBase) Match(question string) Match {
	sc := kb.pool.Get().(*scratch)
	sc.norm = normalize(sc.norm[:0], question)
	m, _ := kb.match(sc, sc.norm)
	kb.pool.Put(sc)
	return m
}

// match scores normalised text norm. content is false when the text has no
// term other than stop words: a greeting or a bare "thanks", not a question.
func (kb *KnowledgeBase) match(sc *scratch, norm []byte) (m Match, content bool) {
	sc.epoch++
	if sc.epoch == 0 { // wrapped: forget every stamp
		clear(sc.seen)
		sc.epoch = 1
	}
	nUnknown := 0
	var mass, qlen float64 // Σ idf and number of the distinct terms, unknown bigrams weighted
	tk := newTokenizer(norm)
	for tok, ok := tk.next(); ok; tok, ok = tk.next() {
		id, known := kb.terms.get(tok.hash)
		switch {
		case id == stopTerm:
			continue
		case !known:
			if dupUnknown(sc.unknown[:min(nUnknown, len(sc.unknown))], tok.hash) {
				continue
			}
			if nUnknown < len(sc.unknown) {
				sc.unknown[nUnknown] = tok.hash
			}
			nUnknown++
			w := 1.0
			if tok.kind == kindBigram {
				w = unknownBigramWeight
			}
			mass += w * kb.unknownIDF
			qlen += w
			continue
		}
		if sc.seen[id] == sc.epoch {
			continue
		}
		sc.seen[id] = sc.epoch
		idfw := kb.termIDF[id]
		mass += float64(idfw)
		qlen++
		start, end := kb.postStart[id], kb.postStart[id+1]
		docs, impacts := kb.postDoc[start:end], kb.postImpact[start:end]
		for i, d := range docs {
			sc.scores[d] += impacts[i]
		}
		for _, e := range kb.entPost[kb.entStart[id]:kb.entStart[id+1]] {
			if sc.cover[e] == 0 { // idf is positive: a touched entry is non-zero
				sc.touched = append(sc.touched, e)
			}
			sc.cover[e] += idfw
		}
	}
	if qlen == 0 {
		return Match{}, false
	}
	if len(sc.touched) == 0 {
		return Match{}, true
	}
	perfect := mass * (bm25K1 + 1) / (1 + bm25K1*(1-bm25B+bm25B*qlen/kb.avgLen))
	sw, cw := float32(variantShare/perfect), float32((1-variantShare)/mass)
	best, bestConf, bestScore := uint32(0), float32(-1), float32(0)
	for _, e := range sc.touched {
		cov := cw * sc.cover[e]
		sc.cover[e] = 0
		for d := kb.entryDocs[e]; d < kb.entryDocs[e+1]; d++ {
			s := sc.scores[d]
			sc.scores[d] = 0
			if c := cov + sw*s; c > bestConf || c == bestConf && d < best {
				best, bestConf, bestScore = d, c, s
			}
		}
	}
	sc.touched = sc.touched[:0]
	conf := float64(bestConf)
	switch {
	case math.IsNaN(conf): // cannot happen: mass > 0 here; be safe for callers comparing
		conf = 0
	case conf > 1: // a variant shorter than the question can beat its "perfect" score
		conf = 1
	}
	return Match{Entry: &kb.entries[kb.entryOf(best)], Score: float64(bestScore), Confidence: conf}, true
}

// entryOf returns the entry of variant d.
func (kb *KnowledgeBase) entryOf(d uint32) int {
	// The first entry whose variants end after d.
	return sort.Search(len(kb.entries), func(e int) bool { return kb.entryDocs[e+1] > d })
}

func dupUnknown(seen []uint64, h uint64) bool {
	for _, s := range seen {
		if s == h {
			return true
		}
	}
	return false
}

// stopTerm is the term id the table gives stop words.
const stopTerm = math.MaxUint32

// termTable maps term hashes to term ids: open addressing with linear
// probing over flat arrays, which is faster than a Go map for this one
// lookup per query term and allocates nothing.
type termTable struct {
	keys []uint64 // 0 marks an empty slot; hashes are never 0
	vals []uint32
	mask uint64
}

func newTermTable(n int) termTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return termTable{keys: make([]uint64, size), vals: make([]uint32, size), mask: uint64(size - 1)}
}

func (t *termTable) put(h uint64, v uint32) {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		if t.keys[i] == 0 || t.keys[i] == h {
			t.keys[i], t.vals[i] = h, v
			return
		}
	}
}

func (t *termTable) get(h uint64) (uint32, bool) {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case h:
			return t.vals[i], true
		case 0:
			return 0, false
		}
	}
}
