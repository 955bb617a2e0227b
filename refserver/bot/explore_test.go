package bot

import (
	"fmt"
	"sort"
	"testing"
)

func TestExplore(t *testing.T) {
	kb, err := NewKnowledgeBase(SampleEntries())
	if err != nil {
		t.Fatal(err)
	}
	var good, bad, off []float64
	for _, p := range SampleHeldout() {
		m := kb.Match(p.Question)
		id := ""
		if m.Entry != nil {
			id = m.Entry.ID
		}
		switch {
		case p.Expect == "":
			off = append(off, m.Confidence)
			fmt.Printf("OFF  %.3f %-30s %s\n", m.Confidence, id, p.Question)
		case id == p.Expect:
			good = append(good, m.Confidence)
			fmt.Printf("OK   %.3f %-30s %s\n", m.Confidence, id, p.Question)
		default:
			bad = append(bad, m.Confidence)
			fmt.Printf("BAD  %.3f %-30s %s (want %s)\n", m.Confidence, id, p.Question, p.Expect)
		}
	}
	sort.Float64s(good)
	sort.Float64s(off)
	sort.Float64s(bad)
	fmt.Println("acc", len(good), len(good)+len(bad))
	for th := 0.10; th < 0.5; th += 0.025 {
		a, o := 0, 0
		for _, c := range good {
			if c >= th {
				a++
			}
		}
		for _, c := range off {
			if c < th {
				o++
			}
		}
		fmt.Printf("th %.3f answered-correct %d/%d off-below %d/%d\n", th, a, len(good)+len(bad), o, len(off))
	}
}
