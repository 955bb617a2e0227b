// Package bot is refserver's customer-service bot: it answers a customer's
// question from a tenant's knowledge base of FAQ entries, shows the
// tenant's navigation menu, and decides when the conversation must go to a
// human agent.
//
// It is a pure library, like the desk core that calls it: no I/O, no
// goroutines, no clock, no global mutable state. The per-conversation
// state is a one-byte Session the caller keeps, so the server and the
// virtual-time simulator run the very same decisions.
//
// # Retrieval
//
// Customers write Chinese without spaces, English, or both. Text is
// normalised (full-width forms folded, lowercased, punctuation and emoji
// dropped) and cut into terms: English words, lightly stemmed, and for
// Chinese every character and every pair of adjacent characters. Every
// question variant of every entry is indexed under BM25 (k1 1.2, b 0.75)
// with terms hashed to 64-bit keys, flat posting lists and precomputed
// per-posting scores, so answering allocates nothing and costs a few
// microseconds.
//
// # Confidence and the threshold
//
// KnowledgeBase.Match returns a confidence in [0,1] that compares the best
// entry's evidence with the question's own ideal, so a single
// Config.Threshold separates answers from misses for any question. The
// default, DefaultThreshold, was measured on sample/heldout.yaml:
// paraphrases the sample knowledge base should answer, and off-topic
// questions it should not.
//
// # Files
//
// Knowledge bases, menus and probe sets are YAML, decoded strictly; see
// LoadEntries, LoadMenu and LoadProbes. A sample tenant (a bilingual
// shopping app) ships in sample/ and is exposed by SampleEntries,
// SampleMenu and SampleHeldout.
package bot
