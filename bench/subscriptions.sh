#!/usr/bin/env bash
# A subscription flood must not slow other tenants (issue 24, N3). Tenant C's API key
# makes ATTEMPTS transactionEvents subscriptions (10 per socket) and holds them, while
# tenant B's (the demo tenant's) database-backed SEP GET (`GET /kyc/customer` with a
# SEP-10 token: a customer look-up) is measured on 16 connections: first idle, then
# under the flood. Prints p50/p99 of both and what the server accepted and refused.
#   bash bench/subscriptions.sh                # SQLite + in-process stores
#   PG=1 bash bench/subscriptions.sh           # PostgreSQL
#   CAPS=off bash bench/subscriptions.sh       # caps lifted: the fan-out alone
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
ATTEMPTS=${ATTEMPTS:-2000}
PORT=18020
HORIZON_PORT=18021
BASE="http://localhost:$PORT"
TOKEN="subs-bench-operator-token-0123456789"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q --bin mooring --bin bench-helper
bin=$PWD/target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin/bench-helper" horizon --port $HORIZON_PORT & pids+=($!)
read -r SECRET ACCOUNT < <("$bin/bench-helper" keygen)
read -r _ OTHER < <("$bin/bench-helper" keygen)
export MOORING_BIND=127.0.0.1:$PORT MOORING_DEMO_HORIZON_URL=http://127.0.0.1:$HORIZON_PORT MOORING_DEMO_RPC_URL= \
  MOORING_DEMO_SENDERS=$ACCOUNT MOORING_OPERATOR_TOKEN=$TOKEN \
  MOORING_HORIZON_TESTNET_URL=http://127.0.0.1:$HORIZON_PORT RUST_LOG=warn \
  MOORING_RATE_LIMIT_PER_SECOND=1000000 MOORING_RATE_LIMIT_BURST=1000000 \
  MOORING_TENANT_RATE_LIMIT_PER_SECOND=1000000 MOORING_TENANT_RATE_LIMIT_BURST=1000000 \
  MOORING_ADMIN_RATE_LIMIT_PER_SECOND=100000 MOORING_ADMIN_RATE_LIMIT_BURST=100000
if [ "${PG:-}" = 1 ]; then
  db="mooring_subs_bench_$$"
  psql postgres://postgres@127.0.0.1:5432/test -qc "create database $db"
  export MOORING_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  trap 'cleanup; psql postgres://postgres@127.0.0.1:5432/test -qc "drop database if exists $db with (force)"' EXIT
fi
if [ "${CAPS:-}" = off ]; then
  export MOORING_GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION=100000 MOORING_GRAPHQL_MAX_SUBSCRIPTIONS_PER_KEY=100000
fi
(cd "$work" && exec "$bin/mooring" serve --demo >"$work/server.log" 2>&1) & pids+=($!)
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.1; done

gql() {
  curl -fsS "$BASE/graphql" -H "Host: admin.localhost" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" -d "$1"
}
c_id=$(gql "{\"query\":\"mutation { createTenant(input: { name: \\\"C\\\", domains: [\\\"c.example\\\"], network: TESTNET, distributionAccount: \\\"$OTHER\\\" }) { tenant { id } } }\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createTenant"]["tenant"]["id"])')
C_KEY=$(gql "{\"query\":\"mutation { createApiKey(tenantId: \\\"$c_id\\\", name: \\\"flood\\\") { key } }\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createApiKey"]["key"])')

"$bin/bench-helper" presign --url "$BASE" --host "localhost:$PORT" --secret "$SECRET" --count 1 --out "$work/bodies.txt"
export B_TOKEN
B_TOKEN=$(curl -fs "$BASE/auth" -H "Content-Type: application/x-www-form-urlencoded" --data-binary "$(head -1 "$work/bodies.txt")" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
cat >"$work/kyc.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("B_TOKEN")
LUA

measure_b() { # label
  wrk -t1 -c16 -d"$DURATION" --latency -s "$work/kyc.lua" "$BASE/kyc/customer?type=sep31-sender" >"$work/b.txt"
  printf '%-28s B GET /kyc/customer: %s req/s, p50 %s, p99 %s %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' "$work/b.txt")" "$(awk '$1=="50%" {print $2}' "$work/b.txt")" \
    "$(awk '$1=="99%" {print $2}' "$work/b.txt")" "$(grep -o 'Non-2xx.*' "$work/b.txt" || true)"
}

echo "backend: $([ "${PG:-}" = 1 ] && echo PostgreSQL || echo SQLite), $(nproc) cores, caps ${CAPS:-on}"
measure_b "idle"
secs=$(( ${DURATION%s} + 6 ))
"$bin/bench-helper" subflood --url "ws://127.0.0.1:$PORT/graphql/ws" --host admin.localhost --key "$C_KEY" \
  --attempts "$ATTEMPTS" --secs "$secs" >"$work/flood.txt" & flood=$!
sleep 3
cpu_before=$(awk '{print $14+$15}' "/proc/${pids[1]}/stat")
measure_b "$ATTEMPTS subscriptions"
cpu_after=$(awk '{print $14+$15}' "/proc/${pids[1]}/stat")
wait $flood
cat "$work/flood.txt"
echo "server CPU during the measurement: $(( (cpu_after - cpu_before) )) ticks of $(getconf CLK_TCK)/s (includes serving B)"
