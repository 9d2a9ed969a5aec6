#!/usr/bin/env bash
# Durable intake through the HTTP API (上报吞吐), SQLite then PostgreSQL, in one run:
# start the release demo on each backend, drive it with CLIENTS concurrent clients for SECONDS,
# print reports/s and latency percentiles. Every answered report is on disk.
#
# usage: bench/intake.sh [CLIENTS] [SECONDS]
# ZHILI_BIN: the server binary to measure (default: this build), to compare builds in one run.
# PostgreSQL: ZHILI_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/zhili_bench; the
# database is dropped and created).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-64}
seconds=${2:-20}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p zhili --bin zhili --example intake_bench
bin="${ZHILI_BIN:-$target/release/zhili}"
bench="$target/release/examples/intake_bench"
pg=${ZHILI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/zhili_bench}
port=18480
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export ZHILI_ADMIN_PASSWORD=bench-admin-2026 RUST_LOG=warn
cases_flag=()
if "$bin" demo --help | grep -q -- '--cases'; then cases_flag=(--cases 0); fi

run() {
  local name=$1; shift
  "$bin" demo --listen "127.0.0.1:$port" "${cases_flag[@]}" "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
  echo "== $name"
  "$bench" "http://127.0.0.1:$port" zhili-demo "$clients" "$seconds"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run sqlite --data-dir "$work/data"
admin=${pg%/*}/postgres
db=${pg##*/}
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
run postgresql --database-url "$pg"
