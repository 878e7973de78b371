#!/usr/bin/env bash
# bench/web.sh [LEADS=1000000] [EVENTS=5000000] — how fast the dashboard answers on a big
# database: the overview and the leads page (random page numbers, random filters) under
# 16 concurrent clients on loopback, measured with wrk, beside the anchor of the same
# run: the static stylesheet (no database, no template). Prints p95 per route and whether
# the goal (overview and leads p95 <= 50 ms) is met. Exits non-zero only if a command
# fails. KEEP=DIR keeps (and reuses) the seeded database there. SCREENSHOT=FILE also saves
# the overview of this database as headless Chromium shows it (README's docs/overview.png).
set -euo pipefail

leads="${1:-1000000}"
events="${2:-5000000}"
duration="${DURATION:-15s}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${INROAD_SHARED:-$repo/../shared}"
inroad="${CARGO_TARGET_DIR:-$repo/target}/release/inroad"
for cmd in python3 sqlite3 wrk curl; do
    command -v "$cmd" >/dev/null || { echo "bench/web.sh: $cmd not found (apt-get install $cmd)" >&2; exit 1; }
done
(cd "$repo" && cargo build --release --locked -p inroad)

[[ -z ${SCREENSHOT:-} || $SCREENSHOT == /* ]] || SCREENSHOT="$PWD/$SCREENSHOT"
if [[ -n ${KEEP:-} ]]; then
    mkdir -p "$KEEP"
    tmp="$(cd "$KEEP" && pwd)"
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
fi
cd "$tmp"
db="$tmp/inroad.db"
password="bench password 123"

if [[ ! -f $db ]]; then
    echo "seeding $leads leads and $events events..." >&2
    [[ -f leads.csv ]] || python3 "$shared/tools/gen_leads.py" "$leads" leads.csv --style salesnav --seed 1
    "$inroad" --db "$db" leads import leads.csv --list all >/dev/null
    "$inroad" --db "$db" mailbox add main --from "Ann <ann@acme.test>" --smtp-host localhost --daily-cap 40 \
        --warmup 15:2 2>/dev/null
    cat >campaign.toml <<'TOML'
name = "bench"
mailboxes = ["main"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
[[steps]]
subject = "Hello {{ first_name }}"
body = "Hi {{ first_name }}."
TOML
    "$inroad" --db "$db" campaign create campaign.toml >/dev/null
    # The rest straight in SQL: a second list (every 5th lead), every 20th lead enrolled
    # with a send each, suppressed domains, and the events (replies, bounces, auto-replies,
    # unsubscribes) over the past year. The rollup triggers run as they would live.
    # The generator repeats some people on purpose (the import deduplicates them); leads
    # made up in SQL fill the database up to the count asked for.
    sqlite3 "$db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $leads - (SELECT count(*) FROM leads))
INSERT INTO leads (email, first_name, last_name, company, domain, created_at, updated_at)
    SELECT 'filler' || i || '@filler' || (i % 1000) || '.test', 'Filler', 'Lead' || i, 'Filler ' || (i % 1000),
           'filler' || (i % 1000) || '.test', unixepoch(), unixepoch()
    FROM n WHERE $leads > (SELECT count(*) FROM leads);
SQL
    sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO lists (name, created_at) VALUES ('q4', '2026-01-01T00:00:00Z');
INSERT INTO list_members (list_id, lead_id) SELECT (SELECT id FROM lists WHERE name = 'q4'), id FROM leads WHERE id % 5 = 0;
INSERT INTO enrolments (campaign_id, lead_id, state, next_step, enrolled_at)
    SELECT 1, id, CASE WHEN id % 400 = 0 THEN 'needs_attention' ELSE 'finished' END, 1, unixepoch() - 86400 * 60
    FROM leads WHERE id % 20 = 0;
INSERT INTO sends (enrolment_id, step, mailbox_id, state, message_id, recipient, planned_at, updated_at)
    SELECT id, 0, 1, 'planned', '<' || id || '@bench>', 'x@bench.test',
           unixepoch() - (id % 30) * 86400, unixepoch() - (id % 30) * 86400 FROM enrolments;
UPDATE sends SET state = 'sent';
INSERT INTO suppressions (value, reason, created_at)
    SELECT DISTINCT '@' || domain, 'bench', '2026-01-01T00:00:00Z' FROM leads WHERE id % 97 = 0 AND domain IS NOT NULL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $events)
INSERT INTO events (lead_id, campaign_id, kind, subject, at)
    SELECT 1 + abs(random()) % $leads, 1,
           CASE abs(random()) % 10 WHEN 0 THEN 'reply' WHEN 1 THEN 'bounce_hard' WHEN 2 THEN 'unsubscribe'
                                   WHEN 3 THEN 'bounce_soft' ELSE 'auto_reply' END,
           'Re: hello', unixepoch() - abs(random()) % (365 * 86400)
    FROM n;
COMMIT;
ANALYZE;
SQL
    printf '%s\n' "$password" | "$inroad" --db "$db" user add bench --password-stdin 2>/dev/null
fi
echo "leads: $(sqlite3 "$db" 'SELECT count(*) FROM leads'), events: $(sqlite3 "$db" 'SELECT count(*) FROM events')" >&2

# serve reads the install key `inroad run` would have made; this database never ran.
[[ -f $db.key ]] || (umask 077 && head -c 32 /dev/urandom >"$db.key")
"$inroad" --db "$db" serve --listen 127.0.0.1:0 2>serve.log &
server=$!
trap 'kill $server 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$tmp"' EXIT
deadline=$((SECONDS + 30))
until grep -q "listening on" serve.log; do
    ((SECONDS < deadline)) || { echo "bench/web.sh: inroad serve did not start" >&2; exit 1; }
    sleep 0.1
done
base="$(sed -n 's/^listening on //p' serve.log | head -1)"

# Log in as a browser would: the form's token and pre-login cookie, then the session.
curl -s -c jar -b jar "$base/login" >login.html
csrf="$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' login.html | head -1)"
curl -s -c jar -b jar -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "user=bench" \
    --data-urlencode "password=$password" "$base/login"
session="$(awk '$6 == "inroad_session" { print $7 }' jar)"
[[ -n $session ]] || { echo "bench/web.sh: could not log in" >&2; exit 1; }

pages="$(( (leads + 49) / 50 ))"
cat >leads.lua <<LUA
-- Every request a random page (1..$pages, clamped by the server for stretched filters)
-- with one of the filter combinations a person uses.
local filters = { "", "&q=an", "&q=zz", "&list=q4", "&status=unchecked", "&campaign=1",
                  "&suppressed=yes", "&suppressed=no", "&list=q4&q=m", "&campaign=1&suppressed=no" }
math.randomseed(os.time())
request = function()
    local path = "/leads?page=" .. math.random(1, $pages) .. filters[math.random(#filters)]
    return wrk.format("GET", path)
end
LUA
cat >p95.lua <<'LUA'
done = function(summary, latency, requests)
    io.write(string.format("p95_ms %.2f requests %d errors %d\n", latency:percentile(95) / 1000,
        summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
        summary.errors.write + summary.errors.timeout))
end
LUA
cat leads.lua p95.lua >leads_p95.lua

# run NAME PATH|SCRIPT: 16 connections on 2 threads for $duration; prints "NAME p95_ms …".
run() {
    local name="$1" target="$2" script="p95.lua" path="$2"
    if [[ $target == *.lua ]]; then script="$target"; path="/"; fi
    local out
    out="$(wrk -t2 -c16 -d"$duration" -H "Cookie: inroad_session=$session" -s "$script" "$base$path" | grep '^p95_ms')"
    echo "$name $out"
}
results="$(
    run anchor_static /static/inroad.css
    run overview /
    run leads leads_p95.lua
    run anchor_static_again /static/inroad.css
)"
echo "$results"
echo "$results" | awk '
    $1 == "overview" || $1 == "leads" { if ($3 > 50) fail = 1; if ($7 > 0) fail = 1 }
    END { print (fail ? "goal (overview and leads p95 <= 50 ms, no errors): FAIL" : "goal (overview and leads p95 <= 50 ms, no errors): PASS") }'

if [[ -n ${SCREENSHOT:-} ]]; then
    command -v chromedriver >/dev/null || { echo "bench/web.sh: chromedriver not found (apt-get install chromium-driver)" >&2; exit 1; }
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    chromedriver --port="$port" >/dev/null 2>&1 &
    driver=$!
    # Plain WebDriver over HTTP: log in through the form, then photograph the overview.
    python3 - "$port" "$base" "$password" "$SCREENSHOT" <<'PY' || { kill $driver; exit 1; }
import base64, json, sys, time, urllib.error, urllib.request
port, base, password, out = sys.argv[1:]
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]
deadline = time.time() + 20
while True:
    try:
        call("GET", "/status"); break
    except OSError:
        if time.time() > deadline: raise
        time.sleep(0.1)
args = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100"]
sid = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}})["sessionId"]
key = "element-6066-11e4-a52e-4f735466cecf"
def find(css): return call("POST", f"/session/{sid}/element", {"using": "css selector", "value": css})[key]
call("POST", f"/session/{sid}/url", {"url": base + "/login"})
call("POST", f"/session/{sid}/element/{find('input[name=user]')}/value", {"text": "bench"})
call("POST", f"/session/{sid}/element/{find('input[name=password]')}/value", {"text": password})
call("POST", f"/session/{sid}/element/{find('form.login button')}/click", {})
deadline = time.time() + 20
while True:
    try:
        find("svg#activity"); break
    except urllib.error.HTTPError:
        if time.time() > deadline: raise
        time.sleep(0.1)
open(out, "wb").write(base64.b64decode(call("GET", f"/session/{sid}/screenshot")))
call("DELETE", f"/session/{sid}")
PY
    kill $driver
    echo "overview screenshot: $SCREENSHOT" >&2
fi
