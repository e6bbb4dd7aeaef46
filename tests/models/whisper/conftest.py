"""transformers references for the Whisper tests, made once per pytest session
(make_references.py runs in a clean child process: transformers imports torch)."""
import json
import os

import numpy as np

from tests.references import reference_fixture

HERE = os.path.dirname(__file__)
CONFIGS = ["v3_128", "en_80"]

references = reference_fixture(os.path.join(HERE, "make_references.py"),
                               requires=("transformers", "torch"))


def load_reference(references, name):
    """-> (checkpoint directory, spec dict, reference arrays)."""
    directory = os.path.join(references, name)
    with open(os.path.join(directory, "spec.json")) as f:
        spec = json.load(f)
    return (os.path.join(directory, "checkpoint"), spec,
            dict(np.load(os.path.join(directory, "reference.npz"))))
