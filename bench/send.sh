#!/usr/bin/env bash
# bench/send.sh [MESSAGES=10000] [MAILBOXES=10] — how fast `inroad run --once` sends
# personalised, DKIM-signed (RSA-2048) messages into Postfix's smtp-sink, beside the
# anchor `smtp-source` pushing the same number of messages into the same sink over
# reused connections. Prints both rates and their ratio; goal: >= 1,000 messages/s.
# Exits 0 whatever the goal's outcome; non-zero only if a command fails.
set -euo pipefail

messages="${1:-10000}"
mailboxes="${2:-10}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
inroad="${CARGO_TARGET_DIR:-$repo/target}/release/inroad"
export PATH="$PATH:/usr/sbin:/sbin"
for cmd in smtp-sink smtp-source openssl python3; do
    command -v "$cmd" >/dev/null || { echo "bench/send.sh: $cmd not found (scripts/test installs it)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
cleanup() {
    [[ -n ${sink_pid:-} ]] && kill "$sink_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$repo" && cargo build --release --locked -p inroad)

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
smtp-sink -u nobody "127.0.0.1:$port" 1000 &
sink_pid=$!
for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.01 # waiting for smtp-sink to listen
done

db="$tmp/inroad.db"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/dkim.pem" 2>/dev/null
python3 - "$messages" >"$tmp/leads.csv" <<'PY'
import sys
print("Email,First Name,Company")
for i in range(int(sys.argv[1])):
    print(f"lead{i}@globex{i % 500}.com,Person{i},Globex {i % 500} Inc")
PY
"$inroad" --db "$db" leads import "$tmp/leads.csv" --list all 2>/dev/null
names=()
for i in $(seq "$mailboxes"); do
    "$inroad" --db "$db" mailbox add "m$i" --from "Sender $i <m$i@acme.example>" --smtp-host 127.0.0.1 \
        --smtp-port "$port" --smtp-tls none --gap 0 --daily-cap 1000000 \
        --dkim-selector s1 --dkim-key "$tmp/dkim.pem" 2>/dev/null
    names+=("\"m$i\"")
done
cat >"$tmp/c.toml" <<TOML
name = "bench"
mailboxes = [$(IFS=,; echo "${names[*]}")]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://u.acme.example"
timezone = "UTC"
window = { days = ["mon"], start = "00:00", end = "24:00" }
[[steps]]
subject = "{Hi|Hello} {{ first_name }}, a question about {{ company | company }}"
body = "Hi {{ first_name }},\n\nhow does {{ company | company }} handle this today?\n\nBest"
TOML
"$inroad" --db "$db" campaign create "$tmp/c.toml" 2>/dev/null
"$inroad" --db "$db" campaign enroll bench --list all --allow-unverified 2>/dev/null
"$inroad" --db "$db" campaign start bench 2>/dev/null

start=$(date +%s.%N)
${PROFILE:-} "$inroad" --db "$db" run --once --now 2026-12-07T09:00:00Z --helo-name bench.local --json >"$tmp/run.json"
end=$(date +%s.%N)
anchor_start=$(date +%s.%N)
smtp-source -d -s "$mailboxes" -m "$messages" -l 1200 -f bench@acme.example -t sink@example.com \
    "127.0.0.1:$port"
anchor_end=$(date +%s.%N)

python3 - "$tmp/run.json" "$start" "$end" "$anchor_start" "$anchor_end" "$messages" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
inroad = float(sys.argv[3]) - float(sys.argv[2])
anchor = float(sys.argv[5]) - float(sys.argv[4])
n = int(sys.argv[6])
sent = report["sent"]
print(f"inroad run --once      {sent} messages in {inroad:.2f} s = {sent / inroad:.0f} messages/s")
print(f"smtp-source (anchor)   {n} messages in {anchor:.2f} s = {n / anchor:.0f} messages/s")
print(f"ratio inroad/anchor    {(sent / inroad) / (n / anchor):.3f}")
print(f"GOAL >= 1000 messages/s: {'PASS' if sent / inroad >= 1000 and sent == n else 'FAIL'}")
PY
