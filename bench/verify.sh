#!/usr/bin/env bash
# bench/verify.sh [ADDRESSES=10000] [DOMAINS=200] — how fast `inroad verify` checks
# addresses against slow mail servers, and how few connections it needs.
#
# Every domain has its own MX host (a loopback IP) served by inroad-fake-mx, which
# answers every SMTP reply 25 ms late. The verifier may open at most 2 sessions per
# host. Prints the wall time, connections per RCPT, and the lower bound on wall time
# that the verifier's own peak concurrency P allows. Replies come one after another
# within a session, 25 ms each, and every session must wait for at least three
# before its first RCPT verdict (greeting, EHLO, MAIL FROM). So the R RCPTs spread
# over at most P sessions at once need, in the best case, (3 + R / P) × 25 ms
# (the plain R × 25 ms / P is printed too). Goals: <= 0.05 connections per RCPT,
# wall time <= 1.5 × that bound.
set -euo pipefail

addresses="${1:-10000}"
domains="${2:-200}"
delay_ms=25
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}/release"

tmp="$(mktemp -d)"
cleanup() {
    [[ -n ${mx_pid:-} ]] && kill "$mx_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$repo" && cargo build --release --locked -p inroad -p inroad-testkit)

python3 - "$addresses" "$domains" >"$tmp/users.txt" <<'PY'
import sys
n, d = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    print(f"user{i // d}@domain{i % d}.test")
PY

# The fake MX runs until its stdin closes: keep a pipe open to it.
mkfifo "$tmp/hold"
"$target/inroad-fake-mx" --users-file "$tmp/users.txt" --delay-ms "$delay_ms" \
    --stats-file "$tmp/mx-stats.json" <"$tmp/hold" >"$tmp/mx.out" 2>"$tmp/mx.err" &
mx_pid=$!
exec 3>"$tmp/hold"
for _ in $(seq 600); do
    grep -q '^SMTP_PORT=' "$tmp/mx.out" 2>/dev/null && break
    kill -0 "$mx_pid" 2>/dev/null || { cat "$tmp/mx.err" >&2; exit 1; }
    sleep 0.1 # waiting for the fake server to print its ports
done
dns="$(sed -n 's/^DNS=//p' "$tmp/mx.out")"
port="$(sed -n 's/^SMTP_PORT=//p' "$tmp/mx.out")"

start=$(date +%s.%N)
"$target/inroad" --db "$tmp/inroad.db" verify --file "$tmp/users.txt" --json \
    --helo-name bench.inroad.test --mail-from bench@inroad.test \
    --dns "$dns" --smtp-port "$port" --sessions-per-host 2 --max-sessions 1024 \
    --retry-after 0 >"$tmp/results.json"
end=$(date +%s.%N)
exec 3>&-
wait "$mx_pid" || true
mx_pid=

python3 - "$tmp/results.json" "$tmp/mx-stats.json" "$start" "$end" "$delay_ms" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
stats = json.load(open(sys.argv[2]))
wall = float(sys.argv[4]) - float(sys.argv[3])
delay = float(sys.argv[5]) / 1000
statuses = {}
for r in results:
    statuses[r["status"]] = statuses.get(r["status"], 0) + 1
rcpts, conns = stats["rcpts"], stats["connections"]
peak = stats["peak_concurrency_total"]
naive = rcpts * delay / peak
bound = (3 + rcpts / peak) * delay
print(f"addresses              {len(results)}  {statuses}")
print(f"wall time              {wall:.2f} s")
print(f"connections / RCPTs    {conns} / {rcpts} = {conns / rcpts:.4f}")
print(f"peak sessions          {peak} (per host max {stats['peak_concurrency_per_host_max']})")
print(f"lower bound            (3 + {rcpts} / {peak}) x {delay * 1000:.0f} ms = {bound:.2f} s"
      f"  (RCPT replies alone: {naive:.2f} s)")
print(f"wall / bound           {wall / bound:.2f}")
ok = conns / rcpts <= 0.05 and wall / bound <= 1.5 and stats["peak_concurrency_per_host_max"] <= 2
print(f"GOAL conns/RCPT<=0.05, wall<=1.5x bound, <=2 per host: {'PASS' if ok else 'FAIL'}")
PY
