#!/usr/bin/env bash
# The write path: POST /sep31/transactions, POST /sep38/quote and PUT /kyc/customer on
# the release demo.
#   1. Database statements per request: every statement is logged at TRACE
#      (`sqlx::query`); the background jobs are slowed to once an hour, 50 requests of
#      each kind are sent one by one, and the log lines are counted and grouped.
#   2. Throughput and latency: wrk -t1 -c16 -d10s per request kind.
#   3. Where the time goes: a perf profile of POST /sep31/transactions under load
#      (when perf is installed), summarised in target/bench/.
#
#   bash bench/writes.sh            # SQLite + in-process stores
#   PG=1 bash bench/writes.sh       # PostgreSQL (a fresh database, dropped after)
#   BIN_DIR=… bash bench/writes.sh  # a prebuilt mooring + bench-helper
#   ONLY=transactions NO_STATEMENTS=1 NO_PERF=1 bash bench/writes.sh  # one kind's throughput
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
COUNT=${COUNT:-50}
PORT=18100
HORIZON_PORT=18101
METRICS_PORT=18102
BASE="http://localhost:$PORT"
out=target/bench
mkdir -p "$out"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -n "${BIN_DIR:-}" ]; then
  bin=$BIN_DIR
else
  cargo build --release -q --bin mooring --bin bench-helper
  bin=$PWD/target/release
fi
work=$(mktemp -d)
pids=()
server=""
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_db=""
cleanup() {
  for p in "${pids[@]}" $server; do kill "$p" 2>/dev/null || true; done
  if [ -n "$pg_db" ]; then sleep 0.5; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/bench-helper" horizon --port $HORIZON_PORT & pids+=($!)
read -r SECRET ACCOUNT < <("$bin/bench-helper" keygen)
export MOORING_BIND=127.0.0.1:$PORT MOORING_DEMO_HORIZON_URL=http://127.0.0.1:$HORIZON_PORT MOORING_DEMO_RPC_URL= \
  MOORING_DEMO_SENDERS=$ACCOUNT MOORING_METRICS_BIND=127.0.0.1:$METRICS_PORT MOORING_RATE_LIMIT_PER_SECOND=1000000 MOORING_RATE_LIMIT_BURST=1000000 \
  MOORING_RATE_LIMIT_AUTH_PER_SECOND=1000000 MOORING_RATE_LIMIT_AUTH_BURST=1000000 \
  MOORING_RATE_LIMIT_WRITE_PER_SECOND=1000000 MOORING_RATE_LIMIT_WRITE_BURST=1000000 \
  MOORING_TENANT_RATE_LIMIT_PER_SECOND=1000000 MOORING_TENANT_RATE_LIMIT_BURST=1000000
backend=SQLite
if [ "${PG:-}" = 1 ]; then
  backend=PostgreSQL
  pg_db="mooring_writes_$$"
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
  export MOORING_DATABASE_URL="$PG_URL/$pg_db"
fi

start() { # RUST_LOG, then extra VAR=value settings
  local log=$1; shift
  (cd "$work" && exec env RUST_LOG="$log" "$@" "$bin/mooring" serve --demo >>"$work/server.log" 2>&1) &
  server=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && return; sleep 0.1; done
  echo "the server did not start"; cat "$work/server.log"; exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

# The sending anchor's token, its two customers and the request bodies.
setup() {
  "$bin/bench-helper" presign --url "$BASE" --host "localhost:$PORT" --secret "$SECRET" --count 1 --out "$work/one.txt"
  TOKEN=$(curl -fs "$BASE/auth" -H "Content-Type: application/x-www-form-urlencoded" --data-binary "$(cat "$work/one.txt")" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  AUTH=(-fsS -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json')
  customer() {
    curl "${AUTH[@]}" -X PUT "$BASE/kyc/customer" -d "{\"type\":\"$1\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email_address\":\"ada@example.com\"$2}" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
  }
  SENDER=$(customer sep31-sender "")
  RECEIVER=$(customer sep31-receiver ',"bank_number":"021000021","bank_account_number":"1234567890"')
  SRT=$(curl -fs "$BASE/sep38/info" | python3 -c 'import json,sys; print(next(a["asset"] for a in json.load(sys.stdin)["assets"] if a["asset"].startswith("stellar:")))')
  export TOKEN
  export TX_BODY="{\"amount\":\"100\",\"asset_code\":\"SRT\",\"sender_id\":\"$SENDER\",\"receiver_id\":\"$RECEIVER\",\"fields\":{\"transaction\":{\"routing_number\":\"021000021\",\"account_number\":\"1234567890\"}}}"
  export QUOTE_BODY="{\"sell_asset\":\"$SRT\",\"buy_asset\":\"iso4217:MXN\",\"sell_amount\":\"100\",\"context\":\"sep31\"}"
  export KYC_BODY="{\"id\":\"$SENDER\",\"type\":\"sep31-sender\",\"first_name\":\"Ada\",\"last_name\":\"Byron\",\"email_address\":\"ada@example.com\"}"
}

# CPU ticks (1/100 s) spent so far by processes whose name matches: for the split of
# the two cores between the server, the database and wrk during a run.
ticks() {
  local total=0 f comm rest
  for f in /proc/[0-9]*/stat; do
    { read -r _ comm rest <"$f"; } 2>/dev/null || continue
    [[ $comm =~ $1 ]] || continue
    set -- "$1" $rest # $2 is stat's field 3: utime and stime (fields 14, 15) are $13, $14
    total=$((total + ${13} + ${14}))
  done
  echo "$total"
}
all_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat; }

KINDS=()
for kind in "POST /sep31/transactions|POST|/sep31/transactions|TX_BODY" \
            "POST /sep38/quote|POST|/sep38/quote|QUOTE_BODY" \
            "PUT /kyc/customer|PUT|/kyc/customer|KYC_BODY"; do
  [[ $kind == *"${ONLY:-}"* ]] && KINDS+=("$kind")
done

# New transactions per database transaction so far (group commit), from /metrics.
batch_size() {
  curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" | awk '
    /^mooring_transaction_create_batch_size_sum/ {s=$2} /^mooring_transaction_create_batch_size_count/ {c=$2}
    END {if (c > 0) printf "%.0f %.0f\n", s, c; else print "0 0"}'
}

echo "backend: $backend, $(nproc) cores"
if [ -z "${NO_STATEMENTS:-}" ]; then
echo "== statements per request ($COUNT requests each, background jobs slowed to 1 h)"
start "warn,sqlx::query=trace" MOORING_CONFIG_POLL_MS=1h MOORING_OUTBOX_POLL_MS=1h MOORING_EXPIRY_SWEEP_MS=1h \
  MOORING_RATE_FEED_POLL_MS=1h MOORING_OFFBOARDING_PURGE_MS=1h MOORING_WATCHER_ENABLED=false MOORING_LOG_FORMAT=json
setup
for kind in "${KINDS[@]}"; do
  IFS='|' read -r name method path var <<<"$kind"
  sleep 0.5
  before=$(wc -l <"$work/server.log")
  for _ in $(seq 1 "$COUNT"); do
    curl "${AUTH[@]}" -X "$method" "$BASE$path" -d "${!var}" -o /dev/null
  done
  sleep 0.5
  tail -n +"$((before + 1))" "$work/server.log" | grep '"sqlx::query"' >"$work/statements.log" || true
  cp "$work/statements.log" "$out/statements-${path//\//_}-$backend.log"
  python3 - "$name" "$COUNT" "$work/statements.log" <<'PY'
import collections, json, re, sys
name, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kinds, secs = collections.Counter(), 0.0
for line in open(path):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    text = " ".join((rec.get("db.statement") or rec.get("summary") or "").split())
    secs += float(rec.get("elapsed_secs") or 0)
    verb = (text.split() or ["?"])[0].upper()
    m = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', text, re.I)
    kinds[(verb, m.group(1) if m else "")] += 1
total = sum(kinds.values())
shown = ", ".join(f"{v} {t}".strip() + f" ×{n / count:g}" for (v, t), n in kinds.most_common())
print(f"{name}: {total / count:.1f} statements, {secs / count * 1000:.2f} ms in the database per request")
print(f"    {shown}")
PY
done
stop
fi

echo "== throughput (wrk -t1 -c$CONNECTIONS -d$DURATION)"
start warn
setup
for kind in "${KINDS[@]}"; do
  IFS='|' read -r name method path var <<<"$kind"
  cat >"$work/req.lua" <<LUA
wrk.method = "$method"
wrk.body = os.getenv("$var")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
  profile=""
  if [ "$path" = /sep31/transactions ] && command -v perf >/dev/null && [ -z "${NO_PERF:-}" ]; then
    perf record -q -F 499 -g -p "$server" -o "$work/perf.data" -- sleep 8 >/dev/null 2>&1 &
    profile=$!
  fi
  echo "--- $name"
  read -r b0 n0 < <(batch_size)
  s0=$(ticks '^\(mooring\)$'); d0=$(ticks '^\(postgres\)$'); a0=$(all_ticks)
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/req.lua" "$BASE$path" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
  s1=$(ticks '^\(mooring\)$'); d1=$(ticks '^\(postgres\)$'); a1=$(all_ticks)
  # Busy time of the cores during the run, in cores: the server, PostgreSQL (all its
  # processes), and the rest (wrk, which has exited by now, and the kernel's share).
  secs=${DURATION%s}
  python3 -c "import sys; s,d,a=(float(x)/100/$secs for x in sys.argv[1:]); print(f'    CPU (cores): server {s:.2f}, PostgreSQL {d:.2f}, wrk and the rest {a-s-d:.2f}; busy {a:.2f} of $(nproc)')" \
    $((s1 - s0)) $((d1 - d0)) $((a1 - a0))
  read -r b1 n1 < <(batch_size)
  if [ "$path" = /sep31/transactions ] && [ "$n1" -gt "$n0" ]; then
    echo "    group commit: $((b1 - b0)) transactions in $((n1 - n0)) commits, $(python3 -c "print(f'{($b1 - $b0) / ($n1 - $n0):.1f}')") a commit"
  fi
  if [ -n "$profile" ]; then
    wait "$profile" || true
    perf report -q -i "$work/perf.data" --stdio --no-children --sort symbol --percent-limit 1.5 2>/dev/null \
      | grep -E '^ +[0-9]' | sed 's/ *-* *-* *$//' | head -40 >"$out/perf-post-transactions-$backend.txt" || true
    echo "    (profile: $out/perf-post-transactions-$backend.txt)"
  fi
done
stop
