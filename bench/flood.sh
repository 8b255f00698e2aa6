#!/usr/bin/env bash
# One tenant flooded from many addresses must not slow another. Tenant A (the demo
# tenant) gets a SEP-10 challenge flood from 62,500 rotating X-Forwarded-For addresses
# while tenant B's stellar.toml latency is measured on one connection: first with no
# flood, then under the flood with the platform's default tenant cap, then with an
# operator cap on A (setTenantRateLimit). The flood is open loop at FLOOD_RATE req/s
# (bench-helper flood); FLOOD=wrk uses a closed-loop wrk flood instead, which saturates
# the CPU whatever a request costs.
#   bash bench/flood.sh            # SQLite + in-process stores
#   REDIS=1 bash bench/flood.sh    # with Redis for rate limits
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
FLOOD_CONNECTIONS=${FLOOD_CONNECTIONS:-64}
FLOOD_RATE=${FLOOD_RATE:-36800}
CAP=${CAP:-100}
PORT=18010
HORIZON_PORT=18011
BASE="http://localhost:$PORT"
TOKEN="flood-bench-operator-token-0123456789"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q --bin mooring --bin bench-helper
bin=$PWD/target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin/bench-helper" horizon --port $HORIZON_PORT & pids+=($!)
read -r _ ACCOUNT < <("$bin/bench-helper" keygen)
export MOORING_BIND=127.0.0.1:$PORT MOORING_DEMO_HORIZON_URL=http://127.0.0.1:$HORIZON_PORT MOORING_DEMO_RPC_URL= \
  MOORING_DEMO_SENDERS=$ACCOUNT MOORING_TRUST_FORWARDED_FOR=true MOORING_OPERATOR_TOKEN=$TOKEN \
  MOORING_HORIZON_TESTNET_URL=http://127.0.0.1:$HORIZON_PORT RUST_LOG=warn
if [ "${REDIS:-}" = 1 ]; then
  export MOORING_REDIS_URL=redis://127.0.0.1:6379 MOORING_REDIS_PREFIX="mooring-flood-$$"
fi
(cd "$work" && exec "$bin/mooring" serve --demo >"$work/server.log" 2>&1) & pids+=($!)
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.1; done

gql() {
  curl -fsS "$BASE/graphql" -H "Host: admin.localhost" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" -d "$1"
}
a_id=$(gql '{"query":"{ tenants(search: \"Mooring Demo\") { edges { node { id } } } }"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["tenants"]["edges"][0]["node"]["id"])')
gql "{\"query\":\"mutation { createTenant(input: { name: \\\"B\\\", domains: [\\\"b.example\\\"], network: TESTNET, distributionAccount: \\\"$ACCOUNT\\\" }) { tenant { id } } }\"}" >/dev/null

cat >"$work/flood.lua" <<'LUA'
local n = 0
function request()
  n = n + 1
  local ip = string.format("198.%d.%d.%d", 18 + (n % 2), math.floor(n / 250) % 250, n % 250)
  return wrk.format("GET", "/auth?account=" .. os.getenv("ACCOUNT"), { ["X-Forwarded-For"] = ip })
end
LUA

measure_b() { # label
  wrk -t1 -c1 -d"$DURATION" --latency -H "Host: b.example" "$BASE/.well-known/stellar.toml" >"$work/b.txt"
  printf '%-34s B stellar.toml: %s req/s, p50 %s, p99 %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' "$work/b.txt")" \
    "$(awk '$1 == "50%" {print $2}' "$work/b.txt")" "$(awk '$1 == "99%" {print $2}' "$work/b.txt")"
}

flood_and_measure() { # label
  if [ "${FLOOD:-}" = wrk ]; then
    ACCOUNT=$ACCOUNT wrk -t1 -c"$FLOOD_CONNECTIONS" -d"$DURATION" -s "$work/flood.lua" "$BASE" >"$work/flood.txt" &
  else
    "$bin/bench-helper" flood --url "$BASE/auth?account=$ACCOUNT" --host "localhost:$PORT" \
      --rate "$FLOOD_RATE" --secs "$(( ${DURATION%s} + 2 ))" >"$work/flood.txt" &
  fi
  local flood=$!
  sleep 1
  measure_b "$1"
  wait $flood
  if [ "${FLOOD:-}" = wrk ]; then
    printf '%-34s A flood: %s req/s answered, %s non-2xx\n' "" \
      "$(awk '/Requests\/sec/ {print $2}' "$work/flood.txt")" \
      "$(awk '/Non-2xx/ {print $5}' "$work/flood.txt" | tr -d '\n' || true)"
  else
    printf '%-34s A flood: %s\n' "" "$(cat "$work/flood.txt")"
  fi
}

backend=in-process; [ "${REDIS:-}" = 1 ] && backend=Redis
flood="open loop at $FLOOD_RATE req/s"; [ "${FLOOD:-}" = wrk ] && flood="wrk on $FLOOD_CONNECTIONS connections"
echo "backend: $backend, $(nproc) cores, flood $flood, $DURATION each"
measure_b "no flood"
flood_and_measure "flood, default tenant cap"
gql "{\"query\":\"mutation { setTenantRateLimit(tenantId: \\\"$a_id\\\", perSecond: $CAP, burst: $((CAP * 2))) { id } }\"}" >/dev/null
flood_and_measure "flood, A capped at $CAP/s"
