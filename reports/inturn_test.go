package reports

import (
	"errors"
	"testing"
)

// TestMergeInTurn: runs played one after another merge exactly where
// counts add (messages, histograms), add their scenario time and CPU,
// keep the largest memory, and follow each other in the time series.
func TestMergeInTurn(t *testing.T) {
	a, _, _ := shardResult(t, 0, 1)
	b, _, _ := shardResult(t, 1, 1)
	a.ScenarioS, b.ScenarioS = 10, 20
	m, err := MergeInTurn(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Messages.Sent != a.Messages.Sent+b.Messages.Sent {
		t.Errorf("sent %d, want %d", m.Messages.Sent, a.Messages.Sent+b.Messages.Sent)
	}
	if d := m.Latency["delivery"].Count; d != a.Latency["delivery"].Count+b.Latency["delivery"].Count {
		t.Errorf("delivery count %d", d)
	}
	if m.ScenarioS != 30 || m.Generator.CPUSeconds != a.Generator.CPUSeconds+b.Generator.CPUSeconds ||
		m.Generator.PeakRSSBytes != max(a.Generator.PeakRSSBytes, b.Generator.PeakRSSBytes) {
		t.Errorf("scenario %gs, generator %+v", m.ScenarioS, m.Generator)
	}
	if n := len(m.Series); n != len(a.Series)+len(b.Series) || m.Series[len(a.Series)].StartS < 10 {
		t.Errorf("series of %d points, the second run's starting at %g", n, m.Series[len(a.Series)].StartS)
	}
	if m.Objectives != nil {
		t.Error("objectives kept; they are evaluated again")
	}
	b.Invalidate("generator fell behind")
	if m, err = MergeInTurn(a, b); err != nil || m.Valid || len(m.InvalidReasons) != 1 {
		t.Errorf("an invalid run: valid %v %q %v", m.Valid, m.InvalidReasons, err)
	}
	if _, err := MergeInTurn(); !errors.Is(err, ErrMerge) {
		t.Errorf("no runs: %v", err)
	}
}
