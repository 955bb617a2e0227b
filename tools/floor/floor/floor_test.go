package floor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/swarmdesk/swarmdesk/bench/swarm"
	"github.com/swarmdesk/swarmdesk/refserver/wire"
)

// serveEnv makes the test binary the bare server: TestMain then runs
// ServeMain instead of the tests. capEnv makes it run the pair under a
// hard RLIMIT_NOFILE of its value and print the result as JSON.
const (
	serveEnv = "FLOOR_TEST_SERVE"
	capEnv   = "FLOOR_TEST_CAP"
)

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		if err := ServeMain("127.0.0.1:0", os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		os.Exit(0)
	}
	if v := os.Getenv(capEnv); v != "" {
		os.Exit(runCapped(v))
	}
	os.Exit(m.Run())
}

// runCapped lowers RLIMIT_NOFILE to limit and runs the pair, asking for
// more connections than it allows.
func runCapped(limit string) int {
	n, err := strconv.ParseUint(limit, 10, 64)
	if err == nil {
		err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
	}
	var res *Result
	if err == nil {
		res, err = Run(context.Background(), Options{Conns: int(n), Hold: 1, Server: serverCmd})
	}
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(res)
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 2
	}
	return 0
}

func serverCmd() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	return cmd
}

// TestPair runs the pair: every connection is held and answered, both
// processes used CPU, and the ratios are those of the figures reported.
// 2,000 connections are few for the machine but enough that each side's
// CPU spans several clock ticks of /proc/PID/stat (10 ms).
func TestPair(t *testing.T) {
	const n = 2000
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{Conns: n, Hold: 1, Server: serverCmd, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requested != n || res.Tried != n || res.Connections != n || res.Errors != 0 || res.ServerAnswered != n || !res.Held() {
		t.Errorf("held %d of %d asked, %d errors (%s), server answered %d; Held %v", res.Connections, res.Requested, res.Errors, res.FirstError, res.ServerAnswered, res.Held())
	}
	if res.Capped != "" || res.SourceAddrs != 1 || res.InFlight != DefaultInFlight || res.Schema != Schema {
		t.Errorf("capped %q, %d source addresses, %d in flight, schema %q", res.Capped, res.SourceAddrs, res.InFlight, res.Schema)
	}
	if res.Client.Pid != os.Getpid() || res.Server.Pid == res.Client.Pid || res.Server.Pid <= 0 {
		t.Errorf("pids: client %d, server %d", res.Client.Pid, res.Server.Pid)
	}
	for name, s := range map[string]Side{"client": res.Client, "server": res.Server} {
		if s.CPUConnectS <= 0 || s.CPUS < s.CPUConnectS || s.CPUHoldS < 0 {
			t.Errorf("%s CPU: %v s, connect %v s, hold %v s", name, s.CPUS, s.CPUConnectS, s.CPUHoldS)
		}
		if d := s.CPUS - s.CPUConnectS - s.CPUHoldS; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s CPU %v s is not connect %v s and hold %v s", name, s.CPUS, s.CPUConnectS, s.CPUHoldS)
		}
		if s.RSSBeforeBytes <= 0 || s.PeakRSSBytes < s.RSSBeforeBytes {
			t.Errorf("%s RSS: %d before, peak %d", name, s.RSSBeforeBytes, s.PeakRSSBytes)
		}
		if want := float64(s.PeakRSSBytes-s.RSSBeforeBytes) / n; s.BytesPerConnection != want {
			t.Errorf("%s: %v B per connection, want %v", name, s.BytesPerConnection, want)
		}
	}
	if res.CPURatio <= 0 || res.CPURatio != res.Client.CPUS/res.Server.CPUS {
		t.Errorf("ratio %v, from %v / %v s", res.CPURatio, res.Client.CPUS, res.Server.CPUS)
	}
	if res.ConnectCPURatio != res.Client.CPUConnectS/res.Server.CPUConnectS {
		t.Errorf("connect ratio %v, from %v / %v s", res.ConnectCPURatio, res.Client.CPUConnectS, res.Server.CPUConnectS)
	}
	if res.WallS < res.ConnectWallS+res.HoldS {
		t.Errorf("wall %v s, less than connect %v s and hold %v s", res.WallS, res.ConnectWallS, res.HoldS)
	}
	var sum bytes.Buffer
	Summary(&sum, res)
	for _, want := range []string{"2000 connections held of 2000 asked (0 errors; the server answered 2000 hellos)", "client: CPU ", "server: CPU ", "client/server CPU: "} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if !strings.Contains(log.String(), "connecting 2000 connections") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestCapped: asked for more connections than RLIMIT_NOFILE allows, the
// pair holds what it allows and says so.
func TestCapped(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), capEnv+"=600")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	const want = 600 - swarm.Headroom - 600/20
	if res.Requested != 600 || res.Tried != want || res.Connections != want || !res.Held() || !strings.Contains(res.Capped, "RLIMIT_NOFILE 600 allows "+strconv.Itoa(want)+" connections") {
		t.Errorf("asked %d, tried %d, held %d (Held %v), capped %q; want %d tried", res.Requested, res.Tried, res.Connections, res.Held(), res.Capped, want)
	}
}

// TestSourceAddrs: with several loopback source addresses in use the
// connections rotate over them, bound with IP_BIND_ADDRESS_NO_PORT.
func TestSourceAddrs(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	cl, err := newClient(s.Addr(), n, 8)
	if err != nil {
		t.Fatal(err)
	}
	if cl.srcAddrs != 1 {
		t.Errorf("%d source addresses for %d connections, want 1", cl.srcAddrs, n)
	}
	cl.srcAddrs = 3
	cl.connectAll(context.Background(), n)
	if len(cl.held) != n || cl.errors != 0 {
		t.Errorf("held %d of %d, %d errors: %v", len(cl.held), n, cl.errors, cl.err)
	}
	srcs := map[[4]byte]int{}
	for _, fd := range cl.held {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			t.Fatal(err)
		}
		srcs[sa.(*unix.SockaddrInet4).Addr]++
	}
	want := map[[4]byte]int{{127, 0, 0, 1}: n / 3, {127, 0, 0, 2}: n / 3, {127, 0, 0, 3}: n / 3}
	if len(srcs) != len(want) {
		t.Errorf("source addresses %v, want %v", srcs, want)
	}
	for a, k := range want {
		if srcs[a] != k {
			t.Errorf("source addresses %v, want %v", srcs, want)
			break
		}
	}
	cl.close()
	c, err := s.Close()
	if err != nil || c != (Counts{Accepted: n, Answered: n}) {
		t.Errorf("server counts %+v, %v", c, err)
	}
}

// TestServerAnswersHelloOnly: a hello in two parts is answered with one
// ready; a first frame of another type, or none, is refused without an
// answer.
func TestServerAnswersHelloOnly(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp4", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	h := wire.Hello{Role: wire.RoleCustomer, Tenant: "demo", User: "c1", Device: "d0"}
	frame := h.AppendFrame(nil)

	split := dial()
	if _, err := split.Write(frame[:3]); err != nil {
		t.Fatal(err)
	}
	// The hello goes in two writes: the server may read it in one part
	// or two, and answers it once either way.
	if _, err := split.Write(frame[3:]); err != nil {
		t.Fatal(err)
	}
	body, _, err := wire.ReadFrame(split, nil, wire.DefaultMaxFrame)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := wire.Decode(body); err != nil || m.Type() != wire.TReady || m.(*wire.Ready).MaxFrame != wire.DefaultMaxFrame {
		t.Errorf("answer %#v, %v; want a ready", m, err)
	}

	ping := dial()
	if _, err := ping.Write((&wire.Ping{Nonce: 1}).AppendFrame(nil)); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(ping); len(b) != 0 || err != nil {
		t.Errorf("a ping got %q, %v; want nothing, then the end of the stream", b, err)
	}

	empty := dial()
	if err := empty.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(empty); len(b) != 0 || err != nil {
		t.Errorf("no hello got %q, %v", b, err)
	}

	c, err := s.Close()
	if err != nil || c != (Counts{Accepted: 3, Answered: 1, Refused: 2}) {
		t.Errorf("counts %+v, %v", c, err)
	}
	for _, c := range []net.Conn{split, ping, empty} {
		_ = c.Close()
	}
}

// TestServeMain: the serve command prints its address, serves until its
// input ends, then prints its counts, which parseCounts reads.
func TestServeMain(t *testing.T) {
	var out bytes.Buffer
	if err := ServeMain("127.0.0.1:0", strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(&out)
	addr, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("address line %q, %v", addr, err)
	}
	if c, err := parseCounts(r); err != nil || c != (Counts{}) {
		t.Errorf("counts %+v, %v", c, err)
	}
	if _, err := parseCounts(bufio.NewReader(strings.NewReader("accepted x\n"))); err == nil {
		t.Error("a bad counts line parsed")
	}
	if err := ServeMain("localhost:0", strings.NewReader(""), io.Discard); err == nil {
		t.Error("a host name was listened on")
	}
}
