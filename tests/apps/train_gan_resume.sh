#!/usr/bin/env bash
# 20 steps straight and 10 steps + --resume + 10 steps give bit-identical checkpoints
# (weights, EMA, optimizer moments, data and noise positions).
source "$(dirname "$0")/common.sh"
"$BIN/train_gan" "${SMALL[@]}" --steps 20 --checkpoint-every 10 --out "$WORK/straight" > /dev/null
"$BIN/train_gan" "${SMALL[@]}" --steps 10 --checkpoint-every 10 --out "$WORK/resumed" > /dev/null
"$BIN/train_gan" --resume "$WORK/resumed" --steps 20 > "$WORK/log" 2>&1
expect_in "$WORK/log" "resumed"
cmp "$WORK/straight/checkpoints/step_000020.safetensors" "$WORK/resumed/checkpoints/step_000020.safetensors" ||
  fail "resumed run differs from the straight run"
[ "$(wc -l < "$WORK/resumed/metrics.jsonl")" -eq 20 ] || fail "metrics.jsonl should hold 20 lines after resuming"
# Resuming a finished run with a new --out is refused rather than silently mixed up.
if "$BIN/train_gan" "${SMALL[@]}" --steps 5 --out "$WORK/straight" > "$WORK/log" 2>&1; then
  fail "a fresh run into a directory with checkpoints must be refused"
fi
expect_in "$WORK/log" "already holds a run"
echo "resume is exact"
