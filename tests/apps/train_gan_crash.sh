#!/usr/bin/env bash
# kill -9 at seeded random moments, each time --resume (or a fresh start into the same
# directory when the kill came before the first checkpoint, as the first one does): the final
# checkpoint equals an uninterrupted run's byte for byte, and metrics.jsonl holds every step
# once, in order, with the uninterrupted run's values.
source "$(dirname "$0")/common.sh"
STEPS=80
KILLS=8
RANDOM=16  # seeds bash's generator: the same kill moments on every run of the test
ARGS=("${CPU[@]}" "${SMALL[@]}" --width 16 --steps "$STEPS" --checkpoint-every 8 --keep 2 --sample-every 7)
"$BIN/train_gan" "${ARGS[@]}" --out "$WORK/straight" > /dev/null

last_step() {  # the step of metrics.jsonl's last complete line, 0 without one
  [ -s "$WORK/crash/metrics.jsonl" ] || { echo 0; return; }
  tail -n 2 "$WORK/crash/metrics.jsonl" | grep -oE '^\{"step":[0-9]+' | tail -n 1 | cut -d: -f2 || echo 0
}
start_run() {  # --resume where a checkpoint exists, else a fresh run into the same directory
  if compgen -G "$WORK/crash/checkpoints/step_*.safetensors" > /dev/null; then
    "$BIN/train_gan" "${CPU[@]}" --resume "$WORK/crash" >> "$WORK/log" 2>&1 &
    how=resumed
  else
    "$BIN/train_gan" "${ARGS[@]}" --out "$WORK/crash" >> "$WORK/log" 2>&1 &
    how=fresh
  fi
  pid=$!
}

kills_done=0
for k in $(seq "$KILLS"); do
  # Kill a random 1-8 steps past the last logged one (the first kill at step 1, before any
  # checkpoint), 0-49 ms after that step's line.
  target=$(($(last_step) + 1 + (k > 1 ? RANDOM % 8 : 0)))
  delay=$(printf '0.%03d' $((RANDOM % 50)))
  [ "$target" -lt "$STEPS" ] || break
  start_run
  for _ in $(seq 3000); do
    { [ "$(last_step)" -ge "$target" ] || ! kill -0 "$pid" 2> /dev/null; } && break
    sleep 0.01
  done
  sleep "$delay"
  kill -9 "$pid" 2> /dev/null && kills_done=$((kills_done + 1))
  wait "$pid" 2> /dev/null || true
  echo "$how run killed after step $(last_step) (target $target, +${delay}s)" >> "$WORK/kills"
done
start_run
wait "$pid" || { cat "$WORK/log" >&2; fail "the last resumed run failed"; }
[ "$kills_done" -ge 3 ] || { cat "$WORK/kills" >&2; fail "only $kills_done kills landed"; }
cat "$WORK/kills"

cmp "$WORK/straight/checkpoints/step_$(printf %06d "$STEPS").safetensors" \
  "$WORK/crash/checkpoints/step_$(printf %06d "$STEPS").safetensors" ||
  fail "the run killed $kills_done times ends with a different checkpoint than the straight run"
steps=$(grep -oE '"step":[0-9]+' "$WORK/crash/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')
[ "$steps" = "$(seq -s ' ' 1 "$STEPS") " ] || fail "metrics.jsonl steps are not 1..$STEPS in order: $steps"
# The same losses as the straight run, line for line (only the wall-clock seconds differ).
strip_seconds() { sed -E 's/,"seconds":[^}]*//' "$1"; }
diff <(strip_seconds "$WORK/straight/metrics.jsonl") <(strip_seconds "$WORK/crash/metrics.jsonl") > /dev/null ||
  fail "metrics.jsonl values differ from the straight run's"
leftovers=$(find "$WORK/crash" -name '*.tmp*')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"
echo "killed $kills_done times, resumed exactly"
