package bot

import (
	"slices"
	"strings"
	"testing"
)

// terms returns the terms of s as text, in the order the tokenizer yields
// them, and checks that each term's hash is that of its text.
func terms(t *testing.T, s string) []string {
	t.Helper()
	norm := normalize(nil, s)
	tk := newTokenizer(norm)
	var out []string
	for tok, ok := tk.next(); ok; tok, ok = tk.next() {
		text := tok.String()
		var want uint64
		switch tok.kind {
		case kindWord:
			want = hashWord([]byte(text), 0)
		case kindHan:
			want = hashHan([]rune(text)[0])
		case kindBigram:
			rs := []rune(text)
			want = hashBigram(rs[0], rs[1])
		}
		if tok.hash != want {
			t.Errorf("%q: term %q (kind %d) hash %x, want %x", s, text, tok.kind, tok.hash, want)
		}
		out = append(out, text)
	}
	return out
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii lowercased", "Where IS my Order?", "where is my order"},
		{"punctuation runs collapse", "  refund...status!!!  ", "refund status"},
		{"full-width latin and digits", "ＲＥＦＵＮＤ　ｓｔａｔｕｓ １２３", "refund status 123"},
		{"full-width punctuation", "退款，多久？到账！", "退款 多久 到账"},
		{"chinese kept, no spaces added", "我的订单到哪了", "我 订单到哪"},
		{"particles are separators", "订单的状态呢", "订单 状态"},
		{"emoji separate", "退款😀进度👍", "退款 进度"},
		{"mixed scripts", "iPhone15退货", "iphone15退货"},
		{"accented letters lowercased", "Café GRÖSSE", "café grösse"},
		{"apostrophes split", "what's", "what s"},
		{"curly apostrophe", "doesn’t", "doesn t"},
		{"invalid utf-8 is a separator", "ab\xffcd", "ab cd"},
		{"only symbols", "?!…😀 ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(normalize(nil, tt.in)); got != tt.want {
				t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeBound(t *testing.T) {
	long := strings.Repeat("退款", maxQuestionBytes) // 6 bytes each
	if got := len(normalize(nil, long)); got > maxQuestionBytes {
		t.Errorf("normalised %d bytes of a %d-byte question, bound %d", got, len(long), maxQuestionBytes)
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"chinese without spaces", "退货运费", []string{"退", "退货", "货", "货运", "运", "运费", "费"}}, // a bigram, then its second character
		{"no bigram across a particle", "订单的状态", []string{"订", "订单", "单", "状", "状态", "态"}},
		{"no bigram across punctuation", "退款，进度", []string{"退", "退款", "款", "进", "进度", "度"}},
		{"no bigram across emoji", "退款😀进度", []string{"退", "退款", "款", "进", "进度", "度"}},
		{"mixed zh and en", "iPhone15退货", []string{"iphone15", "退", "退货", "货"}},
		{"number then chinese", "7天无理由", []string{"7", "天", "天无", "无", "无理", "理", "理由", "由"}},
		{"english words lowercased", "Which IS my Order?", []string{"which", "is", "my", "order"}},
		{"lone letters dropped", "a b what's I", []string{"what"}},
		{"full-width", "ＲＥＦＵＮＤ　ｓｔａｔｕｓ", []string{"refund", "status"}},
		{"plural and inflections stem together", "refunds refunded refunding refund", []string{"refund", "refund", "refund", "refund"}},
		{"ies", "deliveries", []string{"delivery"}},
		{"sses and xes", "addresses boxes address", []string{"address", "box", "address"}},
		{"doubled consonant", "shipped shipping ship", []string{"ship", "ship", "ship"}},
		{"final e", "change changed changing where", []string{"chang", "chang", "chang", "wher"}},
		{"short words untouched", "was has use", []string{"was", "has", "use"}},
		{"contraction n't", "hasn't arrived", []string{"has", "not", "arriv"}},
		{"can't and won't", "can't login, won't open", []string{"can", "not", "login", "will", "not", "open"}},
		{"isn't", "isn't working", []string{"is", "not", "work"}},
		{"t starting a word is not a contraction", "an tea", []string{"an", "tea"}},
		{"non-latin words not stemmed", "größes", []string{"größes"}},
		{"hangul", "주문", []string{"주", "주문", "문"}},
		{"empty", "", nil},
		{"emoji only", "😀🎉", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := terms(t, tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("terms(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStem(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"orders", "order"}, {"status", "status"}, {"this", "this"}, {"glass", "glass"},
		{"replies", "reply"}, {"matches", "match"}, {"wishes", "wish"},
		{"cancelled", "cancel"}, {"canceled", "cancel"}, {"missing", "miss"}, {"missed", "miss"},
		{"need", "need"}, {"needed", "need"}, {"ring", "ring"}, {"price", "pric"}, {"prices", "pric"},
		{"code", "code"}, {"codes", "code"},
	} {
		n, suf := stem([]byte(tt.in))
		got := tt.in[:n]
		if suf != 0 {
			got += string(suf)
		}
		if got != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenizeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	buf := make([]byte, 0, 256)
	n := testing.AllocsPerRun(100, func() {
		buf = normalize(buf[:0], "Hi, my parcel hasn't arrived 退款😀进度 ＲＥＦＵＮＤ")
		tk := newTokenizer(buf)
		for _, ok := tk.next(); ok; _, ok = tk.next() {
		}
	})
	if n != 0 {
		t.Errorf("normalize and tokenize: %v allocs per run, want 0", n)
	}
}
