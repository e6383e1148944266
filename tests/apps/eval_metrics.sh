#!/usr/bin/env bash
# train_classifier trains a tiny classifier; eval scores a real subset against itself
# (FD ~ 0, precision = recall = coverage = 1), then a tiny train_gan run, from its
# checkpoint and from the PNG folder `sample` writes (the same numbers: eval quantizes
# generated images to 8 bits as PNG files do), and names each bad input.
source "$(dirname "$0")/common.sh"
field() {  # field <json file> <name>: a number field's value
  grep -oE "\"$2\": [-0-9.e+]+" "$1" | head -1 | awk '{print $2}'
}
check() {  # check <expected text> <eval args...>
  local text=$1
  shift
  if "$BIN/eval" "${CPU[@]}" "$@" > "$WORK/log" 2>&1; then fail "eval $* succeeded"; fi
  expect_in "$WORK/log" "$text"
}

"$BIN/train_classifier" --classes 0,1 --per-class 50 --epochs 1 --batch 20 --threads 2 --out "$WORK/clf" > "$WORK/log"
expect_in "$WORK/clf/summary.txt" "test accuracy: "
CLF=(--classifier "$WORK/clf" --classes 0,1 --per-class 50 --split test --threads 2)

# The real subset against itself: the same --split and --seed select the same 100 images.
"$BIN/eval" "${CPU[@]}" "${CLF[@]}" --generated fashion-mnist:test --n 100 --out "$WORK/self.json" > "$WORK/log"
self_fd=$(field "$WORK/self.json" fd)
# 100 samples in 128 dimensions: a rank-deficient covariance, where FD is exact to ~1e-8
# sqrt(|S|) per zero eigenvalue (models/metrics.h).
awk -v fd="$self_fd" 'BEGIN { exit !(fd < 1e-4 && fd > -1e-4) }' || fail "FD of a set against itself is $self_fd"
for name in precision recall coverage; do
  [ "$(field "$WORK/self.json" $name)" = "1.0" ] || fail "$name of a set against itself is not 1"
done
[ "$(field "$WORK/self.json" density)" = "1.2" ] || fail "density of a set against itself is not (k+1)/k = 1.2"

# A GAN after 3 steps is far from the data; its checkpoint and its PNGs score the same.
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 3 --out "$WORK/gan" > /dev/null
"$BIN/eval" "${CPU[@]}" "${CLF[@]}" --generated "$WORK/gan" --n 100 --out "$WORK/gan.json" > "$WORK/log"
for name in fd kid_mean kid_std precision recall density coverage classes_covered classes_well_covered kl_uniform \
  outside_fraction real_accuracy n_real n_generated; do
  [ -n "$(field "$WORK/gan.json" $name)" ] || fail "gan.json lacks $name"
done
expect_in "$WORK/gan.json" '"class_histogram": {'
expect_in "$WORK/gan.json" '"T-shirt/top": '
gan_fd=$(field "$WORK/gan.json" fd)
awk -v fd="$gan_fd" 'BEGIN { exit !(fd > 1) }' || fail "FD of a 3-step GAN is only $gan_fd"
"$BIN/sample" "${CPU[@]}" --checkpoint "$WORK/gan" --n 100 --out "$WORK/png" > /dev/null
"$BIN/eval" "${CPU[@]}" "${CLF[@]}" --generated "$WORK/png" --out "$WORK/png.json" > "$WORK/log"
[ "$(field "$WORK/png.json" fd)" = "$gan_fd" ] || fail "the sample folder scores $(field "$WORK/png.json" fd), not $gan_fd"

check "--classifier $WORK/nothing: no such file or directory" --classifier "$WORK/nothing" --generated "$WORK/gan"
check "not a train_classifier checkpoint (metadata lacks 'classifier_spec')" --classifier "$WORK/gan" \
  --generated "$WORK/gan"
check "lacks 'gan_spec' (not a train_gan checkpoint?)" "${CLF[@]}" --generated "$WORK/clf"
check "--generated: a checkpoint, run directory, PNG folder or fashion-mnist:SPLIT is required" "${CLF[@]}"
check "--split: expected train or test, got 'dev'" "${CLF[@]}" --split dev --generated "$WORK/gan"
check "--n 7: real images as --generated are drawn evenly from the 2 classes" "${CLF[@]}" \
  --generated fashion-mnist:train --n 7
mkdir -p "$WORK/empty" "$WORK/wrong"
check "--generated $WORK/empty: no .png images in the folder" "${CLF[@]}" --generated "$WORK/empty"
cp "$WORK/png/grid.png" "$WORK/wrong/000000.png"
check "--generated $WORK/wrong/000000.png: the image is 1x" "${CLF[@]}" --generated "$WORK/wrong"
expect_in "$WORK/log" ", the classifier expects 1x28x28"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 1 --image-size 32 --width 8 --out "$WORK/gan32" > /dev/null
check "the generator makes 1x32x32 images, the classifier expects 1x28x28" "${CLF[@]}" --generated "$WORK/gan32"
echo "eval: self FD $self_fd, 3-step GAN FD $gan_fd"
