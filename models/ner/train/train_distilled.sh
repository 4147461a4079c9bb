#!/usr/bin/env bash
# Trains the shipped NER model (models/ner/1.4.0) from scratch: four teachers (two recipes x two seeds, two
# at a time, one torch thread each), the marginals of their ensemble (ensemble.py --soft-out), then the
# distilled student (train.py --distill). About 95 min on a quiet 2-core machine; see docs/ner-model.md.
#
#   bash models/ner/train/train_distilled.sh [--out DIR] [--seed N] [--smoke]     (pnpm train:ner)
#
# --smoke runs every step on a sliver of the data for one or two epochs (checks the pipeline in minutes).
#
# Reads ../shared (or $YIJIAN_SHARED_DIR) like train.py; everything but the student's folder stays in the
# ignored models/ner/train/.cache.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=
SEED=20261130
SMOKE=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --smoke) SMOKE=--smoke; shift ;;
    *) echo "unknown option $1 (use --out DIR, --seed N, --smoke)" >&2; exit 2 ;;
  esac
done
C=models/ner/train/.cache
T=$C/teachers${SMOKE:+-smoke}
OUT=${OUT:-${SMOKE:+$C/smoke-student}}
OUT=${OUT:-models/ner/1.4.0}
E_LEX=22
E_SGNS=28
if [ -n "$SMOKE" ]; then E_LEX=1; E_SGNS=2; fi
mkdir -p "$T"
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
node models/ner/train/export_lexicon.mjs "$C/lexicon.json"
LEX=(--lexicon "$C/lexicon.json" --threads 1 $SMOKE)
SGNS=(--pretrain sgns --limit-unlabeled-mb 100 --freeze-bigrams --average-last 4)

# Runs two trainings side by side and fails if either fails; logs go next to their folders.
pair() {
  local a=$1 b=$2
  shift 2
  $PY models/ner/train/train.py "$@" --seed 20261129 --out "$T/$a" >"$T/$a.log" 2>&1 &
  local pa=$!
  $PY models/ner/train/train.py "$@" --seed 20261130 --out "$T/$b" >"$T/$b.log" 2>&1 &
  local pb=$!
  wait "$pa" || { echo "teacher $a failed: $T/$a.log" >&2; exit 1; }
  wait "$pb" || { echo "teacher $b failed: $T/$b.log" >&2; exit 1; }
}

echo "teachers 1-2: characters + bigrams + lexicon features (the 1.1.0 recipe), two seeds"
pair lex-20261129 lex-20261130 --epochs "$E_LEX" "${LEX[@]}"
echo "teachers 3-4: + skip-gram pre-trained, frozen bigram vectors, weight averaging, two seeds"
pair sgns-20261129 sgns-20261130 --epochs "$E_SGNS" "${LEX[@]}" "${SGNS[@]}"
echo "teacher marginals"
MEMBERS=()
for t in lex-20261129 lex-20261130 sgns-20261129 sgns-20261130; do MEMBERS+=(--member "$T/$t=$C/$t.best.pt"); done
SOFT=$C/soft-teachers${SMOKE:+-smoke}.pt
$PY models/ner/train/ensemble.py --lexicon "$C/lexicon.json" "${MEMBERS[@]}" --soft-out "$SOFT"
echo "student: distilled from the teachers' marginals"
$PY models/ner/train/train.py --epochs "$E_SGNS" "${LEX[@]}" "${SGNS[@]}" --distill "$SOFT" --seed "$SEED" --out "$OUT"
