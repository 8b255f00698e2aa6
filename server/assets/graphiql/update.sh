#!/usr/bin/env bash
# Re-fetches the console's browser code from the npm registry and prints the SHA-384 of
# each file, for the pins in server/src/http/console.rs. Change the versions here and in
# VERSIONS.md together.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent graphiql@4.1.2 react@18.3.1 react-dom@18.3.1 >/dev/null)
for pkg in graphiql-4.1.2 react-18.3.1 react-dom-18.3.1; do
  mkdir -p "$tmp/$pkg" && tar xzf "$tmp/$pkg.tgz" -C "$tmp/$pkg"
done
cp "$tmp/graphiql-4.1.2/package/graphiql.min.js" "$tmp/graphiql-4.1.2/package/graphiql.min.css" .
cp "$tmp/react-18.3.1/package/umd/react.production.min.js" .
cp "$tmp/react-dom-18.3.1/package/umd/react-dom.production.min.js" .
cp "$tmp/graphiql-4.1.2/package/LICENSE" LICENSE.graphiql
cp "$tmp/react-18.3.1/package/LICENSE" LICENSE.react
for f in graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js init.js; do
  echo "$f sha384-$(openssl dgst -sha384 -binary "$f" | base64 -w0)"
done
