#!/usr/bin/env bash
# Gemm throughput of hypergrid, OpenBLAS (through numpy, ../shared/bench/sgemm_peer.py) and
# gonum, measured alternately in one sitting so the ratios survive a noisy shared machine.
# Each figure is the best of ROUNDS runs. Prints a Markdown table.
#
#   scripts/bench-gemm-peers.sh [ROUNDS]
#
# OpenBLAS: Debian's build does not recognise every recent CPU and then falls back to a
# slow generic kernel; set OPENBLAS_CORETYPE to the right core (e.g. SapphireRapids,
# SkylakeX, Zen) to compare against its best kernel. The script passes it through.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/require-openblas.sh
require_openblas
rounds=${1:-3}
peer=../shared/bench/sgemm_peer.py
bin=$(mktemp -d)/hypergrid
go build -o "$bin" ./cmd/hypergrid
best() { sort -g | tail -1; }
gf() { sed -n 's/.*gflops=\([0-9.]*\).*/\1/p'; }
echo "| shape (m×n×k) | threads | hypergrid GFLOP/s | OpenBLAS GFLOP/s | gonum GFLOP/s | ours/OpenBLAS | ours/gonum |"
echo "|---|---|---|---|---|---|---|"
while read -r m n k flags; do
  for t in 1 2; do
    ours=() blas=() gon=()
    for ((r = 0; r < rounds; r++)); do
      ours+=("$("$bin" bench gemm --m "$m" --n "$n" --k "$k" $flags --threads "$t" | gf)")
      blas+=("$(env -u OPENBLAS_L2_SIZE /usr/bin/python3 "$peer" "$m" "$n" "$k" $flags --threads "$t" | gf)")
      if [[ $m == 1024 && $n == 1024 ]]; then
        gon+=("$("$bin" bench gemm --impl gonum --m "$m" --n "$n" --k "$k" $flags --threads "$t" | gf)")
      fi
    done
    o=$(printf '%s\n' "${ours[@]}" | best)
    b=$(printf '%s\n' "${blas[@]}" | best)
    g=-
    ((${#gon[@]})) && g=$(printf '%s\n' "${gon[@]}" | best)
    rg=-
    [[ $g != - ]] && rg=$(awk -v o="$o" -v g="$g" 'BEGIN{printf "%.1f", o/g}')
    echo "| ${m}×${n}×${k} ${flags} | $t | $o | $b | $g | $(awk -v o="$o" -v b="$b" 'BEGIN{printf "%.2f", o/b}') | $rg |"
  done
done <<'SHAPES'
1024 1024 1024
4096 1024 256
4096 256 1024
4096 256 1024 --trans-b
1024 256 4096 --trans-a
SHAPES
