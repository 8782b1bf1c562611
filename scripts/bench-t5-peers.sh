#!/usr/bin/env bash
# Training-step and inference throughput of hypergrid against the PyTorch peer
# (../shared/bench/torch_t5.py), same model and batch shapes, measured alternately in
# one sitting so the ratios survive a noisy shared machine. Each figure is the best of
# ROUNDS runs. Prints a Markdown table (CPU named) with tokens/s, examples/s for the
# inference modes, peak RSS and the ratios, and our 2-thread over 1-thread scaling.
# Besides the ratio of the best runs, it gives the median of the rounds' own ratios
# (ours over the peer run right after it): a second view that a run disturbed on one
# side moves less.
#
#   scripts/bench-t5-peers.sh [ROUNDS] [MODES] [THREADS]
#
# MODES: any of train, train-replicas, score, generate (default "train"); THREADS
# default "1 2". train-replicas is the training step with train.replicas set to the
# thread count (data parallelism inside the process: T model replicas, one kernel
# thread each), against the same peer step.
# Needs Debian's /usr/bin/python3 with python3-torch. OpenBLAS under torch: on some
# CPUs Debian's build falls back to a slow kernel; set OPENBLAS_CORETYPE (e.g. SkylakeX
# on Sapphire Rapids) to compare against its best one. The script passes it through.
#
# Threads: the peer's --threads sets torch's own pool only; Debian's torch calls the
# pthreads OpenBLAS, which starts a thread per core unless OPENBLAS_NUM_THREADS says
# otherwise, so a "1-thread" peer left alone computes on every core. The script runs the
# peer with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to the thread count, and
# measures each run's CPU time (user + system, /usr/bin/time) over its wall time: the
# "cores used" columns, which show that both sides ran on the cores they were given.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/require-openblas.sh
require_openblas
rounds=${1:-2}
modes=${2:-train}
threads=${3:-1 2}
peer=../shared/bench/torch_t5.py
bin=$(mktemp -d)/hypergrid
go build -o "$bin" ./cmd/hypergrid
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | head -1; }
# timed CMD...: runs CMD, printing its output and a last line "process_cores_used=X": CPU time
# (user + system) over wall time, from /usr/bin/time.
timed() {
  local out
  out=$(/usr/bin/time -f 'time_user=%U time_sys=%S time_wall=%e' "$@" 2>&1)
  printf '%s\n' "$out"
  awk -v u="$(field time_user <<<"$out")" -v s="$(field time_sys <<<"$out")" -v w="$(field time_wall <<<"$out")" \
    'BEGIN{printf "process_cores_used=%.2f\n", (u+s)/w}'
}
best() { sort -g | tail -1; }
lowest() { sort -g | head -1; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -A tok ex rss cores pair
for mode in $modes; do
  for ffn in dense hypergrid; do
    recipe=t5-mini
    [[ $ffn == hypergrid ]] && recipe=t5-mini-hypergrid
    for t in $threads; do
      for who in ours peer; do tok[$mode/$ffn/$t/$who]=""; ex[$mode/$ffn/$t/$who]=""; rss[$mode/$ffn/$t/$who]=""; cores[$mode/$ffn/$t/$who]=""; done
      pair[$mode/$ffn/$t]=""
      for ((r = 0; r < rounds; r++)); do
        bmode=$mode extra=()
        if [[ $mode == train-replicas ]]; then bmode=train extra=(--set "train.replicas=$t"); fi
        o=$(timed "$bin" bench "$bmode" "$recipe" --threads "$t" "${extra[@]}")
        p=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t timed /usr/bin/python3 "$peer" --mode "$bmode" --ffn "$ffn" --threads "$t")
        tok[$mode/$ffn/$t/ours]+="$(field tokens_per_s <<<"$o") "
        tok[$mode/$ffn/$t/peer]+="$(field tokens_per_s <<<"$p") "
        ex[$mode/$ffn/$t/ours]+="$(field examples_per_s <<<"$o") "
        ex[$mode/$ffn/$t/peer]+="$(field examples_per_s <<<"$p") "
        rss[$mode/$ffn/$t/ours]+="$(field peak_rss_mb <<<"$o") "
        rss[$mode/$ffn/$t/peer]+="$(field peak_rss_mb <<<"$p") "
        cores[$mode/$ffn/$t/ours]+="$(field process_cores_used <<<"$o") "
        cores[$mode/$ffn/$t/peer]+="$(field process_cores_used <<<"$p") "
        pair[$mode/$ffn/$t]+="$(awk -v o="$(field tokens_per_s <<<"$o")" -v p="$(field tokens_per_s <<<"$p")" 'BEGIN{printf "%.4f", o/p}') "
      done
    done
  done
done
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "CPU: $cpu, $(nproc) logical CPUs; best of $rounds alternating runs (and the median of the $rounds rounds' ratios)"
echo
echo "| mode | model | threads | ours tokens/s | peer tokens/s | ours/peer | median of pairs | ours examples/s | peer examples/s | ours RSS MB | peer RSS MB | ours cores used | peer cores used |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
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
      oc=$(tr ' ' '\n' <<<"${cores[$k/ours]}" | grep . | best)
      pc=$(tr ' ' '\n' <<<"${cores[$k/peer]}" | grep . | best)
      pm=$(tr ' ' '\n' <<<"${pair[$k]}" | grep . | median)
      echo "| $mode | $ffn | $t | $ot | $pt | $(awk "BEGIN{printf \"%.2f\", $ot/$pt}") | $(awk "BEGIN{printf \"%.2f\", $pm}") | ${oe:--} | ${pe:--} | $orss | $prss | $oc | $pc |"
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
