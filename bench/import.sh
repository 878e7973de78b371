#!/usr/bin/env bash
# bench/import.sh [ROWS=1000000] — how fast `inroad leads import` loads a generated
# Sales Navigator style list, against the physical anchor `sqlite3 .import --csv` of
# the same file; and, into PostgreSQL, against `psql -c "\copy … csv header"` of the
# same file into a table of its columns (PG=0 skips that part). Prints seconds, the
# ratios and inroad's peak RSS, and whether the goals (ratios <= 1.5, RSS <= 150 MB)
# are met. Each side runs RUNS times (default 3), interleaved, into a fresh database
# each time. The goal is judged on the median of the runs' ratios, each between the
# two sides of one run, back to back: a virtual machine's speed can drift by a third
# from minute to minute, which a ratio of the two sides' medians (also printed) takes
# from different minutes, while a run's own ratio cancels it. The PostgreSQL server
# is a throwaway cluster started here like inroad-testkit's (initdb, loopback, fsync
# off; as the postgres user when run as root). Exits 0 whatever the goals' outcome;
# non-zero only if a command fails.
set -euo pipefail

rows="${1:-1000000}"
runs="${RUNS:-3}"
pg="${PG:-1}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${INROAD_SHARED:-$repo/../shared}"
inroad="${CARGO_TARGET_DIR:-$repo/target}/release/inroad"
for cmd in python3 sqlite3 /usr/bin/time; do
    command -v "$cmd" >/dev/null || { echo "bench/import.sh: $cmd not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
pgdir=""
cleanup() {
    if [ -n "$pgdir" ]; then
        as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pgdir"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

# as_pg CMD...: runs CMD as the postgres user when root (initdb and postgres refuse root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@") # from a directory that user may enter
    else
        "$@"
    fi
}

echo "generating $rows rows..." >&2
python3 "$shared/tools/gen_leads.py" "$rows" leads.csv --style salesnav --seed 1
(cd "$repo" && cargo build --release --locked -p inroad)

if [ "$pg" = 1 ]; then
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$pgbin" ] || pgbin="$(dirname "$(command -v initdb || echo /initdb-not-found)")"
    [ -x "$pgbin/initdb" ] || { echo "bench/import.sh: PostgreSQL's initdb not found (PG=0 skips)" >&2; exit 1; }
    pgdir="$(mktemp -d)"
    [ "$(id -u)" = 0 ] && chown postgres "$pgdir"
    pgport="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o \
        "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U postgres)
    # The anchor's table: the file's columns, all text (what \copy can load as is).
    columns="$(head -1 leads.csv | python3 -c 'import csv, sys; print(", ".join("\"%s\" text" % c.replace("\"", "\"\"") for c in next(csv.reader(sys.stdin))))')"
fi

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

# ratio A B: A / B to two decimals (0 when B is 0).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b > 0 ? a / b : 0) }'
}

: >inroad.runs
: >sqlite.runs
: >rss.runs
: >inroad_pg.runs
: >psql.runs
: >rss_pg.runs
: >ratio.runs
: >ratio_pg.runs
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
    ratio "$(tail -1 inroad.runs)" "$(tail -1 sqlite.runs)" >>ratio.runs
    echo "run $run: inroad $(tail -1 inroad.runs) s, sqlite3 .import $(tail -1 sqlite.runs) s, ratio $(tail -1 ratio.runs)" >&2
    if [ "$pg" = 1 ]; then
        "${psql[@]}" -d postgres -c "CREATE DATABASE inroad_$run" -c "CREATE DATABASE anchor_$run"
        "${psql[@]}" -d "anchor_$run" -c "CREATE TABLE leads_anchor ($columns)"
        url="postgres://postgres@127.0.0.1:$pgport/inroad_$run"
        "$inroad" --db "$url" --key-file inroad.key init 2>/dev/null
        timed inroad_pg.time "$inroad" --db "$url" --key-file inroad.key leads import leads.csv --json >inroad_pg.json
        timed psql.time "${psql[@]}" -d "anchor_$run" -c "\\copy leads_anchor FROM 'leads.csv' csv header"
        read -r s kb <inroad_pg.time
        echo "$s" >>inroad_pg.runs
        echo "$kb" >>rss_pg.runs
        read -r s _ <psql.time
        echo "$s" >>psql.runs
        ratio "$(tail -1 inroad_pg.runs)" "$(tail -1 psql.runs)" >>ratio_pg.runs
        echo "run $run: inroad into PostgreSQL $(tail -1 inroad_pg.runs) s, psql \\copy $(tail -1 psql.runs) s, ratio $(tail -1 ratio_pg.runs)" >&2
        "${psql[@]}" -d postgres -c "DROP DATABASE inroad_$run" -c "DROP DATABASE anchor_$run"
    fi
done
inroad_s="$(median inroad.runs)"
sqlite_s="$(median sqlite.runs)"
inroad_kb="$(sort -n rss.runs | tail -1)"
ratio_s="$(median ratio.runs)"
rss_mb="$(awk -v k="$inroad_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
goal="$(awk -v r="$ratio_s" -v m="$rss_mb" 'BEGIN { print (r <= 1.5 && m <= 150) ? "PASS" : "FAIL" }')"

printf '%-22s %s\n' \
    rows "$rows" \
    "runs (median of)" "$runs" \
    "inroad seconds" "$inroad_s" \
    "sqlite3 .import secs" "$sqlite_s" \
    "ratio inroad/sqlite3" "$ratio_s (median of the runs' ratios)" \
    "ratio of the medians" "$(ratio "$inroad_s" "$sqlite_s")" \
    "inroad peak RSS MB" "$rss_mb (max over runs)"
printf '%-22s %s\n' "inroad summary" "$(tr -d '\n' <inroad.json)"
echo "GOAL ratio<=1.5 rss<=150MB: $goal"
if [ "$pg" = 1 ]; then
    inroad_pg_s="$(median inroad_pg.runs)"
    psql_s="$(median psql.runs)"
    pg_kb="$(sort -n rss_pg.runs | tail -1)"
    pg_ratio="$(median ratio_pg.runs)"
    pg_mb="$(awk -v k="$pg_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
    pg_goal="$(awk -v r="$pg_ratio" 'BEGIN { print (r <= 1.5) ? "PASS" : "FAIL" }')"
    printf '%-22s %s\n' \
        "PostgreSQL" "$("$pgbin/postgres" --version)" \
        "inroad pg seconds" "$inroad_pg_s" \
        "psql \\copy seconds" "$psql_s" \
        "ratio inroad/\\copy" "$pg_ratio (median of the runs' ratios)" \
        "ratio of the medians" "$(ratio "$inroad_pg_s" "$psql_s")" \
        "inroad pg peak RSS MB" "$pg_mb (max over runs)"
    printf '%-22s %s\n' "inroad pg summary" "$(tr -d '\n' <inroad_pg.json)"
    echo "GOAL PostgreSQL ratio<=1.5: $pg_goal"
fi
