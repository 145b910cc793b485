#!/bin/bash
# Search at scale, two commits compared in one run: the bench's search child for OLD and
# NEW in turn, ROUNDS times, on the same seeded database (restored from SEED_CACHE, made
# by a first run of bench/transcripts.py --seed-cache). Each commit runs from its own
# `git archive`, so the working tree is not touched. Run it on a quiet machine.
#
#   bench/search_old_new.sh OLD NEW ENGINE OUTDIR [ROUNDS] [REQUESTS] [SEED_CACHE]
#   e.g. bench/search_old_new.sh a38eea6 HEAD postgresql /tmp/ab 2 8 /tmp/seedcache16
#
# Writes OUTDIR/{old,new}-N.json (bench/transcripts.py's raw results); the tables in
# docs/benchmarks.md ("Search") were made from those files.
set -euo pipefail
old=$1 new=$2 engine=$3 out=$4 rounds=${5:-2} requests=${6:-8} cache=${7:-/tmp/seedcache}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
trees=$(mktemp -d)
trap 'rm -rf "$trees"' EXIT
mkdir -p "$out"
for side in old new; do
  rev=${!side}
  mkdir -p "$trees/$side"
  git -C "$root" archive "$rev" | tar -x -C "$trees/$side"
done
for round in $(seq 1 "$rounds"); do
  for side in old new; do
    tree=$trees/$side
    (cd "$tree" && PYTHONPATH=$tree/src:$tree/bench "$python" bench/transcripts.py \
      --search-child "$engine" --recordings 100000 --requests "$requests" \
      --seed-cache "$cache" > "$out/$side-$round.json")
    echo "$side $round done $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
