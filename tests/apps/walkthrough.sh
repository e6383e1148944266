#!/usr/bin/env bash
# docs/how-a-gan-trains.md's tables and graphs are trace_step's output for this build.
source "$(dirname "$0")/common.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
"$BIN/trace_step" --check "$SRC/docs/how-a-gan-trains.md"
# A number off by 1% in the doc must be caught.
sed 's/| D.head.weight | 14.33 |/| D.head.weight | 14.47 |/' "$SRC/docs/how-a-gan-trains.md" > "$WORK/edited.md"
! cmp -s "$SRC/docs/how-a-gan-trains.md" "$WORK/edited.md" || fail "the edit did not apply; update this test"
if "$BIN/trace_step" --check "$WORK/edited.md" > "$WORK/log" 2>&1; then fail "a changed number passed --check"; fi
expect_in "$WORK/log" "block d_grads differs"
