#!/usr/bin/env bash
# checkpoints/ deleted mid-run, then the whole run directory: each run stops at its next
# checkpoint with one error line (the step, the file, the system's reason) and exit status 1.
source "$(dirname "$0")/common.sh"
ARGS=("${CPU[@]}" "${SMALL[@]}" --width 16 --steps 100000 --checkpoint-every 5)

# run_and_delete <run dir> <what to delete>
run_and_delete() {
  "$BIN/train_gan" "${ARGS[@]}" --out "$1" > "$WORK/out" 2> "$WORK/err" &
  local pid=$! status=0
  for _ in $(seq 3000); do
    [ -e "$1/checkpoints/step_000005.safetensors" ] && break
    sleep 0.01
  done
  rm -rf "$2"
  wait "$pid" || status=$?
  [ "$status" -eq 1 ] || { cat "$WORK/err" >&2; fail "exit status $status after deleting $2, expected 1"; }
  # stderr holds progress lines and the one error line.
  grep -v '^step [0-9]*/100000 ' "$WORK/err" > "$WORK/errors" || true
  [ "$(wc -l < "$WORK/errors")" -eq 1 ] || { cat "$WORK/err" >&2; fail "expected one error line"; }
  grep -qE "^train_gan: step [0-9]+: $1/checkpoints/step_[0-9]+\.safetensors: cannot create .*: No such file or directory; training stopped, its last checkpoint $1/checkpoints/step_[0-9]+\.safetensors is gone$" \
    "$WORK/errors" || { cat "$WORK/errors" >&2; fail "unexpected error line"; }
  cat "$WORK/errors"
}
run_and_delete "$WORK/a" "$WORK/a/checkpoints"
run_and_delete "$WORK/b" "$WORK/b"
echo "deleted run directories stop the run with one clear line"
