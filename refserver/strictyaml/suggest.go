package strictyaml

import "reflect"

// Suggest returns the word among known closest to the misspelt word, if one
// is close enough to be what was meant, or "". Decode uses it for unknown
// keys; callers can for unknown values (a policy name, a group).
func Suggest(word string, known []string) string {
	best, bestD := "", min(len(word)/3+1, 3)
	for _, k := range known {
		if d := editDistance(word, k); d <= bestD && (best == "" || d < editDistance(word, best)) {
			best = k
		}
	}
	return best
}

// Keys returns the YAML keys of the struct type named name (as
// reflect.Type.String spells it, e.g. "tenant.Group", the way yaml.v3
// names it in errors) that is t or reachable from t through fields,
// pointers, slices and maps; nil if there is none. A format's tests can use
// it to check that its documentation covers every key.
func Keys(t reflect.Type, name string) []string {
	var keys []string
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type) bool
	visit = func(t reflect.Type) bool {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return false
		}
		seen[t] = true
		if t.String() == name {
			for f := range t.Fields() {
				if k, ok := keyOf(f); ok {
					keys = append(keys, k)
				}
			}
			return true
		}
		for f := range t.Fields() {
			if visit(f.Type) {
				return true
			}
		}
		return false
	}
	if t != nil {
		visit(t)
	}
	return keys
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
