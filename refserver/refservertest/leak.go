package refservertest

import "go.uber.org/goleak"

// LeakOptions are the goleak options for tests that start servers: the
// goroutines that gnet's shared worker pool, fasthttp's date ticker and its
// worker pool's cleaner (which sleeps 10s before it sees a stop) keep by
// design after a server closes.
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(m, refservertest.LeakOptions()...) }
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	}
}
