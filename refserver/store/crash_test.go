package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/internal/longtest"
)

// The crash test runs the test binary again as a child (crashChildEnv names
// the store's directory) and kills it with SIGKILL at a random moment.
const (
	crashChildEnv = "SWARMDESK_STORE_CRASH_DIR"
	crashSeedEnv  = "SWARMDESK_STORE_CRASH_SEED"
	crashWriters  = 4 // conversations the child appends to at once
)

// crashRec is the record the child writes at seq of conv: bodies of varied
// length, so the write-ahead log spans blocks.
func crashRec(conv, seq uint64) *Record {
	r := rec(conv, seq, seq*10)
	n := int(seq*37%1500) + len(r.Body)
	r.Body = bytes.Repeat(r.Body, n/len(r.Body)+1)[:n]
	return r
}

// TestPebbleCrash kills a child appending under DurabilitySync and checks
// that everything it reported as synced is back, in order, without gaps:
// 6 times, 60 with SWARMDESK_LONG=1.
func TestPebbleCrash(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	seed := uint64(20261121)
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (set %s to repeat another)", seed, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	synced := map[uint64]uint64{} // conversation -> last sequence reported synced
	var maxConv uint64
	kills := 6
	if longtest.Enabled() {
		kills = 60 // the search at length: make test-long
	}
	for iter := range kills {
		// Half the kills come at a random moment after the first sync,
		// half at a random moment after the start (maybe while opening).
		afterSync := iter%2 == 0
		delay := time.Duration(rng.IntN(150)) * time.Millisecond
		got, stderr := runCrashChild(t, dir, afterSync, delay)
		newConvs := 0
		for conv, seq := range got {
			if _, old := synced[conv]; !old {
				newConvs++
				if conv <= maxConv {
					t.Fatalf("iteration %d: conversation id %d reused (ids up to %d before)", iter, conv, maxConv)
				}
			}
			synced[conv] = max(synced[conv], seq)
		}
		for conv := range got {
			maxConv = max(maxConv, conv)
		}
		total := 0
		for _, seq := range got {
			total += int(seq)
		}
		t.Logf("iteration %d: killed %v after %s: %d conversations, %d records reported synced",
			iter, map[bool]string{true: "after the first sync", false: "after the start"}[afterSync], delay, newConvs, total)
		if afterSync && len(got) == 0 {
			t.Fatalf("iteration %d: the child reported nothing; stderr:\n%s", iter, stderr)
		}
		checkCrashStore(t, dir, synced)
	}
}

// runCrashChild starts the child, kills it and returns what it reported as
// synced: conversation -> last sequence.
func runCrashChild(t *testing.T, dir string, afterSync bool, delay time.Duration) (map[uint64]uint64, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPebbleCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := map[uint64]uint64{}
	firstSync := make(chan struct{})
	var (
		mu        sync.Mutex
		readDone  = make(chan struct{})
		badOutput string
	)
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			line := sc.Text()
			var conv, seq uint64
			if _, err := fmt.Sscanf(line, "synced %d %d", &conv, &seq); err != nil {
				if strings.HasPrefix(line, "synced") || strings.HasPrefix(line, "error") {
					mu.Lock()
					badOutput += line + "\n"
					mu.Unlock()
				}
				continue
			}
			mu.Lock()
			got[conv] = max(got[conv], seq)
			mu.Unlock()
			if first {
				first = false
				close(firstSync)
			}
		}
	}()
	if afterSync {
		select {
		case <-firstSync:
		case <-readDone:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("the child did not sync within 20s; stderr:\n%s", stderr.String())
		}
	}
	time.Sleep(delay)
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-readDone // every line written before the kill
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL; stderr:\n%s", err, stderr.String())
	}
	if badOutput != "" {
		t.Fatalf("child reported:\n%sstderr:\n%s", badOutput, stderr.String())
	}
	return got, stderr.String()
}

// checkCrashStore opens the store after a crash: each conversation's
// records are 1..n without gaps, n at least what was reported synced, with
// the bodies written; client ids are found.
func checkCrashStore(t *testing.T, dir string, synced map[uint64]uint64) {
	t.Helper()
	p, err := OpenPebble(dir, PebbleOptions{Durability: DurabilitySync})
	if err != nil {
		t.Fatalf("open after a crash: %v", err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	for conv, want := range synced {
		next := uint64(1)
		err := p.Since(conv, 0, func(r *Record) bool {
			if r.Seq != next {
				t.Errorf("conversation %d: seq %d where %d was due", conv, r.Seq, next)
				return false
			}
			sameRecord(t, r, crashRec(conv, r.Seq))
			next++
			return true
		})
		if err != nil {
			t.Fatalf("conversation %d: %v", conv, err)
		}
		if next-1 < want {
			t.Fatalf("conversation %d: %d records back, %d were reported synced", conv, next-1, want)
		}
		r := crashRec(conv, want)
		if seq, ok := p.Lookup(conv, r.Sender, r.ClientID); !ok || seq != want {
			t.Fatalf("conversation %d: Lookup of the last synced client id: %d, %v", conv, seq, ok)
		}
	}
}

// crashChild appends to crashWriters conversations at once under
// DurabilitySync, in batches, and after each batch's Sync prints
// "synced <conv> <seq>". It runs until killed (or 30 s).
func crashChild(dir string) {
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		outMu.Unlock()
	}
	p, err := OpenPebble(dir, PebbleOptions{Durability: DurabilitySync})
	if err != nil {
		say("error %v", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			conv, err := p.NewConv()
			if err != nil {
				say("error %v", err)
				return
			}
			seq := uint64(0)
			for batch := 1; time.Now().Before(deadline); batch++ {
				for range (batch+w)%7 + 1 {
					seq++
					if err := p.Append(crashRec(conv, seq)); err != nil {
						say("error %v", err)
						return
					}
				}
				if err := p.Sync(); err != nil {
					say("error %v", err)
					return
				}
				say("synced %d %d", conv, seq)
			}
		})
	}
	wg.Wait()
	_ = p.Close()
	os.Exit(0)
}
