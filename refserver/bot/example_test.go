package bot_test

import (
	"fmt"

	"github.com/swarmdesk/swarmdesk/refserver/bot"
)

func Example() {
	kb, err := bot.NewKnowledgeBase(bot.SampleEntries())
	if err != nil {
		panic(err)
	}
	b, err := bot.New(kb, bot.SampleMenu(), bot.DefaultConfig())
	if err != nil {
		panic(err)
	}
	var s bot.Session // one per conversation, kept by the caller
	for _, q := range []string{
		"退款多久能到账？",
		"my parcel hasn't arrived, it's past the estimated date",
		"tell me a joke",
		"我要转人工",
	} {
		r := b.Ask(&s, q)
		fmt.Printf("%-8s %-18s %-9s misses=%d\n", r.Action, r.EntryID, r.Reason, s.Misses)
	}
	r := b.Choose(&s, "0")
	fmt.Printf("%-8s group=%s reason=%s\n", r.Action, r.Group, r.Reason)
	// Output:
	// answer   zh-refund-time               misses=0
	// answer   en-delivery-delay            misses=0
	// menu                                  misses=1
	// handoff                     requested misses=1
	// handoff  group=general reason=menu
}
