#!/usr/bin/env bash
# One ctest entry of a libFuzzer target (fuzz/CMakeLists.txt adds them):
#   ctest_fuzz.sh replay BINARY CORPUS_DIR ARTIFACT_PREFIX
#       runs every committed input of CORPUS_DIR once (every crash ever
#       found is kept there, so a regression fails here);
#   ctest_fuzz.sh seeded BINARY CORPUS_DIR ARTIFACT_PREFIX SEED RUNS [DICT]
#       fuzzes from CORPUS_DIR with a fixed seed for a fixed number of runs:
#       the same work on every machine. New inputs go to a throwaway
#       directory, never into the committed corpus.
# A failing input is saved as ARTIFACT_PREFIX<hash>; add it to CORPUS_DIR
# with the fix (README.md, "Quick start").
set -euo pipefail
mode="$1" bin="$2" corpus="$3" prefix="$4"
shopt -s nullglob
inputs=("$corpus"/*)
if [ ${#inputs[@]} -eq 0 ]; then
  echo "fuzz: no committed inputs in $corpus; every target keeps a corpus there" >&2
  exit 1
fi
case "$mode" in
  replay)
    exec "$bin" -artifact_prefix="$prefix" "${inputs[@]}"
    ;;
  seeded)
    seed="$5" runs="$6" dict="${7:-}"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    args=(-seed="$seed" -runs="$runs" -print_final_stats=1 -artifact_prefix="$prefix")
    [ -n "$dict" ] && args+=(-dict="$dict")
    "$bin" "${args[@]}" "$work" "$corpus"
    ;;
  *) echo "ctest_fuzz.sh: unknown mode $mode" >&2; exit 2 ;;
esac
