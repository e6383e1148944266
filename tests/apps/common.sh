# Shared by the app tests: $BIN is the build's apps/ directory, $WORK a fresh temp dir.
set -euo pipefail
BIN=${1:?usage: $0 <build/apps dir>}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The CPU for every program that takes --device (its default, auto, would take a GPU where
# there is one): these tests pin CPU results, bit-exact resumes and CPU messages.
# scripts/gpu-check runs the programs on the GPU.
CPU=(--device cpu)
# A small, fast Fashion-MNIST configuration shared by the tests.
SMALL=(--classes 0,1 --per-class 32 --batch 16 --threads 2 --sample-every 1000 --log-every 1)

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_in() {  # expect_in <file> <text>
  grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "expected '$2' in $1"; }
}
