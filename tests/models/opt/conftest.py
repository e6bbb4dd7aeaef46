"""transformers references for the OPT tests, made once per pytest session in a temp dir
(tests/references.py: make_references.py runs in a clean child process, because
transformers imports torch, which must not share a process with the backend under test)."""
import json
import os

import numpy as np

from tests.references import reference_fixture

SCRIPT = os.path.join(os.path.dirname(__file__), "make_references.py")
CONFIGS = ["prenorm", "postnorm_proj", "nobias"]

references = reference_fixture(SCRIPT, requires=("transformers", "torch", "tokenizers"))


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
    from tests.testing import to_numpy

    got, keep = to_numpy(got), np.asarray(mask).astype(bool)
    assert got.shape == want.shape, f"{msg}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got[keep], want[keep], atol=atol, rtol=atol, err_msg=msg)
