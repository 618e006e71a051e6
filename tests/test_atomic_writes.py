"""No half-written outputs: a writer killed or failing mid-way leaves the previous file (or none), never a torso.

Writers go through ``ner.data.io.common.atomic_write`` (temporary file + rename) or, for folders, write under a
temporary name and rename (``ner.pretraining.mlm.staged_folder``, ``LeanPretrainer.save_encoder``).
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ner.data.documents import Document, Span
from ner.data.io import read_jsonl, write_conll, write_jsonl
from ner.data.io.common import atomic_write

ROOT = Path(__file__).resolve().parents[1]
DOC = Document("a", "بانک ملی در تهران", [Span(0, 8, "ORG"), Span(12, 17, "LOC")])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".partial" in p.name)


def test_sigkill_mid_write_leaves_the_previous_file_whole(tmp_path):
    """A subprocess writes a large JSONL, announces it is half-way, and is killed with SIGKILL."""
    target = tmp_path / "train.jsonl"
    write_jsonl([DOC], target)
    before = target.read_bytes()
    script = textwrap.dedent(f"""
        import sys, time
        from ner.data.documents import Document
        from ner.data.io import write_jsonl

        def docs():
            for i in range(100_000):
                if i == 2_000:
                    sys.stdout.write("half\\n"); sys.stdout.flush()
                    time.sleep(60)
                yield Document(str(i), "متن " * 20)

        write_jsonl(docs(), {str(target)!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline() == b"half\n"
        partial = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert partial and partial[0].stat().st_size > 0  # the kill does land mid-write
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        proc.kill()
    assert target.read_bytes() == before
    assert [d.id for d in read_jsonl(target)] == ["a"]
    assert all(p.name.startswith(".train.jsonl.") for p in tmp_path.iterdir() if p != target)  # hidden, not the target


def test_exception_mid_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.conll"
    write_conll([DOC], target)
    before = target.read_text(encoding="utf-8")

    class Boom(Exception):
        pass

    def docs():
        yield DOC
        raise Boom

    with pytest.raises(Boom):
        write_conll(docs(), target)
    assert target.read_text(encoding="utf-8") == before
    assert leftovers(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "new.txt") as f:
            f.write("half")
            raise KeyboardInterrupt
    assert not (tmp_path / "new.txt").exists() and leftovers(tmp_path) == []


def test_report_writer_failing_mid_json_leaves_no_metrics_file(tmp_path):
    """``json.dump`` writes piece by piece: a value it cannot encode fails after part of the file is written."""
    from ner.evaluation.report import write_reports
    from ner.evaluation.scoring import score

    scores = score([["B-ORG", "I-ORG", "O"]], [["B-ORG", "I-ORG", "O"]], ["ORG"])
    results = {"test": {**scores, "zzz_not_json": object()}}
    with pytest.raises(TypeError):
        write_reports(tmp_path, results)
    assert not (tmp_path / "metrics.json").exists() and not (tmp_path / "report.txt").exists()
    assert leftovers(tmp_path) == []


def test_encoder_folder_is_staged_and_appears_whole(tmp_path):
    from ner.pretraining.mlm import publish_files, staged_folder

    target = tmp_path / "snapshots" / "step-4"
    with pytest.raises(RuntimeError):
        with staged_folder(target) as tmp:
            (tmp / "config.json").write_text("{}")
            raise RuntimeError("killed while saving")
    assert not target.exists() and not any(target.parent.iterdir())
    with staged_folder(target) as tmp:
        (tmp / "config.json").write_text("{}")
    assert (target / "config.json").exists() and [p.name for p in target.parent.iterdir()] == ["step-4"]

    out = tmp_path / "encoder"
    (out / ".encoder.partial").mkdir(parents=True)
    (out / "card.json").write_text('{"steps": 1}')
    for name, body in [("model.safetensors", "w"), ("config.json", "{}"), ("card.json", '{"steps": 2}')]:
        (out / ".encoder.partial" / name).write_text(body)
    publish_files(out / ".encoder.partial", out)
    assert json.loads((out / "card.json").read_text()) == {"steps": 2}
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "config.json", "model.safetensors"]


def test_bundle_parts_and_manifest_are_written_whole(tmp_path, monkeypatch):
    from ner.pretraining import bundle

    folder = tmp_path / "enc"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(os.urandom(300_000))
    calls = {"n": 0}
    real = bundle.atomic_write

    def failing_second(path, mode="w"):  # the second part fails: no part file and no manifest may appear
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(path, mode)

    monkeypatch.setattr(bundle, "atomic_write", failing_second)
    with pytest.raises(OSError):
        bundle.pack(folder, tmp_path / "out", max_mib=0.1)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["encoder.part-00"]
    monkeypatch.undo()
    written = bundle.pack(folder, tmp_path / "out", max_mib=0.1)
    assert bundle.unpack(written[-1], tmp_path / "back").joinpath("config.json").read_text() == "{}"
