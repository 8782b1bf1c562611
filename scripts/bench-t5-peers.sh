#!/usr/bin/env bash
# Training-step and inference throughput of hypergrid against the PyTorch peer
# (../shared/bench/torch_t5.py), same model and batch shapes, measured alternately in
# one sitting so the ratios survive a noisy shared machine. Each figure is the best of
# ROUNDS runs. Prints a Markdown table (CPU named) with tokens/s, examples/s for the
# inference modes, peak RSS and the ratios, and our 2-thread over 1-thread scaling.
#
#   scripts/bench-t5-peers.sh [ROUNDS] [MODES] [THREADS]
#
# MODES: any of train, score, generate (default "train"); THREADS default "1 2".
# Needs Debian's /usr/bin/python3 with python3-torch. OpenBLAS under torch: on some
# CPUs Debian's build falls back to a slow kernel; set OPENBLAS_CORETYPE (e.g. SkylakeX
# on Sapphire Rapids) to compare against its best one. The script passes it through.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
modes=${2:-train}
threads=${3:-1 2}
peer=../shared/bench/torch_t5.py
bin=$(mktemp -d)/hypergrid
go build -o "$bin" ./cmd/hypergrid
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
best() { sort -g | tail -1; }
lowest() { sort -g | head -1; }
declare -A tok ex rss
for mode in $modes; do
  for ffn in dense hypergrid; do
    recipe=t5-mini
    [[ $ffn == hypergrid ]] && recipe=t5-mini-hypergrid
    for t in $threads; do
      for who in ours peer; do tok[$mode/$ffn/$t/$who]=""; ex[$mode/$ffn/$t/$who]=""; rss[$mode/$ffn/$t/$who]=""; done
      for ((r = 0; r < rounds; r++)); do
        o=$("$bin" bench "$mode" "$recipe" --threads "$t")
        p=$(/usr/bin/python3 "$peer" --mode "$mode" --ffn "$ffn" --threads "$t")
        tok[$mode/$ffn/$t/ours]+="$(field tokens_per_s <<<"$o") "
        tok[$mode/$ffn/$t/peer]+="$(field tokens_per_s <<<"$p") "
        ex[$mode/$ffn/$t/ours]+="$(field examples_per_s <<<"$o") "
        ex[$mode/$ffn/$t/peer]+="$(field examples_per_s <<<"$p") "
        rss[$mode/$ffn/$t/ours]+="$(field peak_rss_mb <<<"$o") "
        rss[$mode/$ffn/$t/peer]+="$(field peak_rss_mb <<<"$p") "
      done
    done
  done
done
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "CPU: $cpu, $(nproc) logical CPUs; best of $rounds alternating runs"
echo
echo "| mode | model | threads | ours tokens/s | peer tokens/s | ours/peer | ours examples/s | peer examples/s | ours RSS MB | peer RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for mode in $modes; do
  for ffn in dense hypergrid; do
    for t in $threads; do
      k=$mode/$ffn/$t
      ot=$(tr ' ' '\n' <<<"${tok[$k/ours]}" | grep . | best)
      pt=$(tr ' ' '\n' <<<"${tok[$k/peer]}" | grep . | best)
      oe=$(tr ' ' '\n' <<<"${ex[$k/ours]}" | grep . | best || true)
      pe=$(tr ' ' '\n' <<<"${ex[$k/peer]}" | grep . | best || true)
      orss=$(tr ' ' '\n' <<<"${rss[$k/ours]}" | grep . | lowest)
      prss=$(tr ' ' '\n' <<<"${rss[$k/peer]}" | grep . | lowest)
      echo "| $mode | $ffn | $t | $ot | $pt | $(awk "BEGIN{printf \"%.2f\", $ot/$pt}") | ${oe:--} | ${pe:--} | $orss | $prss |"
    done
  done
done
echo
for mode in $modes; do
  for ffn in dense hypergrid; do
    set -- $threads
    if (($# > 1)); then
      a=$(tr ' ' '\n' <<<"${tok[$mode/$ffn/$1/ours]}" | grep . | best)
      b=$(tr ' ' '\n' <<<"${tok[$mode/$ffn/${!#}/ours]}" | grep . | best)
      echo "ours $mode $ffn: ${!#} threads / $1 thread = $(awk "BEGIN{printf \"%.2f\", $b/$a}")"
    fi
  done
  d=$(tr ' ' '\n' <<<"${tok[$mode/dense/${threads%% *}/ours]}" | grep . | best)
  h=$(tr ' ' '\n' <<<"${tok[$mode/hypergrid/${threads%% *}/ours]}" | grep . | best)
  echo "ours $mode at ${threads%% *} thread(s): hypergrid / dense = $(awk "BEGIN{printf \"%.2f\", $h/$d}")"
done
