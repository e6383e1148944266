#!/usr/bin/env bash
# --precision: a bad value is one clear line; bf16 products change the training (the
# checkpoint differs from FP32's) and the run records its precision, so --resume carries
# it on and 10 + 10 steps equal 20 straight, bit for bit.
source "$(dirname "$0")/common.sh"
if "$BIN/train_gan" "${CPU[@]}" --precision fp16 --out "$WORK/bad" > "$WORK/log" 2>&1; then
  fail "--precision fp16 was accepted"
fi
expect_in "$WORK/log" "--precision: expected fp32, tf32 or bf16, got 'fp16'"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 20 --checkpoint-every 10 --out "$WORK/fp32" > /dev/null
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --precision bf16 --steps 20 --checkpoint-every 10 --out "$WORK/straight" \
  > "$WORK/log"
expect_in "$WORK/log" "device cpu (bf16 products)"
expect_in "$WORK/straight/config.json" '"precision": "bf16"'
if cmp -s "$WORK/fp32/checkpoints/step_000020.safetensors" "$WORK/straight/checkpoints/step_000020.safetensors"; then
  fail "bf16 products gave the same weights as fp32"
fi
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --precision bf16 --steps 10 --checkpoint-every 10 --out "$WORK/resumed" \
  > /dev/null
"$BIN/train_gan" "${CPU[@]}" --resume "$WORK/resumed" --steps 20 > "$WORK/log" 2>&1
expect_in "$WORK/log" "device cpu (bf16 products)"
cmp "$WORK/straight/checkpoints/step_000020.safetensors" "$WORK/resumed/checkpoints/step_000020.safetensors" ||
  fail "the resumed bf16 run differs from the straight one"
echo "precision is applied and resumed"
