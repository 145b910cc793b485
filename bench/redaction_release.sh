#!/bin/sh
# Issue 15's figures in one run: every tool (deface 1.5.0 full resolution and
# --scale 640x360, overt's coverage and fast settings) on the hard evaluation set's
# held-out seeds, then the same tools' speed at 720p and the render path with its leak
# check, one after the other on the same machine and code. Run it alone on the machine
# (the team's runs used /tmp/team/bin/quiet). Outputs: Markdown and JSON under OUT.
#   bench/redaction_release.sh [OUT] [SEEDS]
set -eu
OUT=${1:-bench/out/redaction-release}
SEEDS=${2:-"41 97"}
PY=.venv/bin/python
mkdir -p "$OUT"
if [ ! -d "$OUT/speed-clips" ]; then  # made first, untimed
    $PY bench/redaction.py --make-clips "$OUT/speed-clips" --clips 2 --seconds 8
fi
echo "start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/run.txt"
for seed in $SEEDS; do
    $PY bench/redaction_leaks.py --seed "$seed" --json-out "$OUT/leaks-$seed.json" \
        > "$OUT/leaks-$seed.md"
    echo "seed $seed done $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/run.txt"
done
$PY bench/redaction.py --speed "$OUT/speed-clips" > "$OUT/speed.md"
echo "end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/run.txt"
