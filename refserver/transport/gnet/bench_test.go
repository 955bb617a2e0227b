package gnet_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdesk/swarmdesk/refserver/child"
	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// fdBudget returns how many client connections this process can hold (one
// descriptor each, plus the server's when it runs in this process), keeping
// some for the runtime, and says so when that is fewer than wanted.
func fdBudget(b *testing.B, want, perConn int) int {
	var lim syscall.Rlimit
	n := want
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		n = min(want, (int(lim.Cur)-200)/perConn)
	}
	if n < want {
		b.Logf("RLIMIT_NOFILE=%d allows %d connections of the %d asked", lim.Cur, n, want)
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// swarm is n customers connected to addr, each read by a goroutine that
// counts the frames it receives.
type swarm struct {
	conns []net.Conn
	got   atomic.Int64
	wg    sync.WaitGroup
}

func connectSwarm(b *testing.B, addr string, n int) *swarm {
	s := &swarm{conns: make([]net.Conn, 0, n)}
	for i := range n {
		c, _, err := rt.Connect(addr, wire.RoleCustomer, "demo", fmt.Sprintf("c%d", i), "phone")
		if err != nil {
			b.Fatal(err)
		}
		conn := c.Conn()
		_ = conn.SetReadDeadline(time.Time{})
		s.conns = append(s.conns, conn)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var buf []byte
			var err error
			for {
				if _, buf, err = wire.ReadFrame(conn, buf, wire.DefaultMaxFrame); err != nil {
					return
				}
				s.got.Add(1)
			}
		}()
	}
	return s
}

// waitFor blocks until the swarm has read n frames in all.
func (s *swarm) waitFor(n int64) {
	for s.got.Load() < n {
		time.Sleep(50 * time.Microsecond)
	}
}

func (s *swarm) close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.wg.Wait()
}

// BenchmarkBroadcastLoopback measures a tenant broadcast to N customers
// connected over loopback TCP to an in-process gnet server: each op is one
// broadcast, done when every customer has read it. The process CPU per
// million deliveries includes the customers' own reading, so it is an
// upper bound of the server's; BenchmarkBroadcastProcess measures the
// server alone.
func BenchmarkBroadcastLoopback(b *testing.B) {
	for _, want := range []int{1_000, 5_000} {
		n := fdBudget(b, want, 2)
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			srv := rt.NewServer()
			defer srv.Close()
			s := connectSwarm(b, srv.Addr, n)
			defer s.close()
			body := make([]byte, 64)
			cpu0 := cpuTime()
			var sent int64
			for b.Loop() {
				k, err := srv.Core().Broadcast("demo", wire.KindText, body)
				if err != nil {
					b.Fatal(err)
				}
				sent += int64(k)
				s.waitFor(sent)
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(cpu.Seconds()/float64(sent)*1e6, "cpu-s/1M-deliveries")
		})
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func refserverBinary(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := syscallTempDir()
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = child.Build(dir)
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

func syscallTempDir() (string, error) {
	// Not b.TempDir: the binary is shared by every sub-benchmark.
	return os.MkdirTemp("", "swarmdesk-bench-")
}

// BenchmarkBroadcastProcess runs refserver as a child process and measures
// its own CPU per million deliveries (from /proc) while N connected
// customers receive broadcasts sent through the admin endpoint, and its
// resident memory per idle connection (RSS growth from connecting and
// greeting the N customers, divided by N). These are the figures of
// DESIGN.md §7's first two rows; N is capped by RLIMIT_NOFILE.
func BenchmarkBroadcastProcess(b *testing.B) {
	bin := refserverBinary(b)
	for _, tc := range []struct{ want, burst int }{{5_000, 1}, {5_000, 16}, {19_000, 1}} {
		n := fdBudget(b, tc.want, 1)
		b.Run(fmt.Sprintf("customers=%d/burst=%d", n, tc.burst), func(b *testing.B) {
			p, err := child.Start(bin, "--loops", "2")
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := p.Stop(); err != nil {
					b.Error(err)
				}
			}()
			time.Sleep(200 * time.Millisecond)
			_, rss0, err := p.Usage()
			if err != nil {
				b.Fatal(err)
			}
			s := connectSwarm(b, p.Addr, n)
			defer s.close()
			time.Sleep(500 * time.Millisecond)
			_, rss1, err := p.Usage()
			if err != nil {
				b.Fatal(err)
			}

			// Each op sends burst broadcasts back to back, then waits for
			// every customer to read them all: frames queued to a
			// connection while its loop is busy go out in one write.
			body := []byte(`{"tenant":"demo","body":"双十一大促开始了 announcement padding to 64 bytes......"}`)
			client := &http.Client{}
			cpu0, _, _ := p.Usage()
			var sent int64
			for b.Loop() {
				for range tc.burst {
					resp, err := client.Post(p.AdminURL+"/admin/broadcast", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
					sent += int64(n)
				}
				s.waitFor(sent)
			}
			cpu1, _, _ := p.Usage()
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric((cpu1-cpu0).Seconds()/float64(sent)*1e6, "server-cpu-s/1M-deliveries")
			b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/idle-conn")
		})
	}
}
