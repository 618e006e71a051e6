# Sourced by the GPU job scripts: paths, the log, offline mode, the carried wheels and corpora, and an import check
# that fails in seconds rather than after minutes of device time. Expects JOB_NAME (the default output folder
# runs/$JOB_NAME) and LOG_NAME (the log file in it); sets ROOT, OUT, LOG, log() and PY.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/runs/$JOB_NAME}
mkdir -p "$OUT"
LOG=$OUT/$LOG_NAME
log() { echo "[$(date +%T)] $*" | tee -a "$LOG"; }
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PROJECT_ROOT=$ROOT
PY=${PYTHON:-python3}
[ -x "$ROOT/.venv/bin/python" ] && [ -z "${PYTHON:-}" ] && PY=$ROOT/.venv/bin/python

check_imports() {
  $PY - <<'PYEOF' 2>&1 | tee -a "$LOG"
import torch, transformers, hydra, seqeval, nervaluate  # noqa: F401
print("torch", torch.__version__, "transformers", transformers.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PYEOF
  return "${PIPESTATUS[0]}"
}

# Packages the GPU image lacks travel as wheels (.gpu/wheels), installed into a private folder ahead of the
# image's own; if the carried Hugging Face stack does not import there, only the small extras are kept.
WHEELS=${WHEELS:-$ROOT/.gpu/wheels}
export PYTHONPATH=$ROOT/src${PYTHONPATH:+:$PYTHONPATH}
if [ -d "$WHEELS" ] && ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
    >>"$LOG" 2>&1 || log "wheel install failed"
  export PYTHONPATH=/tmp/site:$PYTHONPATH
  if ! check_imports; then
    log "carried transformers stack failed to import; falling back to the image's transformers"
    mkdir -p /tmp/site-min && cp -r /tmp/site/{hydra,omegaconf,antlr4,seqeval,nervaluate}* /tmp/site-min/ 2>/dev/null
    export PYTHONPATH=/tmp/site-min:$ROOT/src
    check_imports || { log "imports FAILED"; exit 1; }
  fi
else
  check_imports || { log "imports FAILED"; exit 1; }
fi
# corpora carried beside the code (a GPU machine has no ../shared); never committed
if [ -z "${NER_SHARED_DIR:-}" ] && [ -d "$ROOT/.gpu/shared" ]; then export NER_SHARED_DIR=$ROOT/.gpu/shared; fi
