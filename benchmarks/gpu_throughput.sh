#!/usr/bin/env bash
# The throughput job for one lent GPU (about 4 minutes), run right after benchmarks/gpu_pretrain.sh:
#   1. fine-tuning throughput: our loop against run_ner.py's defaults (benchmarks/training_speed.py),
#   2. inference throughput: NerPredictor against transformers' pipeline (benchmarks/inference.py),
#   3. pretraining throughput of the lean loop, masked LM and RTD, 6 x 512 (benchmarks/pretrain_speed.py).
# Each step is bounded by `timeout` and writes its JSON into $OUT as soon as it ends.
# Needs: .gpu/quickstart/model (a `make train` model), .gpu/wheels, .gpu/shared (PEYMA dev for the inference
# texts), encoders/token-store/ (step 3). Rehearse on CPU: GPU_JOB_TINY=1 OUT=/tmp/tp bash benchmarks/gpu_throughput.sh
set -uo pipefail
JOB_NAME=gpu_throughput LOG_NAME=throughput.log
source "$(dirname "$0")/gpu_env.sh"

MODEL=${QUICKSTART_MODEL:-$ROOT/.gpu/quickstart/model}
if [ -n "${GPU_JOB_TINY:-}" ]; then
  DEV=cpu; TS=(--tiny); INF=(--tiny); PS=(--minutes 0.1 --model 4x256)
else
  # SPEED_EPOCHS is split into words: e.g. SPEED_EPOCHS="small=3 parsbert-shaped=2"
  DEV=cuda; TS=(--epochs ${SPEED_EPOCHS:-3}); INF=(--settings torch torch-bs128)
  PS=(--minutes "${PRETRAIN_SPEED_MINUTES:-0.75}" --model 6x512)
fi

log "training throughput"
timeout "${TRAIN_SPEED_S:-150}" $PY benchmarks/training_speed.py --device $DEV --models small parsbert-shaped \
  "${TS[@]}" --out "$OUT/training_speed_gpu.json" >>"$LOG" 2>&1 || log "training_speed ended with $?"
log "inference throughput"
timeout "${INFERENCE_S:-120}" $PY benchmarks/inference.py --model "$MODEL" --parsbert-shaped --device $DEV \
  "${INF[@]}" --out "$OUT/inference_gpu.json" >>"$LOG" 2>&1 || log "inference ended with $?"
log "lean pretraining throughput"
timeout "${PRETRAIN_SPEED_S:-170}" $PY benchmarks/pretrain_speed.py --device $DEV --loops lean --objectives mlm rtd \
  "${PS[@]}" --out "$OUT/pretrain_speed_gpu.json" >>"$LOG" 2>&1 || log "pretrain_speed ended with $?"
grep -E "^\|" "$LOG" | tail -n 30
log "done"
