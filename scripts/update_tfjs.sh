#!/usr/bin/env bash
# Vendor (or update) the TensorFlow.js engine of the in-page trainer (inrlib/book/playground.py).
#
# The trainer must work offline and from file://, so the engine is copied into the package
# (inrlib/book/playground_assets/inr_playground/, shipped as package data and copied once into the
# built site by _config.yml's html_extra_path) instead of being fetched from a CDN. Only the parts
# the trainer uses are kept: tfjs-core (tensors, autograd), the WebGL, WASM and CPU backends.
# A .wasm file cannot be fetched from a file:// page (its origin is null), so the SIMD binary is
# stored as a base64 data URI inside a .js file that sets a global.
#
# Usage: scripts/update_tfjs.sh [VERSION]     (default: the pinned version below)
# Then run tests/test_playground.py (parity with inrlib) and bench/playground.py, and commit.
set -euo pipefail
VERSION="${1:-4.22.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/inrlib/book/playground_assets/inr_playground"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
for pkg in tfjs-core tfjs-backend-cpu tfjs-backend-webgl tfjs-backend-wasm; do
    npm pack --silent "@tensorflow/$pkg@$VERSION" >/dev/null
    mkdir -p "$pkg" && tar xzf "tensorflow-$pkg-$VERSION.tgz" -C "$pkg"
done
mkdir -p "$DEST"
cp tfjs-core/package/dist/tf-core.min.js "$DEST/"
cp tfjs-backend-cpu/package/dist/tf-backend-cpu.min.js "$DEST/"
cp tfjs-backend-webgl/package/dist/tf-backend-webgl.min.js "$DEST/"
cp tfjs-backend-wasm/package/dist/tf-backend-wasm.min.js "$DEST/"
{
    printf '/* tfjs-backend-wasm %s: tfjs-backend-wasm-simd.wasm as a data URI (Apache-2.0, see LICENSE-tfjs.txt) */\n' "$VERSION"
    printf 'window.INR_PLAYGROUND_WASM_SIMD="data:application/wasm;base64,'
    base64 -w0 tfjs-backend-wasm/package/dist/tfjs-backend-wasm-simd.wasm
    printf '";\n'
} > "$DEST/tfjs-backend-wasm-simd.wasm.js"
{
    echo "TensorFlow.js $VERSION, vendored by scripts/update_tfjs.sh from the npm registry:"
    for pkg in tfjs-core tfjs-backend-cpu tfjs-backend-webgl tfjs-backend-wasm; do
        echo "  @tensorflow/$pkg@$VERSION  $(sha256sum "tensorflow-$pkg-$VERSION.tgz" | cut -d' ' -f1)  (sha256 of the npm tarball)"
    done
    echo
    echo "Licensed under the Apache License, Version 2.0 (below). Copyright 2018-2024 Google LLC."
    echo "The WebAssembly binary (tfjs-backend-wasm-simd.wasm, embedded in tfjs-backend-wasm-simd.wasm.js)"
    echo "is compiled from TensorFlow.js together with XNNPACK (BSD-3-Clause, Copyright Facebook, Inc."
    echo "and Google LLC) and its dependencies, as published in @tensorflow/tfjs-backend-wasm."
    echo
    cat /usr/share/common-licenses/Apache-2.0
} > "$DEST/LICENSE-tfjs.txt"
echo "$VERSION" > "$DEST/TFJS_VERSION"
ls -l "$DEST"
