#!/usr/bin/env bash
# Page weight and load time of /map and /dashboard in headless Chromium on throttled "Slow 3G"
# (400 kbit/s, 400 ms RTT) and "Fast 3G" (1.6 Mbit/s down, 150 ms RTT) connections, logged in as
# the demo's operator: starts the release demo (seeded once, CASES synthetic cases) and runs
# bench/page-weight.js against it (medians of RUNS loads). A benchmark: not run in CI.
#
# usage: bench/page-weight.sh [RUNS] [CASES]
# ZHILI_BIN: the server binary to measure (default: this build, built here).
# ZHILI_BASE_BIN: also measure this binary first (before/after in one run, same data), e.g. the
#   base commit's: git worktree add /tmp/zhili-base <commit> && cargo build --release -p zhili
#   --manifest-path /tmp/zhili-base/Cargo.toml && ZHILI_BASE_BIN=$CARGO_TARGET_DIR/release/zhili
#   (copy it aside before building this tree).
# ZHILI_COMPARE_UNCOMPRESSED=1: also measure this binary with server.compress = false first
#   (JSON and vector tiles uncompressed; the precompressed assets as always).
# Needs node, chromium (/usr/bin/chromium or CHROMIUM) and playwright-core in
# target/browser/node_modules (npm install --prefix target/browser playwright-core@1).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cases=${2:-20000}
target=${CARGO_TARGET_DIR:-target}
if [ -z "${ZHILI_BIN:-}" ]; then
  cargo build --release -q -p zhili --bin zhili
fi
bin="${ZHILI_BIN:-$target/release/zhili}"
export NODE_PATH="$PWD/target/browser/node_modules"
port=18481
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export ZHILI_ADMIN_PASSWORD=bench-admin-2026 RUST_LOG=warn

"$bin" demo --no-serve --cases "$cases" --data-dir "$work/data" >"$work/seed.log" 2>&1

measure() {
  local name=$1 b=$2 compress=${3:-true}
  ZHILI_SERVER_COMPRESS=$compress "$b" demo --listen "127.0.0.1:$port" --cases "$cases" --data-dir "$work/data" >"$work/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
  sleep 10 # let the server compress its assets at start-up (a few seconds of one core) first
  node bench/page-weight.js "http://127.0.0.1:$port" "$name" "$runs"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

if [ -n "${ZHILI_BASE_BIN:-}" ]; then measure before "$ZHILI_BASE_BIN"; fi
if [ -n "${ZHILI_COMPARE_UNCOMPRESSED:-}" ]; then measure uncompressed "$bin" false; fi
measure after "$bin"
