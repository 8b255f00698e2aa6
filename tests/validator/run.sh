#!/usr/bin/env bash
# Runs SDF's anchor validator (@stellar/anchor-tests 0.6.22) against the demo tenant,
# approved-only and then in conformance mode, for SEP-1, 10, 12, 31 and 38, and prints
# the pass counts per SEP. The validator is not vendored (its code is not ours to copy)
# and not on the npm registry these machines reach: give a checkout of
# github.com/stellar/stellar-anchor-tests as VALIDATOR_REPO.
#   VALIDATOR_REPO=/path/to/stellar-anchor-tests bash tests/validator/run.sh
# Cases that need the public network (Friendbot-funded accounts) fail offline.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VALIDATOR_REPO:?set VALIDATOR_REPO to a checkout of stellar/stellar-anchor-tests}"
PORT=${PORT:-18765}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Build the validator as its repository builds it, with the pins that work here.
mkdir -p "$work/@stellar"
cp -r "$VALIDATOR_REPO/@stellar/anchor-tests" "$work/@stellar/anchor-tests"
(cd "$work/@stellar/anchor-tests" &&
  npm install --workspaces=false --legacy-peer-deps --ignore-scripts --no-audit --no-fund --silent \
    typescript@4.3.2 @types/node@20.11.19 @types/jsonwebtoken@8.5.1 @stellar/tsconfig@1 &&
  echo '{ "extends": "./@stellar/anchor-tests/node_modules/@stellar/tsconfig/tsconfig.json" }' >"$work/tsconfig.json" &&
  { npx tsc >/dev/null || true; } && test -f lib/cli.js)

cargo build -q --bin mooring --bin bench-helper
./target/debug/bench-helper horizon --port $((PORT + 34)) & pids+=($!)
(cd "$work" && MOORING_BIND=127.0.0.1:$PORT MOORING_DEMO_HORIZON_URL=http://127.0.0.1:$((PORT + 34)) \
  MOORING_HORIZON_TESTNET_URL=http://127.0.0.1:$((PORT + 34)) MOORING_METRICS_BIND=127.0.0.1:$((PORT + 1)) \
  exec "$OLDPWD/target/debug/mooring" serve --demo >"$work/demo.log" 2>&1) & pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://localhost:$PORT/health" >/dev/null && break; sleep 0.2; done
secret=$(grep -A1 "shown ONCE" "$work/demo.log" | tail -1 | tr -d ' ')
sed "s/<the demo's sending-anchor secret: run.sh fills it in>/$secret/" tests/validator/sep-config.json >"$work/config.json"

validate() { # label
  (cd "$work/@stellar/anchor-tests" && node lib/cli.js -h "http://localhost:$PORT" -a SRT -s 1 10 12 31 38 \
    -c "$work/config.json" -v >"$work/$1.txt" 2>&1 || true)
  echo "== $1"
  sed 's/\x1b\[[0-9;]*m//g' "$work/$1.txt" | { grep -E "^(✖|✔) SEP" || true; } | sed -E 's/^(.) (SEP-[0-9]+).*/\2 \1/' | sort | uniq -c
  sed 's/\x1b\[[0-9;]*m//g' "$work/$1.txt" | grep -E "^✖" || true
}
validate approved-only
token=$(cat "$work/mooring-demo-operator-token")
gql() { curl -fsS "http://localhost:$PORT/graphql" -H "Host: admin.localhost" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$1"; }
tenant=$(gql '{"query":"{ tenants { edges { node { id } } } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["tenants"]["edges"][0]["node"]["id"])')
gql "{\"query\":\"mutation { setConformanceMode(tenantId: \\\"$tenant\\\", enabled: true) { id } }\"}" >/dev/null
sleep 1
validate conformance
