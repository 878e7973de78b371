#!/usr/bin/env bash
# bench/import.sh [ROWS=1000000] — how fast `inroad leads import` loads a generated
# Sales Navigator style list, against the physical anchor `sqlite3 .import --csv` of
# the same file. Prints seconds, the ratio and inroad's peak RSS, and whether the goal
# (ratio <= 1.5, RSS <= 150 MB) is met. Each side runs RUNS times (default 3),
# interleaved, into a fresh database each time; the medians are compared. Exits 0
# whatever the goal's outcome; non-zero only if a command fails.
set -euo pipefail

rows="${1:-1000000}"
runs="${RUNS:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${INROAD_SHARED:-$repo/../shared}"
inroad="${CARGO_TARGET_DIR:-$repo/target}/release/inroad"
for cmd in python3 sqlite3 /usr/bin/time; do
    command -v "$cmd" >/dev/null || { echo "bench/import.sh: $cmd not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

echo "generating $rows rows..." >&2
python3 "$shared/tools/gen_leads.py" "$rows" leads.csv --style salesnav --seed 1
(cd "$repo" && cargo build --release --locked -p inroad)

# timed RESULT_FILE CMD...: runs CMD under /usr/bin/time, writing "seconds max_rss_kb".
timed() {
    local out="$1"
    shift
    /usr/bin/time -f '%e %M' -o "$out" "$@"
}

# median FILE: the median of the first column of FILE's lines.
median() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

: >inroad.runs
: >sqlite.runs
: >rss.runs
for run in $(seq "$runs"); do
    rm -f inroad.db* anchor.db
    "$inroad" --db inroad.db init 2>/dev/null
    timed inroad.time "$inroad" --db inroad.db leads import leads.csv --json >inroad.json
    timed sqlite.time sqlite3 anchor.db ".import --csv leads.csv leads"
    read -r s kb <inroad.time
    echo "$s" >>inroad.runs
    echo "$kb" >>rss.runs
    read -r s _ <sqlite.time
    echo "$s" >>sqlite.runs
    echo "run $run: inroad $(tail -1 inroad.runs) s, sqlite3 .import $(tail -1 sqlite.runs) s" >&2
done
inroad_s="$(median inroad.runs)"
sqlite_s="$(median sqlite.runs)"
inroad_kb="$(sort -n rss.runs | tail -1)"
ratio="$(awk -v a="$inroad_s" -v b="$sqlite_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
rss_mb="$(awk -v k="$inroad_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
goal="$(awk -v r="$ratio" -v m="$rss_mb" 'BEGIN { print (r <= 1.5 && m <= 150) ? "PASS" : "FAIL" }')"

printf '%-22s %s\n' \
    rows "$rows" \
    "runs (median of)" "$runs" \
    "inroad seconds" "$inroad_s" \
    "sqlite3 .import secs" "$sqlite_s" \
    "ratio inroad/sqlite3" "$ratio" \
    "inroad peak RSS MB" "$rss_mb (max over runs)"
printf '%-22s %s\n' "inroad summary" "$(tr -d '\n' <inroad.json)"
echo "GOAL ratio<=1.5 rss<=150MB: $goal"
