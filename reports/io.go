package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// Write writes r as an indented JSON document. An empty Schema is written
// as the Schema constant; any other schema is an error, since this package
// writes only its own version.
func Write(w io.Writer, r *Result) error {
	doc := *r
	if doc.Schema == "" {
		doc.Schema = Schema
	}
	if doc.Schema != Schema {
		return fmt.Errorf("write result: schema %q: %w (this build writes %s)", doc.Schema, ErrSchema, Schema)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// WriteFile writes r to path, replacing the file only once the whole
// document is written, so a reader never sees half of one.
func WriteFile(path string, r *Result) error {
	if err := WriteAtomic(path, func(w io.Writer) error { return Write(w, r) }); err != nil {
		return fmt.Errorf("write result %s: %w", path, err)
	}
	return nil
}

// WriteAtomic writes what write produces to path (mode 0644) through a
// temporary file beside it, renamed over path only once write and the
// close succeeded: a reader of a result or a report never sees half of
// one, and a failed write leaves the old file.
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(f.Name()))
		}
	}()
	if err := write(f); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Chmod(0o644); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Read decodes one result document strictly: the schema must be this
// package's (ErrSchema otherwise), a field the schema does not know is an
// error naming it, nothing may follow the document, and the document must
// agree with itself (ErrInvalid otherwise): each summary's count with its
// histogram, the shard index with the shard count, validity with its
// reasons.
func Read(rd io.Reader) (*Result, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	// The version first, leniently, so that a document of another version
	// is reported as such rather than as its first unknown field.
	var version struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &version); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	switch {
	case version.Schema == nil:
		return nil, fmt.Errorf("read result: no \"schema\" field: %w (want %s)", ErrSchema, Schema)
	case *version.Schema != Schema:
		return nil, fmt.Errorf("read result: schema %q: %w (this build reads %s)", *version.Schema, ErrSchema, Schema)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("read result: data after the document")
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	return &r, nil
}

// ReadFile reads the result document at path with Read.
func ReadFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read result %s: %w", path, err)
	}
	defer f.Close()
	r, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// check reports the first way r contradicts itself.
func (r *Result) check() error {
	if r.Shard.Count < 1 || r.Shard.Index < 0 || r.Shard.Index >= r.Shard.Count {
		return fmt.Errorf("shard %d of %d: %w", r.Shard.Index, r.Shard.Count, ErrInvalid)
	}
	if !r.Valid && len(r.InvalidReasons) == 0 {
		return fmt.Errorf("invalid run without invalid_reasons: %w", ErrInvalid)
	}
	if r.Valid && len(r.InvalidReasons) != 0 {
		return fmt.Errorf("valid run with invalid_reasons: %w", ErrInvalid)
	}
	names := make([]string, 0, len(r.Latency))
	for name := range r.Latency {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l := r.Latency[name]
		if err := checkSummary(l.Summary); err != nil {
			return fmt.Errorf("latency.%s: %w: %w", name, ErrInvalid, err)
		}
		if err := checkSummary(l.Raw); err != nil {
			return fmt.Errorf("latency.%s.raw: %w: %w", name, ErrInvalid, err)
		}
	}
	if err := checkSummary(r.Actions.Lag); err != nil {
		return fmt.Errorf("actions.lag: %w: %w", ErrInvalid, err)
	}
	for i, p := range r.Series {
		for _, name := range slices.Sorted(maps.Keys(p.Latency)) {
			il := p.Latency[name]
			if err := checkSummary(Summary{Count: il.Count, Histogram: il.Histogram}); err != nil {
				return fmt.Errorf("series[%d].latency.%s: %w: %w", i, name, ErrInvalid, err)
			}
		}
	}
	for i, lv := range r.Agents.Reply {
		if err := checkSummary(lv.Summary); err != nil {
			return fmt.Errorf("agents.reply_by_concurrency[%d]: %w: %w", i, ErrInvalid, err)
		}
	}
	if r.Saturation != nil {
		if err := checkSaturation(r.Saturation); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return nil
}
