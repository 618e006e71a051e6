"""``scripts/train.py``, except that it prints ``CHECKPOINT <step>`` and pauses after each checkpoint it saves.

tests/test_resume.py runs it in a subprocess and SIGKILLs it during the pause, so the kill lands in the middle
of training at a known point (a real pre-emption is just as abrupt; the pause only makes the test timing-proof).
"""
import runpy
import sys
import time
from pathlib import Path

import transformers

_save = transformers.Trainer._save_checkpoint


def _save_and_pause(self, *args, **kwargs):
    _save(self, *args, **kwargs)
    print(f"CHECKPOINT {self.state.global_step}", flush=True)
    time.sleep(600)


transformers.Trainer._save_checkpoint = _save_and_pause
script = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
sys.argv = [str(script), *sys.argv[1:]]
runpy.run_path(str(script), run_name="__main__")
