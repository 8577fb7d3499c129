#!/bin/bash
# Old against new checkout, interleaved in one run: the core and processors
# benchmarks (each checkout's own files) three times, and an in-process sync
# of 20,000 operations five times. Used for issue 16's "within 5%" check.
# The `core` bench exists only in checkouts before 15e8307; for later code
# `npm run bench -- ratios --base DIR` is the before/after of those paths.
#   bench/compare/trees.sh <old checkout> <new checkout> <out dir>
set -u
OLD=$1; NEW=$2; OUT=$3; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
for round in 1 2 3; do
  for side in old new; do
    dir=$OLD; [ $side = new ] && dir=$NEW
    (cd "$dir" && node --import tsx bench/run.ts core --ops 20000 --publish-ops 2000 --out "$OUT/core-$side-$round.json" >/dev/null 2>&1)
    (cd "$dir" && node --import tsx bench/run.ts processors --ops 20000 --processes 1 --runs 2 --out "$OUT/processors-$side-$round.json" >/dev/null 2>&1)
    echo "$(date +%T) round $round $side load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
for round in 1 2 3 4 5; do
  for side in old new; do
    dir=$OLD; [ $side = new ] && dir=$NEW
    (cd "$dir" && node --import tsx "$HERE/sync-inproc.mts" "$dir" 20000 >> "$OUT/sync-inproc.jsonl")
  done
done
