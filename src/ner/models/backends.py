"""Where the logits come from: a torch model (optionally int8) or an ONNX Runtime session (fp32 or int8).

``NerPredictor`` does all pre- and post-processing itself and asks a backend only for the logits of a padded batch,
so every backend tags through one code path. ONNX files live in ``<model>/onnx/``: ``model.onnx`` is exported with
``torch.onnx.export`` (the torch.export-based exporter; optimum's exporter does not support transformers 5) and
``model.int8.onnx`` is its dynamic int8 quantisation by ONNX Runtime. Both are written to a temporary file and
renamed, so a killed export or two workers exporting at once never leave a broken file behind.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx")
ONNX_DIR = "onnx"
ONNX_FILE, ONNX_INT8_FILE = "model.onnx", "model.int8.onnx"
ONNX_OPSET = 18  # what the torch.export-based exporter emits natively; onnxruntime 1.31 runs opsets up to 23
INPUTS = ("input_ids", "attention_mask")
# RoBERTa-style models number positions from pad_token_id + 1: fewer usable positions than embeddings.
OFFSET_POSITIONS = {"roberta", "roberta-prelayernorm", "xlm-roberta", "camembert"}


def position_limit(config) -> int:
    """Tokens the model takes at once (its position embeddings, less RoBERTa's offset)."""
    n = int(getattr(config, "max_position_embeddings", 512))
    if getattr(config, "model_type", None) in OFFSET_POSITIONS:
        n -= int(config.pad_token_id) + 1
    return n


def onnx_path(model_dir: str | Path, quantize: bool = False) -> Path:
    return Path(model_dir, ONNX_DIR, ONNX_INT8_FILE if quantize else ONNX_FILE)


class TorchBackend:
    """A torch token-classification model on one device; ``quantize`` applies dynamic int8 to its Linear layers
    (CPU only: PyTorch's dynamically quantised kernels have no CUDA implementation)."""

    name = "torch"

    def __init__(self, model, device=None, quantize: bool = False):
        import torch

        if quantize and device is None:
            device = "cpu"  # int8 kernels are CPU kernels: a GPU machine quantises on its CPU
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model = model.eval()
        if quantize:
            if self.device.type != "cpu":
                raise ValueError(f"quantize=True with the torch backend runs on the CPU only, not on {self.device}; "
                                 "pass device='cpu' (or use the fp32 model on the GPU)")
            model = quantize_torch(model)
        self.model = model.to(self.device)
        self.config = model.config
        self.quantized = quantize

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """float32 ``(batch, sequence, labels)`` for int64 ``(batch, sequence)`` inputs."""
        import torch

        with torch.inference_mode():
            ids = torch.from_numpy(input_ids).to(self.device)
            mask = torch.from_numpy(attention_mask).to(self.device)
            return self.model(input_ids=ids, attention_mask=mask).logits.float().cpu().numpy()


def quantize_torch(model):
    """Dynamic int8 quantisation of every ``nn.Linear`` (weights int8, activations quantised on the fly)."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        # torch.ao.quantization and quantised tensors are marked for a move to torchao; they still work in 2.13
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        return quantize_dynamic(model.cpu(), {torch.nn.Linear}, dtype=torch.qint8)


class OnnxBackend:
    """An ONNX Runtime session on the CPU. ``num_threads`` sets its intra-op threads (``None``: ONNX Runtime's
    default, one per physical core). ``InferenceSession.run`` may be called from several threads at once."""

    name = "onnx"

    def __init__(self, path: str | Path, num_threads: int | None = None, config=None):
        ort = _import_onnxruntime()
        self.config = config  # the Hugging Face config (labels, positions) of the exported model
        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = int(num_threads)
            opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        missing = set(INPUTS) - set(self.input_names)
        if missing:
            raise ValueError(f"{path}: the ONNX model lacks the input(s) {sorted(missing)}; "
                             f"re-export it with scripts/export.py")

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        return self.session.run(None, {k: feed[k] for k in self.input_names})[0].astype(np.float32, copy=False)


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("backend='onnx' needs onnxruntime: pip install '.[onnx]'") from None
    return onnxruntime


def _logits_module(model):
    """The model with positional ``input_ids, attention_mask`` inputs and the ``logits`` tensor as its output."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    return LogitsOnly(model)


@contextlib.contextmanager
def _temp_beside(path: Path):
    """A temporary file name next to ``path`` (same file system, so the final rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".onnx")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a model folder is meant to be shared
    try:
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


def export_onnx(model, path: str | Path) -> Path:
    """Export a token-classification model to ONNX with dynamic batch and sequence axes (atomic write)."""
    import torch

    if importlib.util.find_spec("onnxscript") is None:  # the torch.export-based exporter needs it
        raise ImportError("ONNX export needs onnx and onnxscript: pip install '.[onnx]'")
    path = Path(path)
    model = model.float().cpu().eval()
    limit = position_limit(model.config)
    batch, seq = torch.export.Dim("batch", max=4096), torch.export.Dim("sequence", max=limit)
    # An example batch with padding, so that the traced graph keeps the attention mask.
    ids = torch.full((2, min(16, limit)), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, ids.shape[1] // 2:] = 0
    with _temp_beside(path) as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        for name in ("torch.onnx", "torch.export", "torch._export", "onnxscript"):
            logging.getLogger(name).setLevel(logging.ERROR)
        program = torch.onnx.export(_logits_module(model), (ids, mask), None, input_names=list(INPUTS),
                                    output_names=["logits"], opset_version=ONNX_OPSET, dynamo=True,
                                    dynamic_shapes={"input_ids": {0: batch, 1: seq},
                                                    "attention_mask": {0: batch, 1: seq}},
                                    external_data=False, verbose=False)
        program.save(str(tmp))
        os.replace(tmp, path)
    log.info("exported %s", path)
    return path


def quantize_onnx(src: str | Path, dst: str | Path) -> Path:
    """Dynamic int8 quantisation (weights int8, activations on the fly) of an ONNX model (atomic write)."""
    _import_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = Path(dst)
    with _temp_beside(dst) as tmp:
        quant_logger = logging.getLogger()  # quantize_dynamic warns about pre-processing on the root logger
        level = quant_logger.level
        quant_logger.setLevel(logging.ERROR)
        try:
            quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8)
        finally:
            quant_logger.setLevel(level)
        os.replace(tmp, dst)
    log.info("quantised %s -> %s", src, dst)
    return dst


def ensure_onnx(model_dir: str | Path, quantize: bool = False, load_model=None) -> Path:
    """The ONNX file of ``model_dir`` (int8 with ``quantize``), exported on first use. ``load_model`` returns the
    torch model when an export is needed (so an existing file never costs a torch load)."""
    fp32, target = onnx_path(model_dir), onnx_path(model_dir, quantize)
    if target.exists():
        return target
    if not fp32.exists():
        if load_model is None:
            raise FileNotFoundError(f"{fp32} is missing; run scripts/export.py model_path={model_dir}")
        log.warning("%s is missing: exporting it now (once)", fp32)
        export_onnx(load_model(), fp32)
    if quantize:
        quantize_onnx(fp32, target)
    return target


def export_model_dir(model_dir: str | Path, quantize: bool = False) -> list[Path]:
    """(Re-)export ``<model_dir>/onnx/model.onnx`` and, with ``quantize``, ``model.int8.onnx`` from the saved torch
    model (``scripts/export.py``). Existing files are replaced, atomically."""
    from transformers import AutoModelForTokenClassification

    from ner.models import hub

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no config.json; expected a saved model folder (a run's model/)")
    model = hub.from_pretrained(AutoModelForTokenClassification, str(model_dir))
    written = [export_onnx(model, onnx_path(model_dir))]
    if quantize:
        written.append(quantize_onnx(written[0], onnx_path(model_dir, quantize=True)))
    return written
