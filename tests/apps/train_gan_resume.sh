#!/usr/bin/env bash
# 20 steps straight and 10 steps + --resume + 10 steps give bit-identical checkpoints
# (weights, EMA, optimizer moments, data and noise positions).
source "$(dirname "$0")/common.sh"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 20 --checkpoint-every 10 --out "$WORK/straight" > /dev/null
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 10 --checkpoint-every 10 --out "$WORK/resumed" > /dev/null
# A run killed after its checkpoint leaves log lines past it, the last one cut short.
{ echo '{"step":11,"d_loss":9.0,"g_loss":9.0}'; echo '{"step":12,"d_lo'; } >> "$WORK/resumed/metrics.jsonl"
"$BIN/train_gan" "${CPU[@]}" --resume "$WORK/resumed" --steps 20 > "$WORK/log" 2>&1
expect_in "$WORK/log" "resumed"
expect_in "$WORK/log" "dropped 2 metrics.jsonl lines past step 10"
cmp "$WORK/straight/checkpoints/step_000020.safetensors" "$WORK/resumed/checkpoints/step_000020.safetensors" ||
  fail "resumed run differs from the straight run"
[ "$(wc -l < "$WORK/resumed/metrics.jsonl")" -eq 20 ] || fail "metrics.jsonl should hold 20 lines after resuming"
steps=$(grep -oE '"step":[0-9]+' "$WORK/resumed/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')
[ "$steps" = "$(seq -s ' ' 1 20) " ] || fail "metrics.jsonl steps are not 1..20 in order: $steps"
# Resuming a finished run with a new --out is refused rather than silently mixed up.
if "$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 5 --out "$WORK/straight" > "$WORK/log" 2>&1; then
  fail "a fresh run into a directory with checkpoints must be refused"
fi
expect_in "$WORK/log" "already holds a run"
echo "resume is exact"
