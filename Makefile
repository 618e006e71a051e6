# One entry point per job. Each target creates the virtual environment first if it is missing.
#   make train   - offline quick start: the shipped news encoder fine-tuned on data/annotations, report + example prediction
#   make test    - the test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch==2.13.0 is the CPU build on this project's machines. An unpinned torch would pull a multi-GB CUDA
# build. GPU users: install your own torch into $(VENV) first (it is kept), or set TORCH_SPEC/TORCH_PIP_ARGS,
# e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" on a machine that reaches that index.
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
export HF_HUB_DISABLE_TELEMETRY = 1

.PHONY: install train test test-fast corpus validate stats encoder encoder-gpu clean-runs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[dev,eval,crf,notebooks,onnx,scale,sweeps,tracking]"
	@touch $(STAMP)

install: $(STAMP)

train: $(STAMP)
	$(BIN)/python scripts/train.py experiment=quickstart

test: $(STAMP)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest

test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not slow"

corpus: $(STAMP)
	$(BIN)/python scripts/build_corpus.py

validate: $(STAMP)
	$(BIN)/python scripts/build_corpus.py --check
	$(BIN)/python scripts/validate_annotations.py

stats: $(STAMP)
	$(BIN)/python scripts/validate_annotations.py --stats

# Pretrain the small news encoder into encoders/news-small (bounded per call by pretrain.training.max_minutes;
# run it again to resume from the last checkpoint).
encoder: $(STAMP)
	$(BIN)/python scripts/pretrain.py

# The 6 x 512 pre-LN encoder for one GPU (minutes) into encoders/news-gpu-prenorm.
encoder-gpu: $(STAMP)
	$(BIN)/python scripts/pretrain.py pretrain=news_gpu_prenorm

clean-runs:
	rm -rf runs
