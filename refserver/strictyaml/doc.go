// Package strictyaml decodes configuration documents strictly and reports
// every problem with the file, line and field it concerns, as compilers do:
//
//	acme.yaml:3: grops: field not found in tenant.Config (did you mean groups?)
//	acme.yaml:7: agents[0].max_chats: cannot unmarshal !!str `lots` into int
//
// It owns what yaml.v3 leaves to its callers: refusing unknown keys (with a
// suggestion when a known key is close), refusing a number with a fraction
// for an integer field (yaml.v3 would truncate max_chats: 2.5 to 2), and
// turning yaml.v3's "line 7: ..." messages into an Error with the field
// path ("groups[2].policy") found from the document's nodes. Decode returns
// the document's root node so that a caller can put its own validation
// problems at their lines too, with Line; Join reports them all at once.
//
// The problems are classified by the caller's own sentinel errors, passed
// in Options, so each format keeps its package-prefixed errors.Is targets.
package strictyaml
