#!/usr/bin/env bash
# bench/import.sh [ROWS=1000000] — how fast `inroad leads import` loads a generated
# Sales Navigator style list, against the physical anchor `sqlite3 .import --csv` of
# the same file. Prints seconds, the ratio and inroad's peak RSS, and whether the goal
# (ratio <= 1.5, RSS <= 150 MB) is met. Exits 0 whatever the goal's outcome; non-zero
# only if a command fails.
set -euo pipefail

rows="${1:-1000000}"
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

"$inroad" --db "$tmp/inroad.db" init >/dev/null
timed inroad.time "$inroad" --db "$tmp/inroad.db" leads import leads.csv --json >inroad.json
timed sqlite.time sqlite3 "$tmp/anchor.db" ".import --csv leads.csv leads"

read -r inroad_s inroad_kb <inroad.time
read -r sqlite_s _ <sqlite.time
ratio="$(awk -v a="$inroad_s" -v b="$sqlite_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
rss_mb="$(awk -v k="$inroad_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
goal="$(awk -v r="$ratio" -v m="$rss_mb" 'BEGIN { print (r <= 1.5 && m <= 150) ? "PASS" : "FAIL" }')"

printf '%-22s %s\n' \
    rows "$rows" \
    "inroad seconds" "$inroad_s" \
    "sqlite3 .import secs" "$sqlite_s" \
    "ratio inroad/sqlite3" "$ratio" \
    "inroad peak RSS MB" "$rss_mb"
printf '%-22s %s\n' "inroad summary" "$(tr -d '\n' <inroad.json)"
echo "GOAL ratio<=1.5 rss<=150MB: $goal"
