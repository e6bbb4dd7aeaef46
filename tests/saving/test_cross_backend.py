"""Weights and model files written under one backend load under the active one.

For every other backend a subprocess (``ZOO_BACKEND=B``) saves the model of
``cross_backend_model.py``; the active backend saves it in-process. This process then
loads each file and must reproduce the saver's outputs within 1e-6. Each backend's test
run thus covers "saved by X, loaded by me" for all four X, at the cost of three
subprocesses (run concurrently).
"""
import importlib.util
import json
import os
import subprocess
import sys
import zipfile

import h5py
import ml_dtypes
import numpy as np
import pytest

import zoo
from tests.saving import cross_backend_model as cbm
from tests.saving.helpers import fill

BACKENDS = ("jax", "torch", "tensorflow", "numpy")
ACTIVE = zoo.config.backend()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 600


def framework_available(backend):
    return importlib.util.find_spec(backend) is not None


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """{backend: (directory, returncode, output)} with one saved set of files per backend."""
    results, running = {}, {}
    for backend in BACKENDS:
        directory = tmp_path_factory.mktemp(f"saved_by_{backend}")
        if backend == ACTIVE:
            cbm.save_all(str(directory))
            results[backend] = (directory, 0, "")
        elif framework_available(backend):
            env = dict(os.environ, ZOO_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                       PYTHONPATH=os.pathsep.join(
                           p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
            script = ("import sys; from tests.saving.cross_backend_model import save_all; "
                      "save_all(sys.argv[1])")
            running[backend] = directory, subprocess.Popen(
                [sys.executable, "-c", script, str(directory)], cwd=ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for backend, (directory, process) in running.items():
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            output += f"\n(killed after {TIMEOUT}s)"
        results[backend] = (directory, process.returncode, output)
    return results


def files_from(saved, backend):
    if not framework_available(backend):
        pytest.skip(f"{backend} is not installed")
    directory, returncode, output = saved[backend]
    assert returncode == 0, f"saving under ZOO_BACKEND={backend} failed:\n{output[-4000:]}"
    with np.load(directory / "outputs.npz", allow_pickle=False) as data:
        expected = {name: data[name] for name in data.files}
    return directory, expected


def assert_outputs(model, expected, source):
    got = cbm.run(model, cbm.model_inputs(model))
    assert sorted(got) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=1e-6,
                                   err_msg=f"output {name!r}: saved by {source}, "
                                           f"loaded by {ACTIVE}")


@pytest.mark.parametrize("source", BACKENDS)
def test_weights_file_from_every_backend(saved, source):
    directory, expected = files_from(saved, source)
    path = directory / "model.weights.h5"
    with h5py.File(path, "r") as f:
        assert f.attrs["backend"] == source
    model = fill(cbm.build_model(), seed=99)  # values differ from the saved ones
    before = cbm.run(model, cbm.model_inputs(model))
    assert any(not np.allclose(before[k], expected[k]) for k in expected)
    model.load_weights(path)
    with h5py.File(path, "r") as f:
        for var_path, variable in model.variable_paths().items():
            np.testing.assert_array_equal(variable.numpy(), f[var_path][()], err_msg=var_path)
    assert_outputs(model, expected, source)


@pytest.mark.parametrize("source", BACKENDS)
def test_model_file_from_every_backend(saved, source):
    directory, expected = files_from(saved, source)
    path = directory / "model.zoo"
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["backend"] == source
    model = zoo.saving.load_model(path)
    assert metadata["parameter_count"] == model.count_params()
    assert_outputs(model, expected, source)


@pytest.mark.parametrize("source", BACKENDS)
def test_bfloat16_weights_from_every_backend(saved, source):
    directory, _ = files_from(saved, source)
    path = directory / "bf16.weights.h5"
    model = fill(cbm.build_bf16_model(), seed=99)
    model.load_weights(path)
    with h5py.File(path, "r") as f:
        for var_path, variable in model.variable_paths().items():
            assert f[var_path].attrs["dtype"] == "bfloat16"
            value = np.asarray(variable.numpy())
            assert value.dtype == ml_dtypes.bfloat16
            np.testing.assert_array_equal(value.view(np.uint16), f[var_path][()],
                                          err_msg=var_path)
