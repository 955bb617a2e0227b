#!/usr/bin/env bash
# The CI regression benchmark: plays the standard short suite RUNS times
# and compares it with a baseline, writing a Markdown verdict (and, under
# GitHub Actions, the job summary). Exit status is bench compare's: 0 no
# regression beyond noise, 1 a regression, 2 a setup failure or an
# inconclusive comparison (RUNS under 4).
#
#   tools/bench-ci.sh                  compare with the baseline in tools/ci/baseline
#   BASE=origin/main tools/bench-ci.sh build BASE too, and interleave its runs
#                                      with this tree's (base-1, new-1, base-2, ...)
#   tools/bench-ci.sh --update         replace the stored baseline with RUNS
#                                      runs of this tree (then commit it)
#
# Environment: RUNS (default 6: Mann–Whitney needs at least 4 a side to
# call anything significant, benchmath 6 for a 95% interval), SUITE (scenarios, default "smoke"), OUT
# (default results/ci), THRESHOLDS (default tools/ci/thresholds.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-6}
SUITE=${SUITE:-smoke}
OUT=${OUT:-results/ci}
THRESHOLDS=${THRESHOLDS:-tools/ci/thresholds.txt}
BASELINE=tools/ci/baseline
update=false
[ "${1:-}" = "--update" ] && update=true

mkdir -p bin "$OUT"
go build -o bin/bench ./bench

base_bin=""
if [ -n "${BASE:-}" ] && ! $update; then
  # Build the base revision in a throwaway worktree.
  wt=$(mktemp -d)
  trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || true' EXIT
  git worktree add --detach "$wt" "$BASE" >/dev/null
  (cd "$wt" && go build -o "$OLDPWD/bin/bench-base" ./bench)
  base_bin=bin/bench-base
fi

# play BIN DIR SCENARIO I: one run of the suite's scenario; an objective
# failing (exit 1) is the comparison's business, not a setup failure.
play() {
  local bin=$1 dir=$2 sc=$3 i=$4 rc=0
  rm -rf "$dir/$sc/run-$i"
  "$bin" run "$sc" --seed "$i" --out "$dir/$sc/run-$i" >"$dir/$sc/run-$i.log" 2>&1 || rc=$?
  if [ "$rc" -ge 2 ]; then
    echo "bench-ci: $bin run $sc failed (exit $rc):" >&2; tail -20 "$dir/$sc/run-$i.log" >&2; exit 2
  fi
  rm -f "$dir/$sc/run-$i"/*.hlog
}

if $update; then
  rm -rf "$BASELINE"
  for sc in $SUITE; do
    mkdir -p "$BASELINE/$sc"
    for i in $(seq 1 "$RUNS"); do play bin/bench "$BASELINE" "$sc" "$i"; rm -f "$BASELINE/$sc/run-$i.log"; done
  done
  git rev-parse --short HEAD > "$BASELINE/COMMIT"
  echo "bench-ci: baseline of $RUNS runs of [$SUITE] written to $BASELINE at $(cat "$BASELINE/COMMIT"); commit it"
  exit 0
fi

rm -rf "$OUT/new" "$OUT/base"
for sc in $SUITE; do
  mkdir -p "$OUT/new/$sc" "$OUT/base/$sc"
  for i in $(seq 1 "$RUNS"); do
    # Interleaved, so that drift of the machine over the minutes the suite
    # takes falls on both sides alike.
    [ -n "$base_bin" ] && play "$base_bin" "$OUT/base" "$sc" "$i"
    play bin/bench "$OUT/new" "$sc" "$i"
  done
done

rc=0
: > "$OUT/verdict.md"
for sc in $SUITE; do
  base_dir="$OUT/base/$sc"
  [ -n "$base_bin" ] || base_dir="$BASELINE/$sc"
  src="stored baseline ($(cat "$BASELINE/COMMIT" 2>/dev/null || echo unknown commit))"
  [ -n "$base_bin" ] && src="$BASE, interleaved"
  echo "## $sc: $(git rev-parse --short HEAD) against $src" >> "$OUT/verdict.md"
  c=0
  bin/bench compare "$base_dir" "$OUT/new/$sc" --thresholds "$THRESHOLDS" \
    --json "$OUT/$sc-verdict.json" >> "$OUT/verdict.md" || c=$?
  if [ "$c" -ge 2 ]; then cat "$OUT/verdict.md"; exit "$c"; fi
  [ "$c" -eq 1 ] && rc=1
done
cat "$OUT/verdict.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$OUT/verdict.md" >> "$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
