#!/usr/bin/env bash
# A loss that turns NaN/Inf stops training with a message naming the step and the loss;
# the last good checkpoint stays and no checkpoint of the broken weights is written.
# (3 sound steps, then a resume with an absurd learning rate blows the weights up.)
source "$(dirname "$0")/common.sh"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 3 --checkpoint-every 1 --out "$WORK/run" > /dev/null 2>&1
status=0
"$BIN/train_gan" "${CPU[@]}" --resume "$WORK/run" --steps 50 --lr 1e30 > "$WORK/log" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$WORK/log" >&2; fail "exit status $status, expected 1"; }
grep -qE "step [0-9]+: [DG] loss is (nan|inf|-inf) \(D .*, G .*\); training stopped" "$WORK/log" ||
  { cat "$WORK/log" >&2; fail "the message does not name the step and the loss"; }
expect_in "$WORK/log" "Last good checkpoint: $WORK/run/checkpoints/step_000003.safetensors"
[ -s "$WORK/run/checkpoints/step_000003.safetensors" ] || fail "the last good checkpoint is gone"
[ "$(ls "$WORK"/run/checkpoints/ | wc -l)" -eq 3 ] || fail "a checkpoint was written after the bad step"
echo "NaN stops training: $(grep -oE 'step [0-9]+: [DG] loss is [a-z-]+' "$WORK/log")"
