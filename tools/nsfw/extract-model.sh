#!/usr/bin/env sh
# Rebuilds server/src/main/resources/nsfw/mobilenet_v2/ (model.json, group1-shard1of1.bin and the
# nsfwjs MIT licence) from the pinned npm package nsfwjs@4.4.0, byte for byte. Developers only:
# the result is committed, so neither a build nor the service downloads anything (README.md).
# Needs: npm and node.
set -eu
VERSION=4.4.0
# The tarball as the npm registry serves it (its dist.integrity is the base64 form of the SHA-512).
TGZ_SHA256=585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382
TGZ_SHA512=92b0b57e07932d7b59c20769289d239bb86abf481349141044bf8584e6b1689f568fddade3604eddcb0eda87708130206607f646f9303eda7447c01aedd73e30
# What this script writes; a mismatch means the extraction is no longer reproducible.
MODEL_JSON_SHA256=f12c449cf6ba0b4cd48d648468b8d955379ed13d6acb46b77de0aae30172ac09
SHARD_SHA256=8e7dddbb16acacc1bf1601b1b8a761e730ff934b7f2d7771312b2f000e5f5f13

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
OUT="$ROOT/server/src/main/resources/nsfw/mobilenet_v2"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
# Ask for the version explicitly: a bare `npm pack nsfwjs` has been seen to give an older one.
npm pack --silent "nsfwjs@$VERSION" >/dev/null
TGZ=nsfwjs-$VERSION.tgz
echo "$TGZ_SHA256  $TGZ" | sha256sum -c - >/dev/null
echo "$TGZ_SHA512  $TGZ" | sha512sum -c - >/dev/null
tar xzf "$TGZ"
mkdir -p "$OUT"
node "$ROOT/tools/nsfw/extract-model.js" package/dist/models/mobilenet_v2 "$OUT"
cp package/LICENSE "$OUT/LICENSE-nsfwjs.txt"
(cd "$OUT" && printf '%s  %s\n%s  %s\n' "$MODEL_JSON_SHA256" model.json "$SHARD_SHA256" group1-shard1of1.bin \
  | sha256sum -c - >/dev/null)
echo "wrote $OUT (checksums match the committed model)"
