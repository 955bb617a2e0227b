package bot

import (
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzAsk feeds arbitrary text to Ask, Choose and Match: they must not
// panic, confidence must stay within [0,1], the reply must be well formed
// and the session must never count past MaxMisses.
func FuzzAsk(f *testing.F) {
	for _, p := range SampleHeldout() {
		f.Add(p.Question, uint8(0))
	}
	for _, s := range []string{"", " ", "人工", "１", "hasn't", "n't", "an t", "\xff\xfe", "退款😀进度", "ＲＥＦＵＮＤ", "a\u0301", "ー", "\u3000"} {
		f.Add(s, uint8(1))
	}
	kb, err := NewKnowledgeBase(SampleEntries())
	if err != nil {
		f.Fatal(err)
	}
	b, err := New(kb, SampleMenu(), DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	max := uint8(DefaultConfig().MaxMisses)
	f.Fuzz(func(t *testing.T, q string, misses uint8) {
		misses %= max + 1
		s := Session{Misses: misses}
		r := b.Ask(&s, q)
		checkReply(t, "Ask", q, r)
		if s.Misses > max || s.Misses < misses || s.Misses > misses+1 {
			t.Errorf("Ask(%q): session misses %d -> %d (max %d)", q, misses, s.Misses, max)
		}
		checkReply(t, "Choose", q, b.Choose(&s, q))
		m := kb.Match(q)
		if !(m.Confidence >= 0 && m.Confidence <= 1) || math.IsNaN(m.Score) || m.Score < 0 {
			t.Errorf("Match(%q) = %+v", q, m)
		}
		if (m.Entry == nil) != (m.Score == 0) {
			t.Errorf("Match(%q) = %+v: entry and score disagree", q, m)
		}
		norm := normalize(nil, q)
		if !utf8.Valid(norm) {
			t.Errorf("normalize(%q) = %q, invalid UTF-8", q, norm)
		}
	})
}

func checkReply(t *testing.T, op, q string, r Reply) {
	t.Helper()
	if !(r.Confidence >= 0 && r.Confidence <= 1) {
		t.Errorf("%s(%q): confidence %v outside [0,1]", op, q, r.Confidence)
	}
	switch r.Action {
	case ActionAnswer:
		if r.EntryID == "" || r.Text == "" || r.Reason != "" {
			t.Errorf("%s(%q): malformed answer %+v", op, q, r)
		}
	case ActionMenu:
		if r.Text == "" || r.EntryID != "" || r.Reason != "" {
			t.Errorf("%s(%q): malformed menu reply %+v", op, q, r)
		}
	case ActionHandoff:
		switch r.Reason {
		case ReasonRequested, ReasonLowConfidence, ReasonMisses, ReasonMenu:
		default:
			t.Errorf("%s(%q): handoff reason %q", op, q, r.Reason)
		}
		if r.Group == "" || r.Text == "" {
			t.Errorf("%s(%q): malformed handoff %+v", op, q, r)
		}
	default:
		t.Errorf("%s(%q): action %v", op, q, r.Action)
	}
}
