#!/usr/bin/env bash
# explain_misclassified on a small causal world: a classifier trained where stripes agree with
# the label, a GAN and a CDVAE-GAN of a few steps, an attribute judge; the report's pages exist
# and every file they reference exists; scores.json has the scores, the pointing scores, the
# attributes each way changes and the code flips; bad inputs are one-line errors.
source "$(dirname "$0")/common.sh"
"$BIN/causal_world" generate --split biased --n 96 --out "$WORK/biased" > /dev/null 2>&1
"$BIN/causal_world" generate --split test --n 48 --out "$WORK/test" > /dev/null 2>&1
"$BIN/train_classifier" --data "$WORK/biased" --image-size 32 --channels 3 --epochs 2 --batch 16 --threads 2 \
  --out "$WORK/clf" > /dev/null 2>&1 || fail "train_classifier failed"
"$BIN/train_gan" "${CPU[@]}" --data "$WORK/test" --image-size 32 --channels 3 --width 8 --z-dim 8 --batch 8 --steps 2 \
  --threads 2 --sample-every 1000 --out "$WORK/gan" > /dev/null 2>&1 || fail "train_gan failed"
"$BIN/train_classifier" --data "$WORK/test" --attributes "$WORK/test/list_attr.txt" --image-size 32 --epochs 1 \
  --batch 16 --threads 2 --out "$WORK/judge" > /dev/null 2>&1 || fail "train_classifier (attributes)"
"$BIN/train_cdvae" "${CPU[@]}" --data "$WORK/test" --image-size 32 --width 4 --z-dim 4 --batch 8 --steps 2 --threads 2 \
  --sample-every 1000 --out "$WORK/cdvae" > /dev/null 2>&1 || fail "train_cdvae failed"
RUN=(--classifier "$WORK/clf" --threads 2 --invert-steps 3 --invert-restarts 2
     --search-steps 3 --restarts 2 --ig-steps 4)
"$BIN/explain_misclassified" "${CPU[@]}" "${RUN[@]}" --generator "$WORK/gan" --data "$WORK/test" --shortcut Striped_Background \
  --judge "$WORK/judge" --cdvae "$WORK/cdvae" --max 3 --out "$WORK/report" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "explain_misclassified failed"; }
expect_in "$WORK/log" "misclassified"
expect_in "$WORK/log" "pointing at the true cause (Striped_Background)"
expect_in "$WORK/log" "attributes changed"
expect_in "$WORK/log" "CDVAE-GAN code flips"
[ -s "$WORK/report/index.html" ] || fail "no index.html"
pages=$(ls "$WORK/report" | grep -c '^image_[0-9]*\.html$')
[ "$pages" -ge 1 ] && [ "$pages" -le 3 ] || fail "expected 1 to 3 image pages, got $pages"
for page in "$WORK/report"/*.html; do
  for ref in $(grep -oE '(src|href)="[^"]*"' "$page" | sed -E 's/^(src|href)="//; s/"$//'); do
    [ -s "$WORK/report/$ref" ] || fail "$(basename "$page") references $ref, which does not exist"
  done
done
for key in '"cdvae_fixes"' '"attributes_changed"' '"ways"' '"search"' '"validity"' '"fd"' '"reconstruction"' '"pointing_images"' '"images"'; do
  expect_in "$WORK/report/scores.json" "$key"
done

# A conditional generator adds its own answer: the inversion's z with the target class's code.
"$BIN/train_gan" "${CPU[@]}" --data "$WORK/test" --image-size 32 --channels 3 --conditional --width 8 --z-dim 8 --batch 8 \
  --steps 2 --threads 2 --sample-every 1000 --out "$WORK/cgan3" > /dev/null 2>&1 || fail "train_gan (conditional)"
"$BIN/explain_misclassified" "${CPU[@]}" "${RUN[@]}" --generator "$WORK/cgan3" --data "$WORK/test" --max 2 --out "$WORK/cond" \
  > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "explain_misclassified (conditional) failed"; }
expect_in "$WORK/log" "conditional"
expect_in "$WORK/cond/scores.json" '"conditional"'

check() {  # check <expected text> <args...>
  local text=$1
  shift
  if "$BIN/explain_misclassified" "${CPU[@]}" "$@" > "$WORK/log" 2>&1; then fail "explain_misclassified $* succeeded"; fi
  expect_in "$WORK/log" "$text"
  [ "$(wc -l < "$WORK/log")" -eq 1 ] || { cat "$WORK/log" >&2; fail "expected a one-line error"; }
}
# A Fashion-MNIST generator (28 px, gray) for the 32 px RGB classifier.
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 1 --width 8 --out "$WORK/fgan" > /dev/null 2>&1 || fail "train_gan (fmnist)"
check "makes 1x28x28 images, the classifier reads 3x32x32" --classifier "$WORK/clf" --generator "$WORK/fgan" \
  --data "$WORK/test" --out "$WORK/x"
# A conditional generator of the world's 2 classes (gray, 32 px) for a 10-class classifier of the same images.
"$BIN/train_gan" "${CPU[@]}" --data "$WORK/test" --image-size 32 --channels 1 --conditional --width 8 --z-dim 8 --batch 8 \
  --steps 1 --threads 2 --sample-every 1000 --out "$WORK/cgan" > /dev/null 2>&1 || fail "train_gan (conditional)"
"$BIN/train_classifier" --classes 0,1 --per-class 50 --image-size 32 --epochs 1 --batch 20 --threads 2 \
  --out "$WORK/fclf" > /dev/null 2>&1 || fail "train_classifier (fmnist)"
check "is conditional on 2 classes, the classifier has 10" --classifier "$WORK/fclf" --generator "$WORK/cgan" \
  --data fashion-mnist --out "$WORK/x"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --image-size 32 --steps 1 --width 8 --out "$WORK/fgan32" > /dev/null 2>&1 ||
  fail "train_gan (fmnist 32)"
check "there is no mistake to explain" --classifier "$WORK/fclf" --generator "$WORK/fgan32" --data fashion-mnist \
  --classes 1 --per-class 4 --out "$WORK/x"
check "an attribute classifier" --classifier "$WORK/judge" --generator "$WORK/gan" --data "$WORK/test" --out "$WORK/x"
check "--methods: expected names separated by commas, got 'saliency,,grad_cam'" --classifier "$WORK/clf" \
  --generator "$WORK/gan" --data "$WORK/test" --methods saliency,,grad_cam --out "$WORK/x"
check "--classifier, --generator and --out are required" --classifier "$WORK/clf"
echo "explain_misclassified: ok"
