#!/usr/bin/env bash
# Builds the booth's WebAssembly module (spec/60 §60.2) into target/booth/urne_booth.wasm,
# which urne-server serves at /booth/urne_booth.wasm, and prints its size raw and gzipped.
# Needs only rustup's wasm32-unknown-unknown target: no wasm-bindgen, no wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Release with whole-program optimisation and no debug info: the workspace's release
# profile keeps line tables (debug = 1) for the server's backtraces, which the page
# would download for nothing. The source paths left in panic locations are remapped, so
# that where the checkout lies does not change the bytes (spec/60 §60.6).
CARGO_PROFILE_RELEASE_DEBUG=false \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_STRIP=true \
CARGO_PROFILE_RELEASE_PANIC=abort \
CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$PWD=/urne"$'\x1f'"--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
  cargo build --release -j 2 -p urne-booth --lib --target wasm32-unknown-unknown
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target/booth"
cp "$target/wasm32-unknown-unknown/release/urne_booth.wasm" "$target/booth/urne_booth.wasm"
raw=$(stat -c %s "$target/booth/urne_booth.wasm")
gz=$(gzip -9 -c "$target/booth/urne_booth.wasm" | wc -c)
echo "$target/booth/urne_booth.wasm: $raw bytes, $gz bytes gzipped (gzip -9)"
