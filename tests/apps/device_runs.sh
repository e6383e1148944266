#!/usr/bin/env bash
# The programs on the GPU: train_gan --device cuda resumes bit-exactly (the unconditional
# DCGAN's kernels have no floating-point atomics; the conditional one's embedding backward
# adds with atomics, so its resume is checked to run, not to match bits), and sample draws
# from a GPU-trained checkpoint on the GPU. Exit 77 (skipped) where there is no GPU or
# the build has no CUDA backend.
source "$(dirname "$0")/common.sh"
GPU=(--device cuda)
if ! "$BIN/train_gan" "${GPU[@]}" "${SMALL[@]}" --steps 1 --out "$WORK/probe" > "$WORK/log" 2>&1; then
  grep -q "no CUDA GPU is available" "$WORK/log" && { echo "no GPU: skipped"; exit 77; }
  grep -q "has no CUDA backend" "$WORK/log" && { echo "built without CUDA: skipped"; exit 77; }
  cat "$WORK/log" >&2
  fail "train_gan --device cuda failed"
fi

"$BIN/train_gan" "${GPU[@]}" "${SMALL[@]}" --steps 20 --checkpoint-every 10 --out "$WORK/straight" > /dev/null
"$BIN/train_gan" "${GPU[@]}" "${SMALL[@]}" --steps 10 --checkpoint-every 10 --out "$WORK/resumed" > /dev/null
"$BIN/train_gan" --resume "$WORK/resumed" --steps 20 > "$WORK/log" 2>&1
expect_in "$WORK/log" "device cuda"
cmp "$WORK/straight/checkpoints/step_000020.safetensors" "$WORK/resumed/checkpoints/step_000020.safetensors" ||
  fail "on the GPU, the resumed run differs from the straight run"

# The tensor-core kernels in a whole training run; TF32's resume is bit-exact like FP32's.
for p in tf32 bf16; do
  "$BIN/train_gan" "${GPU[@]}" "${SMALL[@]}" --precision $p --steps 20 --checkpoint-every 10 --out "$WORK/$p" \
    > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "train_gan --precision $p on the GPU"; }
  expect_in "$WORK/log" "device cuda ($p products)"
done
"$BIN/train_gan" "${GPU[@]}" "${SMALL[@]}" --precision tf32 --steps 10 --checkpoint-every 10 --out "$WORK/tf32_resumed" \
  > /dev/null
"$BIN/train_gan" --resume "$WORK/tf32_resumed" --steps 20 > /dev/null 2>&1
cmp "$WORK/tf32/checkpoints/step_000020.safetensors" "$WORK/tf32_resumed/checkpoints/step_000020.safetensors" ||
  fail "on the GPU with tf32, the resumed run differs from the straight run"

"$BIN/train_gan" "${GPU[@]}" "${SMALL[@]}" --conditional --steps 5 --checkpoint-every 5 --out "$WORK/cond" > /dev/null
"$BIN/train_gan" --resume "$WORK/cond" --steps 10 > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "conditional resume"; }
expect_in "$WORK/log" "resumed"
[ -s "$WORK/cond/checkpoints/step_000010.safetensors" ] || fail "the resumed conditional GPU run wrote no checkpoint"

"$BIN/sample" "${GPU[@]}" --checkpoint "$WORK/straight/checkpoints/step_000020.safetensors" --n 16 \
  --out "$WORK/samples" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "sample --device cuda"; }
[ "$(ls "$WORK"/samples/0*.png | wc -l)" -eq 16 ] || fail "sample --device cuda: expected 16 PNGs"
[ -s "$WORK/samples/grid.png" ] || fail "sample --device cuda wrote no grid"
echo "train_gan (fp32, tf32, bf16) and sample run on the GPU; the unconditional resumes are bit-exact"
