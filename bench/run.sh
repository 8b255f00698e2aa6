#!/usr/bin/env bash
# Throughput and latency of the hot SEP paths, on the release binary, with wrk.
#   bash bench/run.sh            # SQLite + in-process stores
#   REDIS=1 bash bench/run.sh    # with Redis for nonces and rate limits
# Targets (2 cores, load generator included): stellar.toml >= 20k req/s,
# SEP-10 challenge >= 5k req/s, token exchange >= 3k req/s with p99 < 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
EXCHANGES=${EXCHANGES:-90000}   # more than a 10 s run exchanges: a replayed body would be refused
PORT=18000
HORIZON_PORT=18001
BASE="http://localhost:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q --bin mooring --bin bench-helper
bin=$PWD/target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin/bench-helper" horizon --port $HORIZON_PORT & pids+=($!)
read -r SECRET ACCOUNT < <("$bin/bench-helper" keygen)

export MOORING_BIND=127.0.0.1:$PORT MOORING_DEMO_HORIZON_URL=http://127.0.0.1:$HORIZON_PORT \
  MOORING_DEMO_SENDERS=$ACCOUNT MOORING_RATE_LIMIT_PER_SECOND=1000000 MOORING_RATE_LIMIT_BURST=1000000 \
  MOORING_RATE_LIMIT_AUTH_PER_SECOND=1000000 MOORING_RATE_LIMIT_AUTH_BURST=1000000 \
  MOORING_TENANT_RATE_LIMIT_PER_SECOND=1000000 MOORING_TENANT_RATE_LIMIT_BURST=1000000 \
  RUST_LOG=warn
if [ "${REDIS:-}" = 1 ]; then
  export MOORING_REDIS_URL=redis://127.0.0.1:6379 MOORING_REDIS_PREFIX="mooring-bench-$$"
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
echo "backend: $backend, $(nproc) cores, $CONNECTIONS connections, $DURATION each"
run "GET /.well-known/stellar.toml" "$BASE/.well-known/stellar.toml"
run "GET /auth (challenge)" "$BASE/auth?account=$ACCOUNT"
"$bin/bench-helper" presign --url "$BASE" --host "localhost:$PORT" --secret "$SECRET" --count "$EXCHANGES" --out "$work/bodies.txt"
run "POST /auth (token exchange, distinct pre-signed challenges)" -s "$work/exchange.lua" "$BASE/auth" -- "$work/bodies.txt"
