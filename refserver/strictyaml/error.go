package strictyaml

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem at a place in a YAML document: where it is and what
// is wrong.
type Error struct {
	File  string // the name the document was decoded under; "" when unknown
	Line  int    // 1-based; 0 when unknown
	Field string // path of the field, e.g. "groups[2].policy"; "" for the whole document
	Msg   string // what is wrong
	Err   error  // the caller's sentinel classifying the problem
}

// Error formats the problem as "file:line: field: message", leaving out the
// parts that are unknown, so that editors can jump to it.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel classifying the problem.
func (e *Error) Unwrap() error { return e.Err }

// Join joins problems with errors.Join in the order of their lines, one per
// line of the message; nil when there are none. ps is not modified.
func Join(ps []*Error) error {
	ps = byLine(slices.Clone(ps))
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// byLine sorts ps in place by line, keeping the order of problems on the
// same line, and returns it.
func byLine(ps []*Error) []*Error {
	slices.SortStableFunc(ps, func(a, b *Error) int { return a.Line - b.Line })
	return ps
}
