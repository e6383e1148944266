#!/usr/bin/env bash
# train_gan leaves a grid, a loss plot and a checkpoint; sample writes N PNG files, a
# grid and interpolation strips from it, for unconditional and conditional models.
source "$(dirname "$0")/common.sh"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 4 --out "$WORK/run" > "$WORK/log"
for f in loss.png summary.txt config.json samples/step_000004.png checkpoints/step_000004.safetensors; do
  [ -s "$WORK/run/$f" ] || fail "train_gan did not write $f"
done
"$BIN/sample" "${CPU[@]}" --checkpoint "$WORK/run" --n 10 --out "$WORK/gen" > "$WORK/log"
[ "$(ls "$WORK"/gen/0000*.png | wc -l)" -eq 10 ] || fail "expected 10 sample files"
[ -s "$WORK/gen/grid.png" ] && [ -s "$WORK/gen/interpolation.png" ] || fail "grid or interpolation missing"
# The files are the images the seed gives: the first 10 of 40 are the same 10 (drawn in one
# batch from the same noise), another seed gives other images, and no two images are equal.
"$BIN/sample" "${CPU[@]}" --checkpoint "$WORK/run" --n 10 --seed 2 --interpolations 0 --out "$WORK/seed2" > /dev/null
for i in 0 5 9; do
  ! cmp -s "$WORK/gen/00000$i.png" "$WORK/seed2/00000$i.png" || fail "seeds 1 and 2 drew the same image $i"
done
[ "$(md5sum "$WORK"/gen/0000*.png | cut -d' ' -f1 | sort -u | wc -l)" -eq 10 ] || fail "sample wrote identical images"
# The grid shows at most --grid images (8 columns x 2 rows of 28 px + 2 px gaps = 242 x 62);
# every image is still a file.
"$BIN/sample" "${CPU[@]}" --checkpoint "$WORK/run" --n 40 --grid 16 --interpolations 0 --out "$WORK/capped" > /dev/null
[ "$(ls "$WORK"/capped/0000*.png | wc -l)" -eq 40 ] || fail "expected 40 sample files"
for i in 0 5 9; do
  cmp -s "$WORK/gen/00000$i.png" "$WORK/capped/00000$i.png" || fail "image $i differs between --n 10 and --n 40"
done
size=$(od -An -tu1 -j16 -N8 "$WORK/capped/grid.png" | awk '{print $3 * 256 + $4, $7 * 256 + $8}')
[ "$size" = "242 62" ] || fail "grid.png is $size pixels, expected 242 62 (16 images)"
"$BIN/train_gan" "${CPU[@]}" "${SMALL[@]}" --steps 2 --conditional --model sngan --loss hinge --out "$WORK/cond" > /dev/null
"$BIN/sample" "${CPU[@]}" --checkpoint "$WORK/cond" --n 3 --class 1 --interpolations 0 --out "$WORK/gen1" > /dev/null
[ "$(ls "$WORK"/gen1/0000*.png | wc -l)" -eq 3 ] || fail "expected 3 conditional samples"
if "$BIN/sample" "${CPU[@]}" --checkpoint "$WORK/cond" --class 10 --out "$WORK/gen2" > "$WORK/log" 2>&1; then
  fail "--class 10 of a 10-class model must be refused"
fi
expect_in "$WORK/log" "--class 10: the model has classes 0-9"
echo "sampling works"
