#!/usr/bin/env bash
# Runs every fuzz target briefly (FUZZ_SECONDS each, default 15). Needs a nightly
# toolchain and cargo-fuzz; says so loudly, and exits 0, when either is missing.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-15}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "!!!! FUZZING SKIPPED: no nightly toolchain (rustup toolchain install nightly) !!!!"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz missing: installing it"
  if ! cargo +nightly install cargo-fuzz --locked --quiet; then
    echo "!!!! FUZZING SKIPPED: cargo-fuzz could not be installed !!!!"
    exit 0
  fi
fi

status=0
mkdir -p target
for target in $(cargo +nightly fuzz list); do
  echo "-- fuzz $target for ${seconds}s"
  log="target/fuzz-$target.log"
  if cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 >"$log" 2>&1; then
    grep -E "^Done|stat::number_of_executed_units" "$log" | tail -n 2
  else
    tail -n 40 "$log"
    echo "!! fuzz target $target FAILED (input saved under fuzz/artifacts/$target)"
    status=1
  fi
done
exit $status
