#!/usr/bin/env sh
# Rebuilds server/src/main/resources/fonts/NotoSansSC-Bold-subset.ttf, the CJK font the preview
# engine and the watermark draw with (no system font is assumed). Developers only; the result is
# committed, so neither a build nor the service ever downloads anything.
#
# Source: Noto Sans SC Bold (SIL OFL 1.1) from the npm package @expo-google-fonts/noto-sans-sc,
# subset to what GB 2312 encodes (6,763 hanzi, kana, Greek, Cyrillic, symbols) plus Latin,
# CJK and full-width punctuation: 2.2 MB instead of 10 MB.
# Needs: npm, and fontTools (Debian: apt-get install python3-fonttools).
set -eu
VERSION=0.4.3
SHA256=0d69d0f4971d2ff574e3d93cbc218dc950bf3f3f8f8e2c008d97687ed53aee59
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
OUT="$ROOT/server/src/main/resources/fonts"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=${PYTHON:-/usr/bin/python3}

cd "$WORK"
npm pack --silent "@expo-google-fonts/noto-sans-sc@$VERSION" >/dev/null
TGZ=expo-google-fonts-noto-sans-sc-$VERSION.tgz
echo "$SHA256  $TGZ" | sha256sum -c - >/dev/null
tar xzf "$TGZ"
"$PY" "$ROOT/tools/fonts/charset.py" > chars.txt
"$PY" -m fontTools.subset package/700Bold/NotoSansSC_700Bold.ttf --text-file=chars.txt \
  --output-file="$OUT/NotoSansSC-Bold-subset.ttf" --layout-features=kern --no-hinting \
  --name-IDs='*' --drop-tables+=DSIG
cp package/LICENSE_FONT "$OUT/NotoSansSC-OFL.txt"
echo "wrote $OUT/NotoSansSC-Bold-subset.ttf ($(wc -c < "$OUT/NotoSansSC-Bold-subset.ttf") bytes)"
