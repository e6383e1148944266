#!/usr/bin/env bash
# train_gan --r1: the penalty is logged in metrics.jsonl at every step (the value of the
# latest regularized step), a lazy run resumes bit-exactly across a checkpoint that falls
# between two penalties, and the flags are checked.
source "$(dirname "$0")/common.sh"
R1=(--r1 10 --r1-every 4 --width 16)
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" "${R1[@]}" --steps 10 --checkpoint-every 10 --out "$WORK/straight" \
  > "$WORK/log"
expect_in "$WORK/log" "+ R1 10 every 4"
[ "$(grep -c '"r1":' "$WORK/straight/metrics.jsonl")" -eq 10 ] || fail "every metrics.jsonl line should hold r1"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" "${R1[@]}" --steps 6 --checkpoint-every 6 --out "$WORK/resumed" > /dev/null
"$BIN/train_gan" "${CPU[@]}" --resume "$WORK/resumed" --steps 10 --checkpoint-every 10 > /dev/null
cmp "$WORK/straight/checkpoints/step_000010.safetensors" "$WORK/resumed/checkpoints/step_000010.safetensors" ||
  fail "the resumed R1 run differs from the straight one"
[ "$(sed -n 7p "$WORK/straight/metrics.jsonl" | grep -oE '"r1":[^,]+')" = \
  "$(sed -n 7p "$WORK/resumed/metrics.jsonl" | grep -oE '"r1":[^,]+')" ] ||
  fail "the first step after resuming logs another R1 value"
# Resuming with another R1 setting is refused (the flags of a resumed run are its own).
sed -i 's/"r1-every": *"4"/"r1-every": "2"/' "$WORK/resumed/config.json"
if "$BIN/train_gan" "${CPU[@]}" --resume "$WORK/resumed" --steps 12 > "$WORK/log" 2>&1; then
  fail "resuming with another --r1-every must be refused"
fi
expect_in "$WORK/log" "checkpoint and run disagree on R1"
for bad in "--r1 -1:--r1: gamma must be >= 0, got -1" "--r1-every 0:--r1-every: must be >= 1, got 0"; do
  # shellcheck disable=SC2086
  if "$BIN/train_gan" "${CPU[@]}" ${bad%%:*} --out "$WORK/bad" > "$WORK/log" 2>&1; then fail "${bad%%:*} accepted"; fi
  expect_in "$WORK/log" "${bad#*:}"
done
echo "R1 runs, logs and resumes exactly"
