#!/usr/bin/env bash
# causal_world end to end: generation is deterministic, counterfactuals of the factual value
# are the factual images bit for bit, scores and accuracy run on a trained judge, bad input
# gives one-line errors.
source "$(dirname "$0")/common.sh"
CW="$BIN/causal_world"
"$CW" generate --n 120 --seed 3 --out "$WORK/a" > /dev/null 2>&1
"$CW" generate --n 120 --seed 3 --out "$WORK/b" > /dev/null 2>&1
diff -r "$WORK/a" "$WORK/b" > /dev/null || fail "the same seed gave different worlds"
for f in list_attr.txt exogenous.safetensors masks.safetensors scm.json world.json graph.png preview.png; do
  [ -s "$WORK/a/$f" ] || fail "generate did not write $f"
done
[ "$(head -1 "$WORK/a/list_attr.txt")" = 120 ] || fail "list_attr.txt does not count 120 images"
[ "$(find "$WORK/a" -name '*.png' -path '*_Round/*' | wc -l)" -eq 120 ] || fail "expected 120 images in the class folders"

# do(Red = -1): units already not red keep their image bit for bit (total effect: Light_Background
# follows Red through its own noise, and so stays as it was); red ones change.
"$CW" counterfactual --world "$WORK/a" --do Red=-1 --out "$WORK/cf" > "$WORK/log" 2>&1
expect_in "$WORK/log" "pairs.png"
red_col=$(sed -n 2p "$WORK/a/list_attr.txt" | tr ' ' '\n' | grep -n '^Red$' | cut -d: -f1)
same=0 changed=0
while read -r file values; do
  red=$(echo "$values" | awk -v c="$red_col" '{print $c}')
  factual=$(find "$WORK/a" -name "$file") counterfactual=$(find "$WORK/cf" -name "$file")
  if [ "$red" = "-1" ]; then
    cmp -s "$factual" "$counterfactual" || fail "$file is not red, yet do(Red=-1) changed its image"
    same=$((same + 1))
  else
    cmp -s "$factual" "$counterfactual" && fail "$file is red, yet do(Red=-1) left its image alone"
    changed=$((changed + 1))
  fi
done < <(tail -n +3 "$WORK/a/list_attr.txt")
[ "$same" -gt 10 ] && [ "$changed" -gt 10 ] || fail "too few units of either kind ($same, $changed)"
awk -v c="$red_col" 'NR > 2 && $(c + 1) != "-1" { exit 1 }' "$WORK/cf/list_attr.txt" ||
  fail "the counterfactual attribute file still has red units"

# A judge with one sigmoid head per attribute, then the true scores of its Red head.
"$BIN/train_classifier" --data "$WORK/a" --attributes "$WORK/a/list_attr.txt" --image-size 32 --epochs 1 \
  --batch 16 --threads 2 --out "$WORK/judge" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "train_classifier"; }
expect_in "$WORK/judge/summary.txt" "Red: "
expect_in "$WORK/judge/summary.txt" "AUC"
"$CW" scores --world "$WORK/a" --classifier "$WORK/judge" --outcome Red --n 64 --json "$WORK/s.json" \
  --chart "$WORK/s.png" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "scores"; }
expect_in "$WORK/log" "NEC [95% CI]"
[ -s "$WORK/s.png" ] || fail "no bar chart"
[ "$(grep -o '"attribute"' "$WORK/s.json" | wc -l)" -eq 6 ] || fail "the JSON should score all 6 attributes"

# A class classifier, and its errors apart by the shortcut.
"$BIN/train_classifier" --data "$WORK/a" --image-size 32 --epochs 1 --batch 16 --threads 2 --out "$WORK/clf" \
  > /dev/null 2>&1
"$CW" accuracy --world "$WORK/a" --classifier "$WORK/clf" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; fail "accuracy"; }
expect_in "$WORK/log" "Striped_Background disagrees with the label"

# Bad input: one line on stderr, non-zero exit.
bad() {  # bad <expected text> <args...>
  local want=$1
  shift
  if "$CW" "$@" > "$WORK/log" 2>&1; then fail "causal_world $* should fail"; fi
  expect_in "$WORK/log" "$want"
}
bad "--do: unknown attribute 'Hat'" counterfactual --world "$WORK/a" --do Hat=1 --out "$WORK/x"
bad "must differ from --world" counterfactual --world "$WORK/a" --do Red=1 --out "$WORK/a"
bad "world.json: cannot open" counterfactual --world "$WORK/nowhere" --do Red=1 --out "$WORK/x"
bad "'Hat' is not an output of the classifier" scores --world "$WORK/a" --classifier "$WORK/judge" --outcome Hat
echo '{"attributes": [{"name": "Red", "parents": ["Large"], "p": [0.5, 0.5]},
                      {"name": "Large", "parents": ["Red"], "p": [0.5, 0.5]}]}' > "$WORK/cycle.json"
bad "the graph has a cycle" generate --n 5 --spec "$WORK/cycle.json" --out "$WORK/x"
bad "--split: expected train, test or biased" generate --n 5 --split dev --out "$WORK/x"
bad "unknown command 'make'" make
echo "causal world: deterministic, exact counterfactuals ($same unchanged, $changed changed), scores and errors"
