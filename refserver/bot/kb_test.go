package bot

import (
	"errors"
	"strings"
	"testing"
)

// tinyEntries is a knowledge base small enough to reason about by hand.
func tinyEntries() []Entry {
	return []Entry{
		{ID: "en-refund-time", Questions: []string{"How long does a refund take?", "When do I get my money back?"}, Answer: "1-3 business days."},
		{ID: "en-shipping-fee", Questions: []string{"How much is shipping?", "What are the delivery charges?"}, Answer: "¥6."},
		{ID: "zh-refund-time", Questions: []string{"退款多久能到账", "钱什么时候退回来"}, Answer: "1-3个工作日。"},
		{ID: "zh-shipping-fee", Questions: []string{"运费怎么算", "邮费多少钱"}, Answer: "6元。"},
	}
}

func TestNewKnowledgeBaseErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		want    []string
	}{
		{"no entries", nil, []string{"no entries"}},
		{"empty id", []Entry{{Questions: []string{"q"}, Answer: "a"}}, []string{`entry 0 (""): id: empty id`}},
		{"duplicate id", []Entry{{ID: "x", Questions: []string{"q"}, Answer: "a"}, {ID: "x", Questions: []string{"r"}, Answer: "b"}},
			[]string{`entry 1 ("x"): id: duplicate id "x" (also entry 0)`}},
		{"no questions", []Entry{{ID: "x", Answer: "a"}}, []string{`entry 0 ("x"): questions: no questions`}},
		{"blank question", []Entry{{ID: "x", Questions: []string{"q", " "}, Answer: "a"}}, []string{`entry 0 ("x"): questions: question 1 is blank`}},
		{"every problem", []Entry{{ID: "x"}, {ID: "y", Questions: []string{"q"}}},
			[]string{`entry 0 ("x"): questions: no questions`, `entry 0 ("x"): answer: empty answer`, `entry 1 ("y"): answer: empty answer`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kb, err := NewKnowledgeBase(tt.entries)
			if err == nil {
				t.Fatalf("NewKnowledgeBase = %v, want an error", kb)
			}
			if !errors.Is(err, ErrInvalidEntry) {
				t.Errorf("error %q is not ErrInvalidEntry", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestKnowledgeBaseLookup(t *testing.T) {
	entries := tinyEntries()
	kb, err := NewKnowledgeBase(entries)
	if err != nil {
		t.Fatal(err)
	}
	if kb.Len() != 4 {
		t.Errorf("Len = %d, want 4", kb.Len())
	}
	e, ok := kb.Entry("zh-shipping-fee")
	if !ok || e.Answer != "6元。" {
		t.Errorf("Entry(zh-shipping-fee) = %v, %v", e, ok)
	}
	if _, ok := kb.Entry("nope"); ok {
		t.Error("Entry(nope) found")
	}
	// The index owns a copy: changing the caller's entries changes nothing.
	entries[3].Answer = "changed"
	entries[3].Questions[0] = "changed"
	if e, _ := kb.Entry("zh-shipping-fee"); e.Answer != "6元。" || e.Questions[0] != "运费怎么算" {
		t.Errorf("entry changed with the caller's slice: %+v", e)
	}
}

func TestMatch(t *testing.T) {
	kb, err := NewKnowledgeBase(tinyEntries())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		question string
		want     string  // entry id, "" for none, "*" for any
		minConf  float64 // confidence at least
		maxConf  float64 // confidence at most
	}{
		{"How long does a refund take?", "en-refund-time", 1, 1},       // verbatim
		{"HOW LONG does a REFUND take", "en-refund-time", 1, 1},        // case and punctuation
		{"how long do refunds take", "en-refund-time", 0.8, 1},         // stemming
		{"when will I get my money back", "en-refund-time", 0.6, 1},    // paraphrase
		{"退款多久能到账", "zh-refund-time", 1, 1},                            // verbatim Chinese
		{"退款要多久才能到账？", "zh-refund-time", 0.5, 1},                       // Chinese paraphrase
		{"运费多少钱", "zh-shipping-fee", 0.5, 1},                           // words spread over two variants
		{"delivery charges", "en-shipping-fee", 0.5, 1},                // part of a variant
		{"refund", "en-refund-time", 0.3, 1},                           // one word
		{"what is the weather in Paris", "*", 0, 0.3},                  // shares "what" only
		{"how long is the flight to Paris", "en-refund-time", 0, 0.45}, // shares "how long" only
		{"weather in Paris", "", 0, 0},                                 // shares nothing
		{"", "", 0, 0},
		{"😀!!", "", 0, 0},
	}
	for _, tt := range tests {
		m := kb.Match(tt.question)
		got := ""
		if m.Entry != nil {
			got = m.Entry.ID
		}
		if tt.want == "*" && got != "" {
			got = "*"
		}
		if got != tt.want || m.Confidence < tt.minConf || m.Confidence > tt.maxConf {
			t.Errorf("Match(%q) = %q confidence %.3f score %.3f, want %q confidence in [%v,%v]",
				tt.question, got, m.Confidence, m.Score, tt.want, tt.minConf, tt.maxConf)
		}
		if (m.Entry == nil) != (m.Score == 0) {
			t.Errorf("Match(%q): entry %v with score %v", tt.question, m.Entry, m.Score)
		}
	}
}

func TestMatchTieGoesToFirstEntry(t *testing.T) {
	kb, err := NewKnowledgeBase([]Entry{
		{ID: "first", Questions: []string{"same question"}, Answer: "a"},
		{ID: "second", Questions: []string{"same question"}, Answer: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if m := kb.Match("same question"); m.Entry == nil || m.Entry.ID != "first" {
			t.Fatalf("Match = %+v, want entry first", m)
		}
	}
}

func TestMatchStopWordsOnly(t *testing.T) {
	kb, err := NewKnowledgeBase(tinyEntries())
	if err != nil {
		t.Fatal(err)
	}
	sc := kb.pool.Get().(*scratch)
	defer kb.pool.Put(sc)
	for _, q := range []string{"hi", "thanks!", "你好", "谢谢", "ok thanks"} {
		if m, content := kb.match(sc, normalize(nil, q)); content || m.Entry != nil {
			t.Errorf("match(%q) = %+v, content %v; want no content", q, m, content)
		}
	}
	if _, content := kb.match(sc, normalize(nil, "hi refund")); !content {
		t.Error(`match("hi refund"): no content`)
	}
}

func TestMatchConcurrent(t *testing.T) {
	kb, err := NewKnowledgeBase(SampleEntries())
	if err != nil {
		t.Fatal(err)
	}
	probes := SampleHeldout()
	want := make([]Match, len(probes))
	for i, p := range probes {
		want[i] = kb.Match(p.Question)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for round := range 20 {
				for i := range probes {
					j := (i + g*7 + round) % len(probes)
					if got := kb.Match(probes[j].Question); got != want[j] {
						done <- errors.New("concurrent Match of " + probes[j].Question + " differs from sequential")
						return
					}
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	kb, err := NewKnowledgeBase(SampleEntries())
	if err != nil {
		t.Fatal(err)
	}
	probes := SampleHeldout()
	kb.Match(probes[0].Question) // fill the pool
	i := 0
	n := testing.AllocsPerRun(200, func() {
		kb.Match(probes[i%len(probes)].Question)
		i++
	})
	if n != 0 {
		t.Errorf("Match: %v allocs per run, want 0", n)
	}
}
