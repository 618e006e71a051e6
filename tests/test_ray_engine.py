"""scripts/predict.py engine=ray on a local Ray instance: the same output as the single-process engine, byte for
byte, and either engine resumes the other's output."""
import json

import pytest

from conftest import compose

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install '.[scale]'): the Ray engine is untested")
pytestmark = pytest.mark.slow  # starting Ray and its actors takes ~20 s on two busy cores

TEXTS = ["بانک ملی در تهران ۵۳۰ میلیارد تومان داد.", "خوشه صنعتی چای در استان گیلان", "",
         "  شرکت\u200cهای   صنعتی 😀 گیلان.\nاحمدعلی شهیدی در رشت", "ایران"]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def job(model_dir, inp, out, *overrides):
    from omegaconf import OmegaConf

    cfg = compose("predict", [f"model_path={model_dir}", f"input={inp}", f"output={out}", "progress=false",
                              "ray.workers=2", "ray.batch_size=4", "ray.split_lines=7", *overrides])
    return OmegaConf.to_container(cfg, resolve=True)


def test_ray_engine_writes_what_the_local_engine_writes(local_ray, random_model_dir, tmp_path):
    """Byte-equal outputs mean equal entities, ids and order; a local run's torn output is resumed by Ray (and
    the local engine resumes any output of the same bytes, see test_streaming)."""
    from ner.inference.job import run_job

    inp = tmp_path / "in.jsonl"
    rows = [{"id": f"n{k}", "text": TEXTS[k % len(TEXTS)] + f" خبر {k}"} for k in range(30)] + [{"text": "رشت"}]
    inp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    local, distributed = tmp_path / "local.out", tmp_path / "ray.out"
    assert run_job(job(random_model_dir, inp, local)).tagged == 31
    stats = run_job(job(random_model_dir, inp, distributed, "engine=ray"))
    assert (stats.tagged, stats.skipped) == (31, 0)
    full = local.read_bytes()
    assert distributed.read_bytes() == full and sum(json.loads(x)["entities"] != [] for x in full.splitlines()) > 5
    local.write_bytes(full[:full.index(b"n17") + 2])  # a local run killed in the middle of record n17
    stats = run_job(job(random_model_dir, inp, local, "engine=ray"))
    assert (stats.tagged, stats.skipped) == (14, 17) and local.read_bytes() == full


def test_ray_engine_refuses_stdin_and_names_bad_input(local_ray, random_model_dir, tmp_path):
    from ner.data.documents import AnnotationError
    from ner.inference.job import run_job

    with pytest.raises(ValueError, match="engine=ray reads its input from a file"):
        run_job(job(random_model_dir, "-", tmp_path / "o", "engine=ray"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "تهران"}\n{"body": 1}\n', encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"bad\.jsonl:2: expected an object with a string 'text'"):
        run_job(job(random_model_dir, bad, tmp_path / "o", "engine=ray"))
    assert not (tmp_path / "o").exists()  # refused before the output was touched
