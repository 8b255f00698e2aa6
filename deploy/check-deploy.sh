#!/usr/bin/env bash
# Checks the deployment files offline (CI runs it): the Kubernetes manifests rendered by
# kustomize against the Kubernetes schemas (kubernetes-validate --strict), checkov on
# them and on the Containerfile (findings left are skipped in the files themselves,
# each with its reason), the compose file's syntax, and the image's configuration
# (deploy/image-check.sh, from the binary built here).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kubectl kustomize deploy/kubernetes >"$work/kubernetes.yaml"
kubernetes-validate --strict --quiet "$work/kubernetes.yaml"
echo "kubernetes-validate: ok ($(grep -c '^kind:' "$work/kubernetes.yaml") resources)"
checkov -f "$work/kubernetes.yaml" --framework kubernetes --compact --quiet --skip-download
cp Containerfile "$work/Dockerfile"
checkov -f "$work/Dockerfile" --framework dockerfile --compact --quiet --skip-download
python3 -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); assert {"mooring-1", "mooring-2", "postgres", "redis", "proxy"} <= set(c["services"]), c["services"].keys()' deploy/compose/compose.yaml
echo "compose.yaml: ok"
bash deploy/image-check.sh "${1:-target/debug/mooring}"
