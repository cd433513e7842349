#!/usr/bin/env bash
# Fetches the pinned npm package @vladmandic/face-api (MIT) into face/testdata/npm/package:
# its model/ folder holds the TF.js weights that face/ loads, its demo/ folder the photos the
# tests use, its dist/ the JavaScript the tests compare against. Nothing of it goes into git
# (.gitignore), and nothing is downloaded at run time: this script is the only download.
#
#   face/fetch.sh          # idempotent: does nothing when the right version is in place
#
# The tarball is checked against the integrity hash the npm registry published for the
# version (pinned below); a mismatch leaves nothing behind and fails.
set -euo pipefail
cd "$(dirname "$0")"

VERSION=1.7.15
INTEGRITY=sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==

dest=testdata/npm
stamp="$dest/package/.silentcert-integrity"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$INTEGRITY" ]; then
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@vladmandic/face-api@$VERSION" >/dev/null)
tgz="$tmp/vladmandic-face-api-$VERSION.tgz"
got="sha512-$(node -e 'const c=require("crypto");process.stdout.write(c.createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
if [ "$got" != "$INTEGRITY" ]; then
  echo "face/fetch.sh: @vladmandic/face-api@$VERSION integrity mismatch: got $got, want $INTEGRITY" >&2
  exit 1
fi
mkdir -p "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x"
rm -rf "$dest/package"
mkdir -p "$dest"
mv "$tmp/x/package" "$dest/package"
echo "$INTEGRITY" >"$stamp"
echo "face/fetch.sh: @vladmandic/face-api@$VERSION in face/$dest/package"
