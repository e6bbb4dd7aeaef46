"""transformers references for the BERT tests, made once per pytest session in a temp dir
(tests/references.py: make_references.py runs in a clean child process, because
transformers imports torch, which must not share a process with the backend under test)."""
import os

from tests.references import reference_fixture

SCRIPT = os.path.join(os.path.dirname(__file__), "make_references.py")

references = reference_fixture(SCRIPT, requires=("transformers", "torch"))
