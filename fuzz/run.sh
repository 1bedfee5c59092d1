#!/bin/sh
# Fuzzes `propagation::extract` (fuzz/fuzz_targets/extract.rs) for a while; not run in CI.
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`), which build the target
# with the sanitizer instrumentation libFuzzer needs. Usage: fuzz/run.sh [seconds] (default 60).
# A crash leaves its input in fuzz/artifacts/extract/; `cargo +nightly fuzz run extract <file>`
# replays it.
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-60}"
mkdir -p fuzz/corpus/extract
# Seeds: a valid traceparent, tracestate and baggage, each after its header pick byte.
printf '\000%s\377\001%s\377\002%s' \
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
    'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' \
    'userId=alice,serverNode=DF%2028;p=q' > fuzz/corpus/extract/seed
exec cargo +nightly fuzz run extract fuzz/corpus/extract -- -max_total_time="$seconds" -max_len=65536
