package suite

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// TestRun is one test or subtest of `go test -v` output.
type TestRun struct {
	// Name is the full name, "TestErlang/C/c=2/rho=0.30".
	Name string
	// Status is PASS, FAIL or SKIP; empty when the output ended before
	// the test did.
	Status string
	// Logs are the test's t.Log messages in order, without the
	// "file.go:NN: " prefix; a multi-line message is one entry.
	Logs []string
}

// Passed reports whether the test passed.
func (t TestRun) Passed() bool { return t.Status == "PASS" }

// TestLog is the parsed `go test -v` output of one command.
type TestLog struct {
	// Tests are in the order they started.
	Tests  []*TestRun
	byName map[string]*TestRun
}

// Test returns the test named name.
func (l *TestLog) Test(name string) (*TestRun, bool) {
	t, ok := l.byName[name]
	return t, ok
}

// Prefixed returns the tests whose names start with prefix+"/", in order.
func (l *TestLog) Prefixed(prefix string) []*TestRun {
	var out []*TestRun
	for _, t := range l.Tests {
		if strings.HasPrefix(t.Name, prefix+"/") {
			out = append(out, t)
		}
	}
	return out
}

var (
	testEventRE  = regexp.MustCompile(`^=== (?:RUN|CONT|NAME|PAUSE)\s+(\S+)`)
	testResultRE = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
	testLogRE    = regexp.MustCompile(`^    \S+\.go:\d+: ?(.*)$`)
	buildFailRE  = regexp.MustCompile(`^FAIL\s+\S+\s+\[(build|setup) failed\]`)
)

// ParseTestLog reads `go test -v` output: which tests ran, how each ended,
// and what each logged. The output of tests run one at a time (no
// t.Parallel) is attributed exactly; "=== CONT"/"=== NAME" lines switch
// attribution as go test prints them.
func ParseTestLog(r io.Reader) (*TestLog, error) {
	l := &TestLog{byName: map[string]*TestRun{}}
	get := func(n string) *TestRun {
		t, ok := l.byName[n]
		if !ok {
			t = &TestRun{Name: n}
			l.byName[n] = t
			l.Tests = append(l.Tests, t)
		}
		return t
	}
	var cur *TestRun
	inLog := false // the last line was part of cur's last message
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := buildFailRE.FindStringSubmatch(line); m != nil {
			return nil, fmt.Errorf("%s", line)
		}
		if m := testEventRE.FindStringSubmatch(line); m != nil {
			cur, inLog = get(m[1]), false
			continue
		}
		if m := testResultRE.FindStringSubmatch(line); m != nil {
			get(m[2]).Status = m[1]
			inLog = false
			continue
		}
		if cur == nil {
			continue
		}
		if m := testLogRE.FindStringSubmatch(line); m != nil {
			cur.Logs = append(cur.Logs, m[1])
			inLog = true
			continue
		}
		if inLog && (line == "" || strings.HasPrefix(line, "        ")) {
			cur.Logs[len(cur.Logs)-1] += "\n" + strings.TrimPrefix(line, "        ")
			continue
		}
		inLog = false
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, t := range l.Tests {
		for i, m := range t.Logs {
			t.Logs[i] = strings.TrimRight(m, "\n ")
		}
	}
	if len(l.Tests) == 0 {
		return nil, fmt.Errorf("no test ran")
	}
	return l, nil
}
