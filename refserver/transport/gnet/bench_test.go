package gnet_test

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	rt "github.com/swarmdesk/swarmdesk/refserver/refservertest"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// fdBudget returns how many client connections this process can hold: each
// takes two descriptors here (client and server side), and some are kept
// for the runtime and the test.
func fdBudget(want int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return min(want, 400)
	}
	return min(want, int(lim.Cur-200)/2)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBroadcastLoopback measures a tenant broadcast to N customers
// connected over loopback TCP to the gnet transport: each op is one
// broadcast, done when every customer has read it. The process CPU per
// million deliveries includes the test's own readers, so it is an upper
// bound of the server's share. N is capped by RLIMIT_NOFILE.
func BenchmarkBroadcastLoopback(b *testing.B) {
	for _, want := range []int{1_000, 5_000} {
		n := fdBudget(want)
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			if n < want {
				b.Logf("RLIMIT_NOFILE allows %d customers of the %d asked", n, want)
			}
			srv := rt.NewServer()
			defer srv.Close()
			var got atomic.Int64
			var wg sync.WaitGroup
			conns := make([]net.Conn, 0, n)
			for i := range n {
				c, _, err := rt.Connect(srv.Addr, wire.RoleCustomer, "demo", fmt.Sprintf("c%d", i), "phone")
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c.Conn())
				wg.Add(1)
				go func() {
					defer wg.Done()
					var buf []byte
					var err error
					for {
						_, buf, err = wire.ReadFrame(c.Conn(), buf, wire.DefaultMaxFrame)
						if err != nil {
							return
						}
						got.Add(1)
					}
				}()
			}
			for _, c := range conns {
				_ = c.SetReadDeadline(time.Time{})
			}
			body := make([]byte, 64)
			b.ResetTimer()
			cpu0 := cpuTime()
			var sent int64
			for b.Loop() {
				k, err := srv.Core().Broadcast("demo", wire.KindText, body)
				if err != nil {
					b.Fatal(err)
				}
				sent += int64(k)
				for got.Load() < sent {
					time.Sleep(50 * time.Microsecond)
				}
			}
			cpu := cpuTime() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "deliveries/s")
			if sent > 0 {
				b.ReportMetric(cpu.Seconds()/float64(sent)*1e6, "cpu-s/1M-deliveries")
			}
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		})
	}
}
