"""Loading a preset never builds a random copy of the model first: the peak memory of
from_preset stays under the model's size plus one tensor in flight (plus fixed slack).

Measured in a fresh subprocess (peak RSS, VmHWM = ru_maxrss of the process itself, reset
through /proc/self/clear_refs just before loading) on a ~112 MB model whose largest tensor
is 64 MB.
"""
import json
import os
import subprocess
import sys

import pytest

import zoo
from tests.hub import preset_models as pm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLACK = 48 * 2**20  # allocator / framework bookkeeping, HDF5 buffers


def measure(preset, warm, mode):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    done = subprocess.run([sys.executable, "-m", "tests.hub.preset_models", "measure", preset,
                           warm, mode], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux procfs")
def test_peak_memory_of_from_preset(tmp_path):
    big = pm.TinyBackbone(vocabulary_size=16384, hidden_dim=1024, num_layers=12, name="big")
    big.save_to_preset(str(tmp_path / "big"))
    del big
    pm.make_backbone().save_to_preset(str(tmp_path / "warm"))
    result = measure(str(tmp_path / "big"), str(tmp_path / "warm"), "preset")
    mib = {k: round(v / 2**20, 1) for k, v in result.items() if isinstance(v, int)}
    print(f"{zoo.config.backend()}: {mib}")
    limit = result["model_bytes"] + result["largest_bytes"] + SLACK
    assert result["peak_extra"] < limit, mib
