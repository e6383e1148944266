#!/usr/bin/env bash
# A full disk (a small tmpfs) and a run directory made read-only mid-run: one error line
# naming the step and the system's reason, exit status 1, and the last checkpoint intact (equal
# to an uninterrupted run's at that step). Mounting needs a user + mount namespace; where
# there is none the test is skipped (exit 77).
if [ -z "${CFGAN_TEST_NAMESPACE:-}" ]; then
  unshare --user --map-root-user --mount true 2> /dev/null ||
    { echo "skipped: no user namespace to mount a small file system in"; exit 77; }
  CFGAN_TEST_NAMESPACE=1 exec unshare --user --map-root-user --mount bash "$0" "$@"
fi
source "$(dirname "$0")/common.sh"
pid=
trap '[ -z "$pid" ] || kill -9 "$pid" 2> /dev/null || true; umount "$WORK/full" "$WORK/ro/run" 2> /dev/null; rm -rf "$WORK"' EXIT
ARGS=("${CPU[@]}" "${SMALL[@]}" --width 16 --checkpoint-every 4)
"$BIN/train_gan" "${ARGS[@]}" --steps 60 --keep 100 --out "$WORK/straight" > /dev/null
checkpoint_bytes=$(stat -c %s "$WORK/straight/checkpoints/step_000004.safetensors")

# expect_stopped <stderr file> <status> <reason>: one error line with the reason; the last
# good checkpoint it names equals the straight run's.
expect_stopped() {
  [ "$2" -eq 1 ] || { cat "$1" >&2; fail "exit status $2, expected 1"; }
  grep -v '^step [0-9]*/[0-9]* ' "$1" > "$WORK/errors" || true
  [ "$(wc -l < "$WORK/errors")" -eq 1 ] || { cat "$1" >&2; fail "expected one error line"; }
  grep -qE "^train_gan: step [0-9]+: .*$3.*; training stopped, last good checkpoint: " "$WORK/errors" ||
    { cat "$WORK/errors" >&2; fail "the error line does not give '$3' and the last good checkpoint"; }
  cat "$WORK/errors"
  last=$(sed -E 's/.*last good checkpoint: //' "$WORK/errors")
  cmp "$last" "$WORK/straight/checkpoints/$(basename "$last")" || fail "$last differs from the straight run's"
  [ -z "$(find "$(dirname "$last")" -name '*.tmp*')" ] || fail "a temporary checkpoint was left behind"
}

# Disk full: room for one checkpoint and a half; the second one cannot be written.
mkdir "$WORK/full"
mount -t tmpfs -o size=$((checkpoint_bytes * 3 / 2 / 1024 + 64))k tmpfs "$WORK/full"
status=0
"$BIN/train_gan" "${ARGS[@]}" --steps 40 --out "$WORK/full/run" > /dev/null 2> "$WORK/err" || status=$?
expect_stopped "$WORK/err" "$status" "No space left on device"

# Read-only: the run directory is remounted read-only once a checkpoint exists.
mkdir -p "$WORK/ro/run"
"$BIN/train_gan" "${ARGS[@]}" --steps 100000 --out "$WORK/ro/run" > /dev/null 2> "$WORK/err" &
pid=$!
for _ in $(seq 3000); do
  [ -e "$WORK/ro/run/checkpoints/step_000004.safetensors" ] && break
  sleep 0.01
done
# The kernel refuses (EBUSY) to make a mount read-only while a file is open for writing
# through it, and train_gan opens each checkpoint's temporary by path. So the run is stopped
# outside a checkpoint write while the read-only mount goes up; the write after it fails.
stopped=
for _ in $(seq 1000); do
  kill -STOP "$pid"
  while [ "$(awk '{print $3}' "/proc/$pid/stat")" != T ]; do sleep 0.001; done
  if [ -z "$(find "$WORK/ro/run" -name '*.tmp*')" ]; then stopped=1; break; fi
  kill -CONT "$pid"
  sleep 0.003
done
[ -n "$stopped" ] || fail "train_gan was always inside a checkpoint write"
mount --bind "$WORK/ro/run" "$WORK/ro/run"
mount -o remount,bind,ro "$WORK/ro/run"
kill -CONT "$pid"
status=0
wait "$pid" || status=$?
expect_stopped "$WORK/err" "$status" "Read-only file system"
# Resuming into it is refused just as clearly.
status=0
"$BIN/train_gan" "${CPU[@]}" --resume "$WORK/ro/run" > /dev/null 2> "$WORK/err" || status=$?
[ "$status" -eq 1 ] || fail "resuming into a read-only run directory: exit status $status, expected 1"
expect_in "$WORK/err" "metrics.jsonl: cannot open for writing (Read-only file system)"
echo "full and read-only run directories stop the run cleanly"
