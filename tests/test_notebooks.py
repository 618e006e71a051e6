"""Both notebooks run headless, top to bottom, on the shared smoke run and the team's corpus."""
import json
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """``python3`` from this interpreter's environment; registered in a temporary folder if Jupyter can't find it."""
    import os

    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().find_kernel_specs().get("python3")
    if spec is None:
        from ipykernel.kernelspec import install

        prefix = tmp_path_factory.mktemp("jupyter")
        install(kernel_name="python3", prefix=str(prefix))
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(prefix / "share" / "jupyter"),
                                                                   os.environ.get("JUPYTER_PATH")]))
    argv = KernelSpecManager().get_kernel_spec("python3").argv
    # ``python`` in a kernelspec means the current interpreter (jupyter_client substitutes sys.executable).
    assert argv[0] in ("python", "python3", sys.executable), argv
    return "python3"


def run_notebook(name: str, kernel_name: str):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    NotebookClient(nb, kernel_name=kernel_name, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs_text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            parts += [str(v) for k, v in o.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


def test_corpus_statistics_notebook(kernel_name, monkeypatch):
    monkeypatch.delenv("NER_DATA_DIR", raising=False)
    nb = run_notebook("corpus_statistics.ipynb", kernel_name)
    text = outputs_text(nb)
    assert "| train |" in text and "| province | mentions |" in text and "| label | mentions | mean words |" in text
    assert sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})) >= 3
    docs = sum(1 for p in (ROOT / "data" / "annotations").glob("*.jsonl") for _ in p.open(encoding="utf-8"))
    assert f"| all | {docs:,} |" in text


def test_error_analysis_notebook(kernel_name, trained_run, monkeypatch):
    run_dir, _ = trained_run
    monkeypatch.setenv("NER_RUN_DIR", str(run_dir))
    monkeypatch.setenv("NER_SPLIT", "test")
    nb = run_notebook("error_analysis.ipynb", kernel_name)
    text = outputs_text(nb)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    errors = (run_dir / "test_errors.jsonl").read_text(encoding="utf-8").splitlines()
    assert f"run {run_dir}, split 'test'" in text and f"{len(errors)} errors:" in text
    assert "| overall |" in text and "| gold \\ predicted |" in text
    assert f"{metrics['test']['strict']['micro']['f1']:.3f}" in text
    first = json.loads(errors[0])
    assert first["id"] in text
