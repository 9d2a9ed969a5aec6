#!/usr/bin/env bash
# Grid assignment, measured side by side in one run: zhili's in-memory index (one core) and
# PostgreSQL/PostGIS on the demo's 4,509 small grids and the same points — N random ones (default
# 1,000,000) plus every vertex and edge midpoint of every grid. PostGIS gets the points as its
# users keep them, in a table with a GiST index, VACUUM ANALYZEd, and is asked in eight ways: the
# spatial join and the polygon-driven CROSS JOIN LATERAL (… OFFSET 0), the smallest code per point
# by GROUP BY or kept by the client, serial or with two parallel workers made cheap; all eight
# again after CLUSTER on the index. Prints the fastest of these against zhili (medians of three
# runs) and the ratio, then the old baseline (a correlated subquery per point over unnested
# arrays, no point index) as a second line, then every form with its plan; fails if any answer
# differs.
# Then the criterion micro-benchmark of the index alone (lookups/s, build time, memory).
#
#   bench/grid-assign.sh [N]
#
# Needs a PostgreSQL with PostGIS; ZHILI_TEST_POSTGRES_URL defaults to the local one.
set -euo pipefail
cd "$(dirname "$0")/.."
export ZHILI_TEST_POSTGRES_URL="${ZHILI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export ZHILI_GRID_BENCH_POINTS="${1:-1000000}"
cargo test --release -p zhili-store-postgres --test postgis_agreement -- --nocapture
cargo bench -p zhili-geo --bench lookup
