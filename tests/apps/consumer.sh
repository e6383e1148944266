#!/usr/bin/env bash
# cfgan as a package: install the build to a temporary prefix, then build tests/consumer/
# (find_package(cfgan), cfgan::cfgan) and the same custom op through pkg-config, with nvcc
# off PATH as on a machine without the CUDA compiler, and run what they built.
source "$(dirname "$0")/common.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BIN/.." && pwd)
# Every PATH entry that holds an nvcc is dropped (the compilers and cmake are in /usr/bin).
PATH=$(tr : '\n' <<< "$PATH" | while read -r dir; do [ -e "$dir/nvcc" ] || echo "$dir"; done | paste -sd:)
! command -v nvcc > /dev/null || fail "nvcc is still on PATH"

cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
for f in lib/cmake/cfgan/cfganConfig.cmake lib/pkgconfig/cfgan.pc include/cfgan/engine/engine.h \
         include/cfgan/models/models.h lib/libcfgan_engine.a bin/train_gan; do
  [ -e "$WORK/prefix/$f" ] || fail "the install lacks $f"
done

# The stable API's umbrella headers compile from the installed include directory alone.
printf '#include "engine/engine.h"\n#include "models/models.h"\n' |
  c++ -std=c++20 -fsyntax-only -I"$WORK/prefix/include/cfgan" -x c++ - 2> "$WORK/headers.log" ||
  { cat "$WORK/headers.log" >&2; fail "the installed umbrella headers do not compile on their own"; }

cmake -S "$SRC/tests/consumer" -B "$WORK/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  > "$WORK/configure.log" 2>&1 || { cat "$WORK/configure.log" >&2; fail "configuring the consumer project"; }
cmake --build "$WORK/consumer" -j 2 > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "building it"; }

"$WORK/consumer/custom_op" > "$WORK/op.log" 2>&1 || { cat "$WORK/op.log" >&2; fail "custom_op"; }
expect_in "$WORK/op.log" "silu's gradient check: passed"

"$WORK/consumer/minimal_gan" 20 "$WORK/gan" > "$WORK/gan.log" 2>&1 || { cat "$WORK/gan.log" >&2; fail "minimal_gan"; }
expect_in "$WORK/gan.log" "step    20  d_loss"
[ -s "$WORK/gan/samples_000020.png" ] || fail "minimal_gan wrote no sample grid"
# G's 771,968 float parameters plus its batch-norm buffers: at least 3 MB of tensors.
[ "$(stat -c %s "$WORK/gan/generator.safetensors")" -gt 3000000 ] || fail "generator.safetensors is too small"
if "$WORK/consumer/minimal_gan" zero "$WORK/bad" > "$WORK/bad.log" 2>&1; then fail "steps 'zero' was accepted"; fi
expect_in "$WORK/bad.log" "steps: expected a positive integer, got 'zero'"

export PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
c++ -O1 -o "$WORK/custom_op_pc" "$SRC/tests/consumer/custom_op.cpp" $(pkg-config --cflags --libs cfgan) \
  > "$WORK/pc.log" 2>&1 || { cat "$WORK/pc.log" >&2; fail "building with pkg-config"; }
"$WORK/custom_op_pc" > "$WORK/op2.log" 2>&1 || { cat "$WORK/op2.log" >&2; fail "custom_op built with pkg-config"; }
expect_in "$WORK/op2.log" "silu's gradient check: passed"
echo "installed package builds and runs the consumer"
