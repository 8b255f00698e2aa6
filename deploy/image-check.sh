#!/usr/bin/env bash
# Builds an image equivalent to Containerfile's from a binary already built here
# (no registry is reachable, so FROM scratch plus what `ldd` says the binary needs,
# and distroless' nonroot user), then checks its configuration: non-root user,
# entrypoint, exposed ports, labels. Running containers is not possible in this
# sandbox, so the image is built and inspected, not run.
#   bash deploy/image-check.sh target/debug/mooring
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/mooring}
work=$(mktemp -d)
tag="localhost/mooring-check:$$"
trap 'rm -rf "$work"; podman rmi -f "$tag" >/dev/null 2>&1 || true' EXIT

mkdir -p "$work/root/usr/local/bin" "$work/root/etc" "$work/root/tmp"
cp "$bin" "$work/root/usr/local/bin/mooring"
# The shared libraries and the loader, at their paths.
ldd "$bin" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
  mkdir -p "$work/root$(dirname "$lib")"
  cp -L "$lib" "$work/root$lib"
done
[ -d /etc/ssl/certs ] && mkdir -p "$work/root/etc/ssl" && cp -rL /etc/ssl/certs "$work/root/etc/ssl/"
echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" >"$work/root/etc/passwd"
echo "nonroot:x:65532:" >"$work/root/etc/group"
# The runtime stage of Containerfile, with the base swapped for what was copied above.
{
  echo "FROM scratch"
  echo "COPY root/ /"
  sed -n '/^FROM gcr.io/,$p' Containerfile | grep -vE '^(FROM|COPY --from)'
} >"$work/Containerfile"
podman build -q -t "$tag" -f "$work/Containerfile" "$work" >/dev/null

inspect() { podman image inspect "$tag" --format "$1"; }
user=$(inspect '{{.Config.User}}')
entry=$(inspect '{{json .Config.Entrypoint}}')
ports=$(inspect '{{json .Config.ExposedPorts}}')
title=$(inspect '{{index .Config.Labels "org.opencontainers.image.title"}}')
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }
check "runs as non-root ($user)" '[ "$user" = "65532:65532" ]'
check "entrypoint is the binary ($entry)" '[ "$entry" = "[\"/usr/local/bin/mooring\"]" ]'
check "exposes 8000 and 9100 ($ports)" '[[ "$ports" == *"8000/tcp"* && "$ports" == *"9100/tcp"* ]]'
check "labelled ($title)" '[ "$title" = "mooring" ]'
size=$(inspect '{{.Size}}')
echo "image size: $((size / 1024 / 1024)) MiB (debug binary)"
exit $fail
