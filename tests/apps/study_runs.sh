#!/usr/bin/env bash
# study trains and scores every (categories, per-category, variant) run, writes the
# CSV row by row, the markdown table and plots, skips finished runs when restarted, and
# names bad input.
source "$(dirname "$0")/common.sh"
"$BIN/train_classifier" --classes 0,1 --per-class 50 --epochs 1 --batch 20 --threads 2 --out "$WORK/clf" > /dev/null
clf=$(ls "$WORK"/clf/checkpoints/*.safetensors | tail -n 1)
ARGS=(--classifier "$clf" --categories 1 --per-class 20,40 --steps 2 --seeds 1 --n 20 --real-per-class 20
      --threads 2 --out "$WORK/study")
"$BIN/study" "${CPU[@]}" "${ARGS[@]}" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "study failed"; }
[ "$(wc -l < "$WORK/study/results.csv")" -eq 9 ] || fail "expected a header and 8 rows in results.csv"
head -1 "$WORK/study/results.csv" | grep -q "^categories,per_class,variant,seed,steps,fd,kid_mean" ||
  fail "results.csv header"
for v in baseline ur er ur+er; do
  grep -q "^| 1 | 40 | $v | " "$WORK/study/results.md" || fail "results.md lacks the 1 x 40 $v row"
done
for f in fd.png recall.png grids/c1_n20_ur+er_s1.png; do [ -s "$WORK/study/$f" ] || fail "no $f"; done
"$BIN/study" "${CPU[@]}" "${ARGS[@]}" > "$WORK/log" 2>&1
expect_in "$WORK/log" "8 runs of 2 steps on cpu (8 already in"
[ "$(wc -l < "$WORK/study/results.csv")" -eq 9 ] || fail "a restarted study must not redo finished runs"
if "$BIN/study" "${CPU[@]}" --categories 2 --classifier "$clf" > "$WORK/log" 2>&1; then fail "--categories 2 accepted"; fi
expect_in "$WORK/log" "--categories: expected counts among 1, 3 and 10, got 2"
if "$BIN/study" "${CPU[@]}" --quick > "$WORK/log" 2>&1; then fail "study without a classifier succeeded"; fi
expect_in "$WORK/log" "--classifier: a train_classifier checkpoint is required"
echo "study runs, resumes and reports"
