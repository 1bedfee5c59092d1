#!/usr/bin/env bash
# Instructions per span, counted by callgrind (repeatable whatever the machine's load):
# on the calling thread (inside the measured loop, after a warm-up) and for the whole process
# (the export side and the warm-up included, less the same program running the plain function).
#   bash benches/instructions.sh [spans]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
# The spans profile_spans makes before its measured loop (`WARM_UP`).
WARM_UP=1000
cargo build --quiet --release -p traced-benches --example profile_spans
BIN=${CARGO_TARGET_DIR:-target}/release/examples/profile_spans
OUT=$(mktemp -d)
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); if (!done) print $1; done = 1}'; }
loop() { callgrind_annotate --inclusive=yes "$1" 2>/dev/null | awk '/hot_loop/ {gsub(",", "", $1); if (!done) print $1; done = 1}'; }
run() {
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$1.out" "$BIN" "$1" "$N" >/dev/null 2>&1
}
run plain
PLAIN_TOTAL=$(total "$OUT/plain.out")
PLAIN_LOOP=$(loop "$OUT/plain.out")
echo "| case | calling thread, instructions/span | whole process, instructions/span |"
echo "|---|---:|---:|"
for CASE in traced_no_provider traced traced_otlp traced_unsampled_parent traced_on_sdk_provider sdk_in_span sdk_start_end tracing_opentelemetry fastrace; do
  run "$CASE"
  T=$(total "$OUT/$CASE.out"); L=$(loop "$OUT/$CASE.out")
  echo "| $CASE | $(( (L - PLAIN_LOOP) / N )) | $(( (T - PLAIN_TOTAL) / (N + WARM_UP) )) |"
done
rm -rf "$OUT"
