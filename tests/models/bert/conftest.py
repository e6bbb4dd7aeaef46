"""transformers references for the BERT tests, made once per pytest session in a temp dir.

make_references.py runs in a subprocess: transformers imports torch, which must not share
a process with the backend under test."""
import importlib.util
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "make_references.py")


@pytest.fixture(scope="session")
def references(tmp_path_factory):
    if importlib.util.find_spec("transformers") is None:  # not imported here (see above)
        pytest.skip("transformers is not installed")
    out = tmp_path_factory.mktemp("bert_references")
    result = subprocess.run([sys.executable, SCRIPT, str(out)], capture_output=True,
                            text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"make_references.py failed:\n{result.stderr[-4000:]}")
    return str(out)
