#!/usr/bin/env bash
# Bad flags and bad data give one clear line and a non-zero exit.
source "$(dirname "$0")/common.sh"
check() {  # check <expected text> <args...>
  local text=$1
  shift
  if "$BIN/train_gan" "${CPU[@]}" "$@" > "$WORK/log" 2>&1; then fail "train_gan $* succeeded"; fi
  expect_in "$WORK/log" "$text"
}
check "--steps: expected an integer, got 'many'" --steps many --out "$WORK/a"
check "unknown flag --stpes" --stpes 10 --out "$WORK/b"
check "$WORK/nowhere: not a directory" --data "$WORK/nowhere" --out "$WORK/c"
mkdir -p "$WORK/empty/cats"
check "no .png/.jpg/.jpeg/.bmp images" --data "$WORK/empty" --out "$WORK/d"
mkdir -p "$WORK/broken/cats"
echo "not an image" > "$WORK/broken/cats/x.png"
check "$WORK/broken/cats/x.png: not a readable image" --data "$WORK/broken" --out "$WORK/e"
check "--classes: class 12 does not exist" --classes 1,12 --out "$WORK/f"
check "--per-class 7000: class 0 (T-shirt/top) has only 6000 images" --per-class 7000 --out "$WORK/g"
check "--model: expected dcgan or sngan, got 'big'" --model big --out "$WORK/h"
check "--resume $WORK/none: no such run directory" --resume "$WORK/none"
echo "bad input is reported"
