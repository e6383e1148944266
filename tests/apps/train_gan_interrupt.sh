#!/usr/bin/env bash
# Ctrl-C (SIGINT) saves a checkpoint, says how to continue, and exits with 130; the run
# resumed from it ends equal to a straight run, byte for byte.
source "$(dirname "$0")/common.sh"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 100000 --out "$WORK/run" > "$WORK/log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -s "$WORK/run/metrics.jsonl" ] && [ "$(wc -l < "$WORK/run/metrics.jsonl")" -ge 3 ] && break
  sleep 0.1
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || { cat "$WORK/log" >&2; fail "exit status $status, expected 130"; }
expect_in "$WORK/log" "interrupted at step"
expect_in "$WORK/log" "--resume $WORK/run"
ls "$WORK"/run/checkpoints/step_*.safetensors > /dev/null || fail "no checkpoint after Ctrl-C"
# The checkpoint Ctrl-C saved continues exactly: two steps on equal a straight run's.
steps=$(($(wc -l < "$WORK/run/metrics.jsonl") + 2))
"$BIN/train_gan" "${CPU[@]}" --resume "$WORK/run" --steps "$steps" > /dev/null 2>&1 ||
  fail "the interrupted run does not resume"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps "$steps" --out "$WORK/straight" > /dev/null 2>&1
last=checkpoints/step_$(printf %06d "$steps").safetensors
cmp "$WORK/run/$last" "$WORK/straight/$last" || fail "the resumed run's $last differs from a straight run's"
echo "interrupt saves and resumes"
