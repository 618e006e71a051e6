#!/usr/bin/env bash
# The encoder job for one lent GPU (about 9 minutes on one H200), as one command:
#   1. pretrain the news encoder with the lean loop (configs/pretrain/news_gpu_lean.yaml; token store carried in
#      encoders/token-store/, built here on CPU by the same config),
#   2. pack it at once for the trip back (benchmarks' 8-file / 16 MiB limits: 15 MiB parts + manifest),
#   3. fine-tune it on PEYMA dev / ARMAN fold-1 test / ours test, 3 seeds, plus the learning-curve snapshots,
#      all side by side (benchmarks/pretraining.py --jobs), and merge every result into $OUT/results.json as it lands.
# Rehearse on CPU with tiny settings first:   GPU_JOB_TINY=1 OUT=/tmp/gpu-out bash benchmarks/gpu_pretrain.sh
# Bring it back here:  python scripts/bundle_encoder.py unpack <files>/encoder.manifest.json encoders/news-gpu-lean
# Knobs (environment): PRETRAIN_MINUTES (3.5), FINETUNE_DEADLINE (minutes after the start of fine-tuning at which no
# new run starts), JOBS (13), EPOCHS (8), WHEELS (folder of wheels to install first, default .gpu/wheels),
# NER_SHARED_DIR (corpora; default .gpu/shared when present, else ../shared).
set -uo pipefail
JOB_NAME=gpu_job LOG_NAME=job.log
source "$(dirname "$0")/gpu_env.sh"

ENCODER=$ROOT/encoders/news-gpu-lean
if [ -n "${GPU_JOB_TINY:-}" ]; then  # CPU rehearsal: the same steps, seconds each
  PRE=(pretrain.training.device=cpu pretrain.training.max_minutes=null pretrain.training.scheduler=linear
       pretrain.training.max_steps=4 pretrain.training.batch_size=8 pretrain.training.eval_batches=1
       pretrain.training.eval_batch_size=8 "pretrain.snapshot_tokens=[2048]" pretrain.training.bf16=false
       pretrain.model.hidden_size=64 pretrain.model.num_layers=2 pretrain.model.num_heads=2
       pretrain.model.intermediate_size=128)
  FT=(--epochs 1 --seeds 1 --override +data.max_docs=60)
  BENCH=(--results "$ROOT/runs/gpu_job_tiny/pretraining.json" --no-doc)
  ENCODER=$ROOT/runs/gpu_job_tiny/encoder
  PRE+=("output_dir=$ENCODER")
else
  PRE=("pretrain.training.max_minutes=${PRETRAIN_MINUTES:-3.5}")
  FT=(--epochs "${EPOCHS:-8}" --seeds 1 2 3)
  BENCH=(--results "$ROOT/runs/benchmarks/pretraining.json")
fi

# results.json: every stage's numbers merged as they land (a killed job still returns what finished)
collect() {
  $PY - "$OUT" "$ENCODER" "${BENCH[1]}" <<'EOF'
import json, sys
from pathlib import Path
out, enc, bench = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
res = {}
for key, path in {"card": enc / "card.json", "pretraining": bench}.items():
    if path.exists():
        try:
            res[key] = json.loads(path.read_text())
        except ValueError:
            pass
tmp = out / ".results.tmp"
tmp.write_text(json.dumps(res, indent=1, ensure_ascii=False))
tmp.replace(out / "results.json")
EOF
}

log "pretraining: ${PRE[*]}"
if ! $PY scripts/pretrain.py pretrain=news_gpu_lean "${PRE[@]}" >>"$LOG" 2>&1; then
  log "pretraining FAILED"; tail -n 30 "$LOG"; exit 1
fi
grep -E "tokens/s|encoder:" "$LOG" | tail -n 3
log "packing $ENCODER"
$PY scripts/bundle_encoder.py pack "$ENCODER" "$OUT" --prefix encoder --max-mib 15 2>&1 | tee -a "$LOG"
collect

log "fine-tuning: ${FT[*]}"
( while sleep 20; do collect; done ) &
COLLECTOR=$!
$PY benchmarks/pretraining.py --pretrain-config news_gpu_lean --pretrain-override "${PRE[@]}" --systems pretrained \
  --curve --jobs "${JOBS:-13}" --deadline-minutes "${FINETUNE_DEADLINE:-3}" --lr-pretrained "${LR:-2e-4}" \
  "${BENCH[@]}" --override training.bf16="$([ -n "${GPU_JOB_TINY:-}" ] && echo false || echo true)" report.bootstrap_samples=200 \
  "${FT[@]}" >>"$LOG" 2>&1 || log "some fine-tuning runs failed (see job.log)"
kill $COLLECTOR 2>/dev/null
collect
grep -E "^(pretrained|curve|FAILED|skipped)" "$LOG" | tail -n 20
log "done"
