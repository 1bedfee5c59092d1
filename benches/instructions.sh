#!/usr/bin/env bash
# Instructions per span, counted by callgrind (repeatable whatever the machine's load):
# - calling thread: inside the measured loop, after a warm-up (the steady state);
# - whole process: every thread (the collector, the export thread and the encoder included),
#   as the difference between a run of N spans and a run of N/5, so that what a program pays
#   once (starting the pipeline, its queues, calibrating the clock) is left out; the plain
#   function's own cost is taken off both.
#   bash benches/instructions.sh [spans]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
SHORT=$(( N / 5 ))
cargo build --quiet --release -p traced-benches --example profile_spans
BIN=${CARGO_TARGET_DIR:-target}/release/examples/profile_spans
OUT=$(mktemp -d)
# The inclusive cost of the first function matching $2 in profile $1 (0 when none).
inclusive() { callgrind_annotate --inclusive=yes "$1" 2>/dev/null | awk -v f="$2" '$0 ~ f {gsub(",", "", $1); if (!done) print $1; done = 1} END {if (!done) print 0}'; }
# Every thread's instructions, less the two clock calibrations, which spin for a stretch of wall
# time (fastrace's TSC check at start-up, quanta's on the first reading): under callgrind their
# count varies by millions from run to run, whatever the spans do.
total() {
  local all ctor calibration
  all=$(callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); if (!done) print $1; done = 1}')
  ctor=$(inclusive "$1" 'tsc_now::___init___ctor::___init___ctor')
  calibration=$(inclusive "$1" 'once_cell::imp::OnceCell<T>::initialize ')
  echo $(( all - ctor - calibration ))
}
loop() { callgrind_annotate --inclusive=yes "$1" 2>/dev/null | awk '/hot_loop/ {gsub(",", "", $1); if (!done) print $1; done = 1}'; }
run() {
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$1.$2.out" "$BIN" "$1" "$2" >/dev/null 2>&1
}
# Whole-process instructions per span of `case`: (total(N) - total(N/5)) / (N - N/5).
marginal() {
  echo $(( ($(total "$OUT/$1.$N.out") - $(total "$OUT/$1.$SHORT.out")) / (N - SHORT) ))
}
run plain "$N"; run plain "$SHORT"
PLAIN_LOOP=$(loop "$OUT/plain.$N.out")
PLAIN_MARGINAL=$(marginal plain)
echo "| case | calling thread, instructions/span | whole process, instructions/span |"
echo "|---|---:|---:|"
for CASE in traced_no_provider traced traced_otlp traced_unsampled_parent traced_on_sdk_provider sdk_in_span sdk_start_end tracing_opentelemetry fastrace; do
  run "$CASE" "$N"; run "$CASE" "$SHORT"
  L=$(loop "$OUT/$CASE.$N.out")
  echo "| $CASE | $(( (L - PLAIN_LOOP) / N )) | $(( $(marginal "$CASE") - PLAIN_MARGINAL )) |"
done
rm -rf "$OUT"
