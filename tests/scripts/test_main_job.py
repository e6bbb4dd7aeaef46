"""The README's main job (scripts/main.py) on the shipped demo preset, shortened: one epoch
on 128 sentences, reloaded on one other backend. Runs in the jax and torch test runs."""
import os
import subprocess
import sys

import pytest

from tests.conftest import BACKEND

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(BACKEND not in ("jax", "torch"), reason="run once per training backend pair")
def test_main_job_fine_tunes_saves_and_reloads(tmp_path):
    other = "numpy" if BACKEND == "jax" else "tensorflow"
    env = dict(os.environ, ZOO_BACKEND=BACKEND, PYTHONPATH=ROOT)
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "main.py"), "--epochs", "1",
         "--train-size", "128", "--out", str(tmp_path / "fine_tuned"), "--reload-on", other],
        env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "held-out accuracy" in result.stdout
    assert f"[{other}] reloaded the preset" in result.stdout
    assert os.path.isfile(tmp_path / "fine_tuned" / "metadata.json")
