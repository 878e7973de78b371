#!/usr/bin/env bash
# bench/forecast.sh [LEADS=100000] — how long `inroad forecast` takes for a 4-step campaign
# (email, LinkedIn invitation, LinkedIn message, email) of LEADS leads over 50 mailboxes
# (half of them warming up) and 10 LinkedIn accounts, beside the anchor measured in the
# same run: `sqlite3` reading the enrolments with their leads once (what the forecast
# starts from); each RUNS times (default 3), the medians compared. Prints both times,
# their ratio, the forecast's dates, and whether the goal (<= 2 s) is met. Exits 0
# whatever the goal's outcome; non-zero only if a command fails.
set -euo pipefail

leads="${1:-100000}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
inroad="${CARGO_TARGET_DIR:-$repo/target}/release/inroad"
for cmd in python3 sqlite3; do
    command -v "$cmd" >/dev/null || { echo "bench/forecast.sh: $cmd not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$repo" && cargo build --release --locked -p inroad)

db="$tmp/inroad.db"
# A fifth of the leads in New York, the rest without a zone (the mailboxes' is used);
# twenty leads a company domain.
python3 - "$leads" >"$tmp/leads.csv" <<'PY'
import sys
print("Email,First Name,Company,LinkedIn URL,Timezone")
for i in range(int(sys.argv[1])):
    zone = "America/New_York" if i % 5 == 0 else ""
    print(f"p{i}@corp{i // 20}.example,Pat{i},Corp {i // 20},https://www.linkedin.com/in/pat-{i},{zone}")
PY
"$inroad" --db "$db" leads import "$tmp/leads.csv" --list all 2>/dev/null
names=()
for i in $(seq 50); do
    warmup=()
    ((i % 2)) && warmup=(--warmup 15:2)
    "$inroad" --db "$db" mailbox add "m$i" --from "Sender $i <m$i@acme.example>" --smtp-host localhost \
        --daily-cap 40 "${warmup[@]}" --timezone Europe/Berlin 2>/dev/null
    names+=("\"m$i\"")
done
accounts=()
for i in $(seq 10); do
    "$inroad" --db "$db" linkedin account add "li$i" --plan premium-business --timezone Europe/Berlin 2>/dev/null
    accounts+=("\"li$i\"")
done
cat >"$tmp/c.toml" <<TOML
name = "bench"
mailboxes = [$(IFS=,; echo "${names[*]}")]
linkedin_accounts = [$(IFS=,; echo "${accounts[*]}")]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://u.acme.example"
timezone = "Europe/Berlin"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }

[[steps]]
subject = "A question about {{ company }}"
body = "Hi {{ first_name }}, how does {{ company }} handle returns today?"

[[steps]]
channel = "linkedin_connect"
wait_days = 2
note = "Hi {{ first_name }}, I wrote to you about returns at {{ company }}."
if_not_accepted_after_days = 7

[[steps]]
channel = "linkedin_message"
wait_days = 1
body = "Thanks for connecting, {{ first_name }}!"

[[steps]]
wait_days = 3
body = "Hi {{ first_name }}, following up on my note."
TOML
"$inroad" --db "$db" campaign create "$tmp/c.toml" 2>/dev/null
"$inroad" --db "$db" campaign enroll bench --list all --allow-unverified 2>/dev/null
"$inroad" --db "$db" campaign start bench 2>/dev/null

# Each side runs RUNS times (default 3), interleaved; the medians are compared (this
# machine's speed drifts from run to run more than a single run can tell).
: >"$tmp/inroad.runs"
: >"$tmp/anchor.runs"
for _ in $(seq "${RUNS:-3}"); do
    start=$(date +%s.%N)
    "$inroad" --db "$db" forecast bench --now 2026-12-07T08:00:00Z --json >"$tmp/forecast.json"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }' >>"$tmp/inroad.runs"
    start=$(date +%s.%N)
    sqlite3 "$db" "SELECT count(*), sum(e.next_due), sum(length(l.email)) FROM enrolments e
                   JOIN leads l ON l.id = e.lead_id WHERE e.state IN ('active', 'linkedin')" >/dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }' >>"$tmp/anchor.runs"
done

python3 - "$tmp/forecast.json" "$tmp/inroad.runs" "$tmp/anchor.runs" <<'PY'
import json, statistics, sys
f = json.load(open(sys.argv[1]))
runs = [float(line) for line in open(sys.argv[2])]
took = statistics.median(runs)
anchor = statistics.median(float(line) for line in open(sys.argv[3]))
print(f"inroad forecast             {took:.2f} s median of {len(runs)} "
      f"({' / '.join(f'{r:.2f}' for r in runs)}; {f['leads']} leads, {f['touches']} touches forecast, "
      f"{f['touches'] / took:.0f} a second)")
print(f"sqlite3 enrolments (anchor) {anchor:.2f} s")
print(f"ratio inroad/anchor         {took / anchor:.1f}")
last = f['last_touch_by'] or f"not within three years ({f['unfinished']} leads still under way)"
print(f"first touches done by {f['first_touches_done_by']}; last touch by {last}; "
      f"bottleneck: {f['bottleneck']}")
print(f"GOAL <= 2 s: {'PASS' if took <= 2 else 'FAIL'}")
PY
