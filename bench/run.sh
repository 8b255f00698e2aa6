#!/usr/bin/env bash
# Throughput and latency of the hot SEP paths, on the release binary, with wrk.
#   bash bench/run.sh            # SQLite + in-process stores
#   REDIS=1 bash bench/run.sh    # with Redis for nonces and rate limits
#   PG=1 bash bench/run.sh       # PostgreSQL (a fresh database, dropped after)
#   BIN_DIR=/other/target/release bash bench/run.sh   # a prebuilt mooring + bench-helper
#                                                     # (e.g. an earlier commit's, to compare)
# Targets (2 cores, load generator included): stellar.toml >= 20k req/s,
# SEP-10 challenge >= 5k req/s, token exchange >= 3k req/s with p99 < 20 ms,
# SEP-38 GET /price >= 20k req/s, POST /quote on PostgreSQL >= 2k/s.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
EXCHANGES=${EXCHANGES:-160000}   # more than a 10 s run exchanges: a replayed body would be refused
PORT=18000
HORIZON_PORT=18001
BASE="http://localhost:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -n "${BIN_DIR:-}" ]; then
  bin=$BIN_DIR
else
  cargo build --release -q --bin mooring --bin bench-helper
  bin=$PWD/target/release
fi
work=$(mktemp -d)
pids=()
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_db=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$pg_db" ]; then sleep 0.5; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/bench-helper" horizon --port $HORIZON_PORT & pids+=($!)
read -r SECRET ACCOUNT < <("$bin/bench-helper" keygen)

export MOORING_BIND=127.0.0.1:$PORT MOORING_DEMO_HORIZON_URL=http://127.0.0.1:$HORIZON_PORT MOORING_DEMO_RPC_URL= \
  MOORING_DEMO_SENDERS=$ACCOUNT MOORING_RATE_LIMIT_PER_SECOND=1000000 MOORING_RATE_LIMIT_BURST=1000000 \
  MOORING_RATE_LIMIT_AUTH_PER_SECOND=1000000 MOORING_RATE_LIMIT_AUTH_BURST=1000000 \
  MOORING_RATE_LIMIT_WRITE_PER_SECOND=1000000 MOORING_RATE_LIMIT_WRITE_BURST=1000000 \
  MOORING_TENANT_RATE_LIMIT_PER_SECOND=1000000 MOORING_TENANT_RATE_LIMIT_BURST=1000000 \
  RUST_LOG=warn
if [ "${REDIS:-}" = 1 ]; then
  export MOORING_REDIS_URL=redis://127.0.0.1:6379 MOORING_REDIS_PREFIX="mooring-bench-$$"
fi
if [ "${PG:-}" = 1 ]; then
  pg_db="mooring_bench_$$"
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
  export MOORING_DATABASE_URL="$PG_URL/$pg_db"
fi
(cd "$work" && exec "$bin/mooring" serve --demo >"$work/server.log" 2>&1) & pids+=($!)
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.1; done

cat >"$work/exchange.lua" <<'LUA'
local bodies, i = {}, 0
function init(args) for line in io.lines(args[1]) do bodies[#bodies + 1] = line end end
function request()
  i = i + 1
  if i > #bodies then i = 1 end -- reused bodies would be refused: size EXCHANGES to the run
  return wrk.format("POST", "/auth", { ["Content-Type"] = "application/x-www-form-urlencoded" }, bodies[i])
end
LUA

run() { # name, then wrk arguments
  local name=$1; shift
  echo "--- $name"
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors"
}

backend=in-process; [ "${REDIS:-}" = 1 ] && backend=Redis
[ "${PG:-}" = 1 ] && backend="$backend, PostgreSQL" || backend="$backend, SQLite"
echo "backend: $backend, $(nproc) cores, $CONNECTIONS connections, $DURATION each"
run "GET /.well-known/stellar.toml" "$BASE/.well-known/stellar.toml"
run "GET /auth (challenge)" "$BASE/auth?account=$ACCOUNT"
"$bin/bench-helper" presign --url "$BASE" --host "localhost:$PORT" --secret "$SECRET" --count "$EXCHANGES" --out "$work/bodies.txt"
# One more, kept apart: it buys the token of the authenticated runs below, whatever the
# exchange run used up.
"$bin/bench-helper" presign --url "$BASE" --host "localhost:$PORT" --secret "$SECRET" --count 1 --out "$work/token.txt"
run "POST /auth (token exchange, distinct pre-signed challenges)" -s "$work/exchange.lua" "$BASE/auth" -- "$work/bodies.txt"

# SEP-38: indicative prices from the in-memory snapshot, firm quotes written to the database.
SRT=$(curl -fs "$BASE/sep38/info" | python3 -c 'import json,sys; print(next(a["asset"] for a in json.load(sys.stdin)["assets"] if a["asset"].startswith("stellar:")))')
run "GET /sep38/price" "$BASE/sep38/price?sell_asset=$SRT&buy_asset=iso4217:MXN&sell_amount=100&context=sep31"
run "GET /sep38/prices" "$BASE/sep38/prices?sell_asset=$SRT&sell_amount=100"
export QUOTE_TOKEN QUOTE_BODY
QUOTE_TOKEN=$(curl -fs "$BASE/auth" -H "Content-Type: application/x-www-form-urlencoded" --data-binary "$(cat "$work/token.txt")" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
QUOTE_BODY="{\"sell_asset\":\"$SRT\",\"buy_asset\":\"iso4217:MXN\",\"sell_amount\":\"100\",\"context\":\"sep31\"}"
cat >"$work/quote.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("QUOTE_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("QUOTE_TOKEN")
LUA
run "POST /sep38/quote (firm quote, one row each)" -s "$work/quote.lua" "$BASE/sep38/quote"

# The same with a reserve on the corridor (SEP-38: firm quotes hold their amount until
# they expire): each quote locks the corridor's row and sums what is outstanding.
ADMIN=(-fsS -H "Host: admin.localhost:$PORT" -H "Authorization: Bearer $(cat "$work/mooring-demo-operator-token")" -H 'content-type: application/json')
TENANT=$(curl "${ADMIN[@]}" "$BASE/graphql" -d '{"query":"{ tenants { edges { node { id } } } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["tenants"]["edges"][0]["node"]["id"])')
curl "${ADMIN[@]}" "$BASE/graphql" -d "{\"query\":\"mutation { setCorridor(tenantId: \\\"$TENANT\\\", input: { sellAsset: \\\"$SRT\\\", buyAsset: \\\"iso4217:MXN\\\", rate: \\\"17\\\", feeFixed: \\\"1\\\", feePercent: \\\"1\\\", minAmount: \\\"10\\\", maxAmount: \\\"10000\\\", quoteLifetimeSecs: 300, maxOutstandingAmount: \\\"900000000000\\\" }) { id } }\"}" >/dev/null
run "POST /sep38/quote (corridor with a reserve)" -s "$work/quote.lua" "$BASE/sep38/quote"

# SEP-31 with a token: /info from the in-memory snapshot, then POST /transactions (the
# request a sending anchor makes for every payment: KYC checked, fee computed, one
# transaction row, its event and audit in one database transaction).
run "GET /sep31/info (SEP-10 token)" -H "Authorization: Bearer $QUOTE_TOKEN" "$BASE/sep31/info"
AUTH=(-fsS -H "Authorization: Bearer $QUOTE_TOKEN" -H 'content-type: application/json')
customer() { # type, then extra JSON fields
  curl "${AUTH[@]}" -X PUT "$BASE/kyc/customer" -d "{\"type\":\"$1\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email_address\":\"ada@example.com\"$2}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
SENDER=$(customer sep31-sender "")
RECEIVER=$(customer sep31-receiver ',"bank_number":"021000021","bank_account_number":"1234567890"')
export TX_BODY="{\"amount\":\"100\",\"asset_code\":\"SRT\",\"sender_id\":\"$SENDER\",\"receiver_id\":\"$RECEIVER\",\"fields\":{\"transaction\":{\"routing_number\":\"021000021\",\"account_number\":\"1234567890\"}}}"
curl "${AUTH[@]}" "$BASE/sep31/transactions" -d "$TX_BODY" | grep -q stellar_memo
cat >"$work/transaction.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("TX_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("QUOTE_TOKEN")
LUA
run "POST /sep31/transactions (one transaction each)" -s "$work/transaction.lua" "$BASE/sep31/transactions"
