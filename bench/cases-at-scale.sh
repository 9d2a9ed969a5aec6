#!/usr/bin/env bash
# Worklists and figures at scale (10,000,000 cases by default) on SQLite: make the store once
# (kept in DATA_DIR for later runs: about an hour and 30 GB on two cores), serve it with the
# release build, and run bench/cases-at-scale.py against it.
#
# usage: bench/cases-at-scale.sh [DATA_DIR] [CASES] [YEARS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/bench-cases}
cases=${2:-10000000}
years=${3:-10}
repeats=${4:-30}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p zhili --bin zhili
bin="$target/release/zhili"
port=18490
export RUST_LOG=warn
if [ ! -f "$dir/zhili.db" ]; then
  echo "making $cases cases over $years years in $dir (once)"
  time "$bin" demo --no-serve --cases "$cases" --case-years "$years" --data-dir "$dir"
fi
"$bin" demo --data-dir "$dir" --listen "127.0.0.1:$port" >"$dir/bench-serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
# A store made by an older build migrates first (new indexes over every case).
for _ in $(seq 1 3600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
echo "database: $(du -h "$dir/zhili.db" | cut -f1)"
# The first escalation pass over the store's overdue backlog runs at start; let it finish.
sleep "${SETTLE:-120}"
python3 bench/cases-at-scale.py "http://127.0.0.1:$port" zhili-demo "$repeats"
