#!/usr/bin/env bash
# Does span-corruption pretraining pay for its steps? The issue-11 study on the embedded
# suite: a from-scratch run of the default recipe against a run that spends part of the
# same total steps pretraining with span corruption (T5's objective) on the suite's
# training text, then fine-tunes. Both see the same labelled examples, tokenizer, recipe
# and seed; only the start differs. Prints each run's dev averages along the way and a
# Markdown table of the final ones.
#
#   scripts/pretrain-study.sh [OUT] [SEEDS] [TOTAL] [PRETRAIN] [LABELS]
#
# OUT (default /tmp/pretrain-study) holds the runs; SEEDS (default "1 2 3"); TOTAL
# steps per arm (default 2000), PRETRAIN of them pretraining (default 1000); LABELS
# labelled training examples per task (default 200; 0 = all 2000). The pretraining
# corpus is always the whole training split's text (10,000 sentences, labels unused):
# unlabelled text is plentiful, labels are not. Two runs go at a time, one thread each:
# about 10 minutes per seed on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/pretrain-study}
seeds=${2:-1 2 3}
total=${3:-2000}
pre=${4:-1000}
labels=${5:-200}
ft=$((total - pre))
if ((pre < 1 || ft < 1 || labels < 0)); then
  echo "pretrain-study.sh: want 0 < PRETRAIN < TOTAL and LABELS >= 0 (got TOTAL=$total PRETRAIN=$pre LABELS=$labels)" >&2
  exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
hg=$out/hypergrid
go build -o "$hg" ./cmd/hypergrid

# The corpus: every sentence of the suite's training files, one per line.
f=data/suite/files
{
  awk -F'\t' 'NR>1{print $1}' $f/sentiment/train.tsv
  awk -F'\t' 'NR>1{print $4; print $5}' $f/paraphrase/train.tsv
  awk -F'\t' 'NR>1{print $8; print $9}' $f/similarity/train.tsv
} >"$out/corpus.txt"

# The tokenizer the default recipe trains on the whole suite (one step is enough to
# write it); both arms use it, so a label limit does not shrink the vocabulary.
[[ -f $out/tok/tokenizer.model ]] ||
  "$hg" train default --steps 1 --out "$out/tok" --threads 1 --set train.eval_points=0 --set train.eval_every=0 >"$out/tok.log"

cat >"$out/pre.yaml" <<EOT
include: default
data:
  tasks:
    - {name: pretrain, kind: span_corruption, dir: $out/corpus.txt}
tokenizer: {model: $out/tok/tokenizer.model, extra_ids: 100}
model: {vocab: 612}
train: {max_target_len: 16, eval_every: 0, eval_points: 0}
EOT

common() { echo --threads 1 --set train.seed=$1 --set train.eval_points=0 --set train.eval_every=250 --set data.train_limit=$labels; }

scratch() {
  local s=$1
  "$hg" train default --out "$out/scratch_s$s" --steps "$total" $(common "$s") \
    --set tokenizer.model="$out/tok/tokenizer.model" >"$out/scratch_s$s.log" 2>&1
}

pretrained() {
  local s=$1
  [[ -d $out/pre_s$s ]] ||
    "$hg" train "$out/pre.yaml" --out "$out/pre_s$s" --steps "$pre" --threads 1 --set train.seed="$s" >"$out/pre_s$s.log" 2>&1
  # The architecture comes from the checkpoint; vocab is restated because the default
  # recipe's 512 would otherwise override the checkpoint's 612 (512 + 100 sentinels).
  printf 'include: default\nmodel: {vocab: 612, init: {from: %s}}\n' "$out/pre_s$s" >"$out/ft_s$s.yaml"
  "$hg" train "$out/ft_s$s.yaml" --out "$out/ft_s$s" --steps "$ft" $(common "$s") >"$out/ft_s$s.log" 2>&1
}

for s in $seeds; do
  scratch "$s" &
  pretrained "$s" &
  wait
done

averages() { grep -h '^average' "$1" | awk '{print $2}' | paste -sd' '; }
final() { grep -h '^average' "$1" | tail -1 | awk '{print $2}'; }
echo "dev averages every 250 steps (the pretrained arm's count from the start of fine-tuning):"
for s in $seeds; do
  echo "  seed $s scratch:    $(averages "$out/scratch_s$s.log")"
  echo "  seed $s pretrained: $(averages "$out/ft_s$s.log")"
done
echo
echo "| seed | from scratch, $total steps | pretrained $pre + fine-tuned $ft steps |"
echo "|---|---|---|"
for s in $seeds; do
  echo "| $s | $(final "$out/scratch_s$s.log") | $(final "$out/ft_s$s.log") |"
done
for s in $seeds; do final "$out/scratch_s$s.log"; done | awk '{t+=$1; n++} END {printf "| mean | %.2f ", t/n}'
for s in $seeds; do final "$out/ft_s$s.log"; done | awk '{t+=$1; n++} END {printf "| %.2f |\n", t/n}'
