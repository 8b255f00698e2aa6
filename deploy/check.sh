#!/usr/bin/env bash
# Checks the monitoring files offline (CI runs it): the alert rules and their unit
# tests with promtool, and every Grafana panel's query as PromQL (each becomes a
# recording rule that promtool parses).
set -euo pipefail
cd "$(dirname "$0")"
promtool check rules prometheus/alerts.yml
promtool test rules prometheus/alerts_test.yml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - grafana/mooring.json "$work/panels.yml" <<'PY'
import json, sys
dash = json.load(open(sys.argv[1]))
rules = []
for p in dash["panels"]:
    assert p.get("title") and p.get("targets"), p
    for t in p["targets"]:
        rules.append({"record": f"panel:{p['id']}_{t['refId']}".lower(), "expr": t["expr"]})
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"))
print(f"{len(rules)} panel queries in {dash['title']}")
PY
promtool check rules "$work/panels.yml"
