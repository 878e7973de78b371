#!/usr/bin/env bash
# bench/plan.sh — one planning pass (`inroad_core::planner::plan`) over 1,000 mailboxes and
# 1,000,000 and 5,000,000 active enrolments (a tenth of them due now), and the worst case
# with every sending window closed. Beside each figure, the anchor measured in the same run:
# one plain linear pass over the same due list summing a field. Prints the table and whether
# the goals (1M pass <= 200 ms; 5M / 1M <= 1.5) are met. Exits 0 whatever the goals'
# outcome; non-zero only if the benchmark fails to build or run.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo run --release --locked -p inroad-core --example plan_bench
