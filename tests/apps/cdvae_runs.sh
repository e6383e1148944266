#!/usr/bin/env bash
# train_cdvae on a small causal world, with the flip term, an EMA, the latent adversary and the
# critic's attribute head reading the flips: 4
# steps straight and 2 + --resume + 2 give bit-identical checkpoints; counterfactual writes an
# original, a reconstruction and one image per flip for each image, and a grid; bad input gives
# one-line errors.
source "$(dirname "$0")/common.sh"
"$BIN/causal_world" generate --n 48 --out "$WORK/world" > /dev/null 2>&1
TRAIN=(--data "$WORK/world" --image-size 32 --width 4 --z-dim 4 --batch 8 --threads 2 --log-every 1 --sample-every 2
       --flip 1 --ema-decay 0.9 --latent-adv 1 --critic-attr 1 --flip-critic 1)
"$BIN/train_cdvae" "${CPU[@]}" "${TRAIN[@]}" --steps 4 --checkpoint-every 2 --out "$WORK/straight" > "$WORK/log" 2>&1 ||
  { cat "$WORK/log" >&2; fail "train_cdvae failed"; }
expect_in "$WORK/log" "z->attr"  # the latent adversary's reader, shown because it is on
expect_in "$WORK/log" "flip D"   # and the critic's reading of the flips
"$BIN/train_cdvae" "${CPU[@]}" "${TRAIN[@]}" --steps 2 --checkpoint-every 2 --out "$WORK/resumed" > /dev/null 2>&1
"$BIN/train_cdvae" "${CPU[@]}" --resume "$WORK/resumed" --steps 4 > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "resume"; }
expect_in "$WORK/log" "resumed"
cmp "$WORK/straight/checkpoints/step_000004.safetensors" "$WORK/resumed/checkpoints/step_000004.safetensors" ||
  fail "the resumed run differs from the straight one"
[ -s "$WORK/straight/samples/step_000004.png" ] && [ -s "$WORK/straight/loss.png" ] || fail "no sample grid or loss plot"

"$BIN/counterfactual" --checkpoint "$WORK/straight" --images "$WORK/world" --n 3 --flip Red,Large \
  --out "$WORK/cf" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "counterfactual failed"; }
[ "$(ls "$WORK/cf" | grep -c '\.png$')" -eq 13 ] || fail "expected 3 x 4 images and a grid, got $(ls "$WORK/cf")"
first=$(ls "$WORK/cf" | grep '_original\.png$' | head -1 | sed 's/_original\.png$//')
for f in "${first}_original" "${first}_reconstruction" "${first}_flip_Red" "${first}_flip_Large" grid; do
  [ -s "$WORK/cf/$f.png" ] || fail "no $f.png"
done
"$BIN/counterfactual" --checkpoint "$WORK/straight" --n 2 --out "$WORK/prior" > /dev/null 2>&1 ||
  fail "counterfactuals of prior samples failed"
[ "$(ls "$WORK/prior" | grep -c 'prior_1_flip_')" -eq 6 ] || fail "prior samples should flip all 6 attributes"

# eval_cdvae with a judge (one epoch on the same world): a row per attribute, JSON beside.
"$BIN/train_classifier" --data "$WORK/world" --attributes "$WORK/world/list_attr.txt" --image-size 32 --epochs 1 \
  --batch 16 --threads 2 --out "$WORK/judge" > /dev/null 2>&1
"$BIN/eval_cdvae" --checkpoint "$WORK/straight" --judge "$WORK/judge" --world "$WORK/world" --n 16 \
  --json "$WORK/scores.json" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "eval_cdvae failed"; }
expect_in "$WORK/log" "deception"
[ "$(grep -c "\"attribute\"" "$WORK/scores.json")" -eq 6 ] || fail "scores.json should hold 6 attributes"
# Deception apart by direction: the units flipped to on are those whose attribute is absent
# (-1) in the world's attribute file, counted there independently; the two parts add up to the
# whole (null: no unit went that way).
awk -F': ' '
  FNR == NR { if (FNR > 2 && FNR <= 18) for (k = 2; k <= NF; ++k) absent[k - 1] += ($k == -1); next }
  /"deception"/ { d = $2 + 0 } /"deception_to_off"/ { off = $2 + 0 } /"deception_to_on"/ { on = $2 + 0 }
  /"units_to_on"/ { n = $2 + 0; ++seen; gap = 16 * d - (n * on + (16 - n) * off)
                    if (n != absent[seen] || gap > 1e-6 || gap < -1e-6) bad = 1 }
  END { exit !(seen == 6 && !bad) }' FS=' +' "$WORK/world/list_attr.txt" FS=': ' "$WORK/scores.json" ||
  fail "deception to on / to off: wrong unit counts or parts that do not add up to the whole"
# The truth's numbers (its FD, the judge's reading of it) come from the world and the judge
# alone: two models whose own counterfactuals differ share them exactly. (The 4-step runs above
# still decode one flat grey; a few steps at a high rate get past that.) Without the critic's
# head its reading of the flips is off too, with no flag for it.
"$BIN/train_cdvae" "${CPU[@]}" --data "$WORK/world" --image-size 32 --width 4 --z-dim 4 --batch 8 --threads 2 \
  --steps 6 --lr 0.02 --log-every 1 --critic-attr 0 --out "$WORK/other" > "$WORK/log" 2>&1 ||
  { cat "$WORK/log" >&2; fail "train_cdvae --lr 0.02 --critic-attr 0 failed"; }
expect_in "$WORK/log" "flip 0."
! grep -qE "z->attr|flip adv|D attr|flip D" "$WORK/log" || fail "the progress line shows terms that are off"
"$BIN/eval_cdvae" --checkpoint "$WORK/other,$WORK/straight" \
  --judge "$WORK/judge" --world "$WORK/world" --n 16 --json "$WORK/two.json" > "$WORK/log" 2>&1 ||
  { cat "$WORK/log" >&2; fail "eval_cdvae of two checkpoints failed"; }
field() { grep "\"$1\"" "$WORK/two.json" | sed 's/.*: *//; s/,$//'; }
[ "$(field fd_direct_truth | sort -u | wc -l)" -eq 1 ] && [ "$(field fd_total_truth | sort -u | wc -l)" -eq 1 ] &&
  [ "$(field judge_reads_truth | wc -l)" -eq 12 ] &&
  [ "$(field judge_reads_truth | head -6)" = "$(field judge_reads_truth | tail -6)" ] ||
  fail "the truth's FD or the judge's reading of it differs between models"
[ "$(field fd_counterfactuals | sort -u | wc -l)" -eq 2 ] || fail "two checkpoints gave the same counterfactual FD"
"$BIN/train_classifier" --data "$WORK/world" --image-size 32 --epochs 1 --batch 16 --threads 2 --out "$WORK/clf" \
  > /dev/null 2>&1

bad() {  # bad <expected text> <program> <args...>
  local want=$1 program=$2
  shift 2
  if "$BIN/$program" "$@" > "$WORK/log" 2>&1; then fail "$program $* should fail"; fi
  expect_in "$WORK/log" "$want"
}
bad "--flip: unknown attribute 'Hat'" counterfactual --checkpoint "$WORK/straight" --flip Hat --out "$WORK/x"
mkdir -p "$WORK/big/a" && cp "$WORK/straight/loss.png" "$WORK/big/a/"
bad "the model makes 32x32 images" counterfactual --checkpoint "$WORK/straight" --images "$WORK/big" --out "$WORK/x"
bad "not a train_cdvae checkpoint" counterfactual --checkpoint "$WORK/world/exogenous.safetensors" --out "$WORK/x"
bad "the judge needs attribute heads" eval_cdvae --checkpoint "$WORK/straight" --judge "$WORK/clf" --world "$WORK/world"
bad "no attribute labels" train_cdvae --data fashion-mnist --image-size 32 --channels 1 --steps 1 --out "$WORK/x"
echo "train_cdvae resumes exactly; counterfactual writes its images; bad input is named"
