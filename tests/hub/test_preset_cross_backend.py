"""Presets saved under one backend load under the active one with the same outputs.

For every other backend a subprocess (``ZOO_BACKEND=B``) runs ``preset_models.save_all``
(a backbone preset and a sharded task preset with tokenizer and preprocessor, plus their
outputs); the active backend saves in-process. This process loads each and compares.
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from tests.hub import preset_models as pm

BACKENDS = ("jax", "torch", "tensorflow", "numpy")
ACTIVE = zoo.config.backend()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 600


def available(backend):
    return importlib.util.find_spec(backend) is not None


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    results, running = {}, {}
    for backend in BACKENDS:
        directory = tmp_path_factory.mktemp(f"presets_by_{backend}")
        if backend == ACTIVE:
            pm.save_all(str(directory))
            results[backend] = (directory, 0, "")
        elif available(backend):
            env = dict(os.environ, ZOO_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                       PYTHONPATH=os.pathsep.join(
                           p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
            running[backend] = directory, subprocess.Popen(
                [sys.executable, "-m", "tests.hub.preset_models", "save", str(directory)], cwd=ROOT,
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for backend, (directory, process) in running.items():
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        results[backend] = (directory, process.returncode, output)
    return results


def presets_from(saved, backend):
    if not available(backend):
        pytest.skip(f"{backend} is not installed")
    directory, returncode, output = saved[backend]
    assert returncode == 0, f"saving under ZOO_BACKEND={backend} failed:\n{output[-4000:]}"
    with np.load(directory / "outputs.npz", allow_pickle=False) as data:
        return directory, {name: data[name] for name in data.files}


@pytest.mark.parametrize("source", BACKENDS)
def test_backbone_preset_from_every_backend(saved, source):
    directory, expected = presets_from(saved, source)
    model = zoo.Model.from_preset(str(directory / "backbone"))
    assert type(model) is pm.TinyBackbone
    got = pm.to_numpy(model(pm.TOKENS))
    for name in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(got[name], expected["backbone_" + name], rtol=0, atol=1e-6,
                                   err_msg=f"{name}: saved by {source}, loaded by {ACTIVE}")


@pytest.mark.parametrize("source", BACKENDS)
def test_task_preset_from_every_backend(saved, source):
    directory, expected = presets_from(saved, source)
    metadata = json.load(open(directory / "task" / "metadata.json"))
    assert any(name.startswith("model.weights-") for name in metadata["files"])
    task = zoo.Model.from_preset(str(directory / "task"))
    assert type(task) is pm.TinyClassifier
    got = pm.to_numpy(task(task.preprocessor(pm.TEXTS)))
    np.testing.assert_allclose(got, expected["task_logits"], rtol=0, atol=1e-6,
                               err_msg=f"saved by {source}, loaded by {ACTIVE}")
