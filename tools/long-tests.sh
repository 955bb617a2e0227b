#!/usr/bin/env bash
# Prints the names of the long tests, joined by |, for go test -run: the
# test functions whose first statement is longtest.Require (they skip
# unless SWARMDESK_LONG=1). Used by make test-long.
set -euo pipefail
cd "$(dirname "$0")/.."
git grep -h -A1 -E '^func (Test|Example)[A-Za-z0-9_]*\(' -- '*_test.go' |
  grep -B1 'longtest\.Require' | grep -oE '^func [A-Za-z0-9_]+' | sed 's/^func //' | sort -u | paste -sd'|'
