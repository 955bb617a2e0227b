package bot

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestSampleEntries(t *testing.T) {
	es := SampleEntries()
	idPattern := regexp.MustCompile(`^(zh|en|menu)-[a-z0-9]+(-[a-z0-9]+)*$`)
	count := map[string]int{}
	for _, e := range es {
		if !idPattern.MatchString(e.ID) {
			t.Errorf("entry id %q does not follow lang-topic", e.ID)
			continue
		}
		lang, _, _ := strings.Cut(e.ID, "-")
		count[lang]++
		if lang == "menu" {
			continue
		}
		if n := len(e.Questions); n < 3 || n > 5 {
			t.Errorf("%s: %d question variants, want 3 to 5", e.ID, n)
		}
		for _, q := range append([]string{e.Answer}, e.Questions...) {
			if hasHan(q) != (lang == "zh") {
				t.Errorf("%s: %q is not in the entry's language", e.ID, q)
			}
		}
	}
	if len(es) < 200 || count["zh"] < 100 || count["en"] < 100 {
		t.Errorf("%d entries (%d zh, %d en), want at least 200 with 100 of each language", len(es), count["zh"], count["en"])
	}
	t.Logf("%d entries: %d zh, %d en, %d menu", len(es), count["zh"], count["en"], count["menu"])
}

func TestSampleMenu(t *testing.T) {
	m := SampleMenu()
	if len(m.Items) < 5 {
		t.Errorf("%d menu items, want at least 5", len(m.Items))
	}
	person := false
	for _, it := range m.Items {
		if it.Handoff == "general" {
			person = true
		}
		if !hasHan(it.Label) || !strings.ContainsFunc(it.Label, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }) {
			t.Errorf("item %s label %q is not bilingual", it.ID, it.Label)
		}
	}
	if !person {
		t.Error("no menu item hands off to group general")
	}
	sampleBot(t, DefaultConfig()) // the menu's references resolve
}

// TestSampleVariantsAnswerThemselves asks every indexed question verbatim:
// each must be answered by its own entry. It catches duplicated questions
// between entries and questions the bot would take for a request for a
// person.
func TestSampleVariantsAnswerThemselves(t *testing.T) {
	b := sampleBot(t, DefaultConfig())
	for _, e := range SampleEntries() {
		for _, q := range e.Questions {
			r := b.Ask(nil, q)
			if r.Action != ActionAnswer || r.EntryID != e.ID {
				t.Errorf("%s: Ask(%q) = %v %s %q", e.ID, q, r.Action, r.EntryID, r.Reason)
			}
		}
	}
}

// TestSampleHeldout measures the bot on the held-out probes: top-1 accuracy
// on the answerable ones, and how the default threshold splits answers from
// off-topic questions. The figures are logged (go test -v -run Heldout).
func TestSampleHeldout(t *testing.T) {
	b := sampleBot(t, DefaultConfig())
	kb := b.KnowledgeBase()
	variants := map[string]string{}
	for _, e := range SampleEntries() {
		for _, q := range e.Questions {
			variants[string(normalize(nil, q))] = e.ID
		}
	}

	type tally struct{ n, top1, answered, wrong, off, offBelow int }
	var all tally
	byLang := map[string]*tally{"zh": {}, "en": {}}
	for _, p := range SampleHeldout() {
		if id, dup := variants[string(normalize(nil, p.Question))]; dup {
			t.Errorf("probe %q is an indexed question of %s: not held out", p.Question, id)
		}
		lang := "en"
		if hasHan(p.Question) {
			lang = "zh"
		}
		m := kb.Match(p.Question)
		got := ""
		if m.Entry != nil {
			got = m.Entry.ID
		}
		above := m.Entry != nil && m.Confidence >= DefaultThreshold
		for _, ta := range []*tally{&all, byLang[lang]} {
			if p.Expect == "" {
				ta.off++
				if !above {
					ta.offBelow++
				}
				continue
			}
			ta.n++
			if got == p.Expect {
				ta.top1++
				if above {
					ta.answered++
				}
			} else if above {
				ta.wrong++
			}
		}
		if p.Expect != "" {
			if _, ok := kb.Entry(p.Expect); !ok {
				t.Errorf("probe %q expects unknown entry %q", p.Question, p.Expect)
			}
			if got != p.Expect {
				t.Logf("miss: %q → %s (%.2f), want %s", p.Question, got, m.Confidence, p.Expect)
			}
		} else if above {
			t.Logf("off-topic answered: %q → %s (%.2f)", p.Question, got, m.Confidence)
		}
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	for _, l := range []struct {
		name string
		t    *tally
	}{{"all", &all}, {"zh", byLang["zh"]}, {"en", byLang["en"]}} {
		ta := l.t
		t.Logf("%-3s answerable %3d: top-1 %5.1f%%, answered correctly at threshold %.2f %5.1f%%, answered wrongly %5.1f%%; off-topic %2d: below threshold %5.1f%%",
			l.name, ta.n, pct(ta.top1, ta.n), DefaultThreshold, pct(ta.answered, ta.n), pct(ta.wrong, ta.n), ta.off, pct(ta.offBelow, ta.off))
	}
	if all.n < 60 || all.off < 20 {
		t.Errorf("%d answerable and %d off-topic probes, want at least 60 and 20", all.n, all.off)
	}
	if pct(all.top1, all.n) < 85 {
		t.Errorf("top-1 accuracy %.1f%%, want at least 85%%", pct(all.top1, all.n))
	}
	if pct(all.offBelow, all.off) < 80 {
		t.Errorf("%.1f%% of off-topic probes below the threshold, want at least 80%%", pct(all.offBelow, all.off))
	}
}
