#!/usr/bin/env bash
# toy2d: a short sweep writes the table, the CSV with every field, one scatter plot per
# setting and the feature-information plot; bad flags give one clear line and exit 1.
source "$(dirname "$0")/common.sh"
"$BIN/toy2d" --sweep --data ring --per-mode 5,0 --seeds 2 --steps 100 --out "$WORK/run" > "$WORK/log" 2>&1 ||
  { cat "$WORK/log" >&2; fail "the short sweep failed"; }
expect_in "$WORK/log" "16 runs of 100 steps"
for f in results.csv results.md config.json info_ring.png; do
  [ -s "$WORK/run/$f" ] || fail "toy2d did not write $f"
done
for size in 5 unlimited; do
  for setting in baseline UR ER UR+ER; do
    [ -s "$WORK/run/samples/ring_${size}_${setting}.png" ] || fail "no scatter plot for $size/mode $setting"
  done
done
header="data,per_mode,train_points,setting,seed,modes_covered,high_quality,kl,ur_g,ur_d,er_g,er_d,entropy_g,entropy_d,dead_g,dead_d,log_norm_g,log_norm_d,d_loss,g_loss,diverged_at,seconds"
[ "$(head -n 1 "$WORK/run/results.csv")" = "$header" ] || fail "results.csv header: $(head -n 1 "$WORK/run/results.csv")"
[ "$(tail -n +2 "$WORK/run/results.csv" | wc -l)" -eq 16 ] || fail "expected 16 rows in results.csv"
awk -F, 'NR > 1 && (NF != 22 || $6 < 0 || $6 > 8 || $7 < 0 || $7 > 1) { exit 1 }' "$WORK/run/results.csv" ||
  fail "a results.csv row has the wrong field count or an impossible value"
expect_in "$WORK/run/results.md" "| ring | 5 | UR+ER | 2 |"
expect_in "$WORK/run/results.md" "| ring | unlimited | baseline | 2 |"

check() {  # check <expected text> <args...>
  local text=$1
  shift
  if "$BIN/toy2d" "$@" > "$WORK/bad" 2>&1; then fail "toy2d $* succeeded"; fi
  [ "$(wc -l < "$WORK/bad")" -eq 1 ] || { cat "$WORK/bad" >&2; fail "expected one line for toy2d $*"; }
  expect_in "$WORK/bad" "$text"
}
check "--data: expected ring or grid, got 'moons'" --data moons --out "$WORK/a"
check "--sweep runs every setting; drop --ur/--er" --sweep --ur --out "$WORK/b"
check "--per-mode: sizes must be >= 0 (0: unlimited), got -3" --per-mode -3 --out "$WORK/c"
check "--steps: expected an integer, got 'lots'" --steps lots --out "$WORK/d"
check "unknown flag --seed" --seed 3 --out "$WORK/e"
echo "toy2d writes its results and rejects bad flags"
