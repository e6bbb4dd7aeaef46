"""transformers references for the OPT tests, made once per pytest session in a temp dir.

make_references.py runs in a subprocess: transformers imports torch, which must not share
a process with the backend under test."""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "make_references.py")
CONFIGS = ["prenorm", "postnorm_proj", "nobias"]


@pytest.fixture(scope="session")
def references(tmp_path_factory):
    if importlib.util.find_spec("transformers") is None:  # not imported here (see above)
        pytest.skip("transformers is not installed")
    out = tmp_path_factory.mktemp("opt_references")
    result = subprocess.run([sys.executable, SCRIPT, str(out)], capture_output=True,
                            text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"make_references.py failed:\n{result.stderr[-4000:]}")
    return str(out)


def load_reference(references, name):
    """-> (directory, transformers config dict, reference arrays)."""
    directory = os.path.join(references, name)
    with open(os.path.join(directory, "causal_lm", "config.json")) as f:
        hf_config = json.load(f)
    return directory, hf_config, dict(np.load(os.path.join(directory, "reference.npz")))


def read_safetensors(path):
    from safetensors.numpy import load_file

    return load_file(path)


def assert_close_on_tokens(got, want, mask, atol=1e-5, msg=""):
    """Compare (B, S, ...) outputs at the real (unpadded) positions only."""
    from tests.models.helpers import to_numpy

    got, keep = to_numpy(got), np.asarray(mask).astype(bool)
    assert got.shape == want.shape, f"{msg}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got[keep], want[keep], atol=atol, rtol=atol, err_msg=msg)
