#!/usr/bin/env bash
# train_shift on a small causal world with a 2-step GAN and a 1-epoch judge: 4 steps straight and
# 2 + --resume + 2 give bit-identical checkpoints; explain_classifier writes its table, charts,
# JSON and example grid, compares with a causal_world scores file; bad input gives one-line errors.
source "$(dirname "$0")/common.sh"
"$BIN/causal_world" generate --n 48 --out "$WORK/world" > /dev/null 2>&1
GAN=(--data "$WORK/world" --image-size 32 --channels 3 --width 4 --batch 8 --threads 2 --steps 2 --log-every 1)
"$BIN/train_gan" "${CPU[@]}" "${GAN[@]}" --out "$WORK/gan" > /dev/null 2>&1 || fail "train_gan failed"
"$BIN/train_gan" "${CPU[@]}" "${GAN[@]}" --z-dim 7 --out "$WORK/gan7" > /dev/null 2>&1 || fail "train_gan (z 7) failed"
"$BIN/train_gan" "${CPU[@]}" "${GAN[@]}" --seed 2 --out "$WORK/gan2" > /dev/null 2>&1 || fail "train_gan (seed 2) failed"
"$BIN/train_classifier" --data "$WORK/world" --target attributes --image-size 32 --channels 3 --epochs 1 \
  --batch 16 --threads 2 --out "$WORK/judge" > /dev/null 2>&1 || fail "train_classifier failed"
"$BIN/train_classifier" --data "$WORK/world" --image-size 32 --channels 3 --epochs 1 --batch 16 --threads 2 \
  --out "$WORK/clf" > /dev/null 2>&1 || fail "train_classifier (classes) failed"

SHIFT=(--generator "$WORK/gan" --classifier "$WORK/judge" --targets Large,Red,Light_Background --hidden 16
       --threads 2 --log-every 1 --sample-every 2)
"$BIN/train_shift" "${CPU[@]}" "${SHIFT[@]}" --steps 4 --checkpoint-every 2 --out "$WORK/straight" > "$WORK/log" 2>&1 ||
  { cat "$WORK/log" >&2; fail "train_shift failed"; }
"$BIN/train_shift" "${CPU[@]}" "${SHIFT[@]}" --steps 2 --checkpoint-every 2 --out "$WORK/resumed" > /dev/null 2>&1
"$BIN/train_shift" "${CPU[@]}" --resume "$WORK/resumed" --steps 4 > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "resume"; }
expect_in "$WORK/log" "resumed"
cmp "$WORK/straight/checkpoints/step_000004.safetensors" "$WORK/resumed/checkpoints/step_000004.safetensors" ||
  fail "the resumed run differs from the straight one"
[ -s "$WORK/straight/samples/step_000004.png" ] && [ -s "$WORK/straight/loss.png" ] || fail "no sample grid or loss plot"

"$BIN/causal_world" scores --world "$WORK/world" --classifier "$WORK/judge" --outcome Light_Background --n 64 \
  --json "$WORK/truth.json" --chart "$WORK/truth.png" > /dev/null 2>&1 || fail "causal_world scores failed"
"$BIN/explain_classifier" "${CPU[@]}" --shift "$WORK/straight" --classifier "$WORK/judge" --outcome Light_Background --n 40 \
  --batch 16 --world "$WORK/world" --truth "$WORK/truth.json" --examples 3 --threads 2 --out "$WORK/explain" \
  > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "explain_classifier failed"; }
expect_in "$WORK/log" "within 0.05 of the truth"
expect_in "$WORK/log" "generator fidelity"
for f in scores.json contrastive.png compare_nec.png compare_suf.png compare_nesuf.png examples.png; do
  [ -s "$WORK/explain/$f" ] || fail "no $f"
done
[ "$(grep -c '"attribute"' "$WORK/explain/scores.json")" -eq 3 ] || fail "scores.json should hold 3 attributes"
grep -A2 '"lewis_adjustment"' "$WORK/explain/scores.json" | grep -q '"Large"' ||
  fail "LEWIS should adjust Red for its parent Large by default"
"$BIN/explain_classifier" "${CPU[@]}" --shift "$WORK/straight" --classifier "$WORK/judge" --outcome Red --effect direct --n 20 \
  --adjust "Red:;Large:Red" --threads 2 --out "$WORK/direct" > "$WORK/log" 2>&1 ||
  { cat "$WORK/log" >&2; fail "explain_classifier --effect direct failed"; }

bad() {  # bad <expected text> <program> <args...>
  local want=$1 program=$2
  shift 2
  if "$BIN/$program" "$@" > "$WORK/log" 2>&1; then fail "$program $* should fail"; fi
  [ "$(wc -l < "$WORK/log")" -eq 1 ] || { cat "$WORK/log" >&2; fail "$program: expected one line of error"; }
  expect_in "$WORK/log" "$want"
}
EXPLAIN=(--shift "$WORK/straight" --classifier "$WORK/judge" --n 4 --out "$WORK/x")
bad "--outcome: 'Hat' is not an output of the classifier" explain_classifier "${EXPLAIN[@]}" --outcome Hat
bad "latent size 7 does not match the shift predictor's 100" explain_classifier "${EXPLAIN[@]}" --outcome Red \
  --generator "$WORK/gan7"
bad "holds total-effect scores, this run estimates the direct effect" explain_classifier "${EXPLAIN[@]}" \
  --outcome Red --effect direct --truth "$WORK/truth.json"
bad "--adjust: 'Hat' is not one of the shift predictor's targets" explain_classifier "${EXPLAIN[@]}" --outcome Red \
  --adjust "Red:Hat"
bad "S was trained against the generator" train_shift --resume "$WORK/resumed" --generator "$WORK/gan2" --steps 6
grep -q "gan2" "$WORK/resumed/config.json" && fail "a refused resume must leave the run's config.json alone"
bad "--targets (classifier" train_shift --generator "$WORK/gan" --classifier "$WORK/judge" --targets Red,Hat \
  --out "$WORK/y"
bad "needs attribute heads" train_shift --generator "$WORK/gan" --classifier "$WORK/clf" --targets Red --out "$WORK/y"
bad "not a train_classifier checkpoint" train_shift --generator "$WORK/gan" --classifier "$WORK/gan" --targets Red \
  --out "$WORK/y"
echo "train_shift resumes exactly; explain_classifier writes its report; bad input is named"
