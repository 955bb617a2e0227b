package bot

import (
	"testing"
)

// benchBot returns a bot over the sample knowledge base and the held-out
// questions, the same mix of Chinese, English and off-topic questions the
// load generator sends.
func benchBot(b *testing.B) (*Bot, []string) {
	b.Helper()
	kb, err := NewKnowledgeBase(SampleEntries())
	if err != nil {
		b.Fatal(err)
	}
	bot, err := New(kb, SampleMenu(), DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var qs []string
	for _, p := range SampleHeldout() {
		qs = append(qs, p.Question)
	}
	return bot, qs
}

func BenchmarkAsk(b *testing.B) {
	bot, qs := benchBot(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s := Session{}
		bot.Ask(&s, qs[n%len(qs)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "answers/s")
}

func BenchmarkAskParallel(b *testing.B) {
	bot, qs := benchBot(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s := Session{}
			bot.Ask(&s, qs[i%len(qs)])
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}

func BenchmarkMatch(b *testing.B) {
	bot, qs := benchBot(b)
	kb := bot.KnowledgeBase()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		kb.Match(qs[n%len(qs)])
		n++
	}
}

func BenchmarkNewKnowledgeBase(b *testing.B) {
	entries := SampleEntries()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewKnowledgeBase(entries); err != nil {
			b.Fatal(err)
		}
	}
}
