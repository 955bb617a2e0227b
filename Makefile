# swarmdesk: common tasks. `make help` lists them.
GO      ?= go
BENCHTIME ?= 2s
COUNT   ?= 1

.PHONY: help build run test test-long race lint fuzz bench bench-refserver stress scale find-max erlang sim-ten-million plan-peak report bench-ci bench-baseline results compare-designs soak chaos browser ci clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build refserver into bin/
	$(GO) build -o bin/refserver ./refserver

run: ## run refserver with the demo tenant on 127.0.0.1:7400 (admin :7480)
	$(GO) run ./refserver

test: ## the README's test command (≤ 5 min on a busy 2-core machine)
	$(GO) test -race ./...

# The long tests: each calls longtest.Require as its first statement, which
# skips it unless SWARMDESK_LONG=1. They run here alone, without -race
# (minutes of load, crash tests, searches over many runs, the Erlang grid).
test-long: ## the long and load-sensitive tests (SWARMDESK_LONG=1): chaos, find-max knee, Erlang grid, ...
	@tests=$$(bash tools/long-tests.sh); test -n "$$tests" || { echo "no long tests found"; exit 1; }; \
	echo "long tests: $$tests"; \
	SWARMDESK_LONG=1 $(GO) test -count=1 -timeout 20m -run "^($$tests)\$$" ./...

lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1 ./...

fuzz: ## fuzz every decoder and parser for FUZZTIME each (default 1m)
	@set -e; for t in "FuzzDecode ./refserver/wire" "FuzzFrames ./refserver/wire" "FuzzSession ./refserver/server" \
	  "FuzzDecodeMeta ./refserver/desk" "FuzzDecodeRecord ./refserver/store" "FuzzAsk ./refserver/bot" "FuzzLoadEntries ./refserver/bot" \
	  "FuzzDecode ./refserver/strictyaml" "FuzzParse ./refserver/tenant" "FuzzRead ./reports" \
	  "FuzzParseThreshold ./reports/compare" "FuzzParseTestLog ./tools/results/suite" "FuzzParseBenchmarks ./tools/results/suite"; do \
	  set -- $$t; $(GO) test -run '^$$' -fuzz "^$$1\$$" -fuzztime $${FUZZTIME:-1m} -fuzzminimizetime 5s $$2; done

bench: ## every benchmark (BENCHTIME, COUNT)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

bench-refserver: ## the benchmarks whose figures RESULTS.md quotes
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) \
	  ./refserver/wire ./refserver/routing ./refserver/bot ./refserver/desk ./refserver/fanout \
	  ./refserver/transport/gnet ./bench/record

stress: ## the concurrent routing test at 100 agents and 3,000 customers
	SWARMDESK_STRESS=1 $(GO) test -race -count=1 -run TestConcurrentRouting -v ./refserver/daemon

scale: ## bench run: 15,000 idle customers held by one bench process (RESULTS.md)
	$(GO) run ./bench run connections --out results/connections

find-max: ## bench run --find-max on the smoke scenario (RESULTS.md)
	$(GO) run ./bench run smoke --find-max --find-max-start 4 --find-max-steps 10 --out results/fm-smoke

chaos: ## crash test: bench run chaos for 2 minutes, the server killed (SIGKILL) every 10s and restarted
	$(GO) run ./bench run chaos --chaos kill-server:10s --durability sync --duration 20m --out results/chaos

erlang: ## bench sim against Erlang C and Erlang A, verbose (a long test)
	SWARMDESK_LONG=1 $(GO) test -count=1 -run '^TestErlang$$' -v ./bench/sim

sim-ten-million: ## bench sim of the ten-million scenario (about 15 minutes here)
	$(GO) build -o bin/bench ./bench && /usr/bin/time -v bin/bench sim ten-million --out results/sim-10m

plan-peak: ## bench plan on peak-hour: can one agent carry 20 chats? (about 400 CPU-s: 3-6 min on 2 cores)
	$(GO) run ./bench plan peak-hour --out results/plan-peak-hour.json

report: ## bench run smoke, then its HTML report in results/report.html
	$(GO) run ./bench run smoke --out results/report-smoke; test $$? -le 1
	$(GO) run ./bench report results/report-smoke -o results/report.html

bench-ci: ## regression benchmark: the short suite RUNS times against tools/ci/baseline (or BASE=rev, interleaved)
	bash tools/bench-ci.sh

bench-baseline: ## replace tools/ci/baseline with RUNS runs of this tree (then commit it)
	bash tools/bench-ci.sh --update

results: ## run the standard suite and regenerate RESULTS.md (about 55 minutes)
	$(GO) run ./tools/results --out RESULTS.md --work results/suite

compare-designs: ## gnet vs netstd vs HTTP long and short polling, same desk core: writes results/designs/report.md and RESULTS.md's comparison (about 20 minutes)
	$(GO) run ./tools/designs --out results/designs --results RESULTS.md

soak: ## a 10-minute soak of the server under steady load: no growth in memory or goroutines (DURATION=10m)
	$(GO) run ./tools/soak --duration $(or $(DURATION),10m)

browser: ## install Debian's chromium for the report's browser test
	bash tools/install-chromium.sh

ci: ## what CI runs
	bash .ci/run

clean:
	rm -rf bin
