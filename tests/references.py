"""Reference outputs from peer implementations (transformers, ultralytics, ...), made by a
script of the test folder in a child process, once per pytest session.

In a conftest.py:

    references = reference_fixture(os.path.join(HERE, "make_references.py"),
                                   requires=("transformers", "torch"))

and a test takes ``references``: the directory the script wrote (``python SCRIPT OUT_DIR``).

The script runs in a fresh interpreter with a clean environment (see
``tests.subprocesses.clean_environment``): a peer library imports its own framework
(transformers imports torch), which must not share a process with the backend under test,
and nothing of the test session (``ZOO_BACKEND``, ``XLA_FLAGS``, ``PYTHONPATH``) leaks into
it. ``python_path`` entries go first on its ``sys.path`` (e.g. a stand-in package that
shadows an installed one). When a package named in ``requires`` cannot be imported there,
the tests that use the fixture are skipped; when the script fails or runs past ``timeout``
seconds, they fail with its stderr. The output is written to a temporary name and renamed
when the script succeeds, so a directory that exists is complete.
"""
import os
import tempfile

import pytest

from tests.subprocesses import SubprocessError, clean_environment, run_python

DEFAULT_TIMEOUT = 600
_made = {}  # (script, args, python_path, requires) -> output directory or the exception


def _missing_packages(requires, env, timeout):
    """The names in ``requires`` that the child environment cannot import (checked there,
    so packages found only on ``python_path`` count, and nothing is imported here)."""
    if not requires:
        return []
    check = ("import importlib.util, sys\n"
             "print(' '.join(n for n in sys.argv[1:] if importlib.util.find_spec(n) is None))")
    stdout = run_python(["-c", check, *requires], env=env, timeout=timeout,
                        what="checking the reference script's packages")
    return stdout.split()


def make_references(script, parent, requires=(), python_path=(), args=(),
                    timeout=DEFAULT_TIMEOUT, env=None):
    """Run ``python SCRIPT OUT_DIR *args`` once (per process) for the same arguments, OUT_DIR
    a new directory under ``parent``; -> OUT_DIR. Skips (pytest.skip) when a package of
    ``requires`` is not installed; raises SubprocessError with the script's stderr when it
    fails. A second call with the same arguments returns (or raises) the first's result."""
    script = os.path.abspath(os.fspath(script))
    python_path = tuple(os.path.abspath(os.fspath(p)) for p in python_path)
    key = (script, tuple(map(str, args)), python_path, tuple(requires))
    if key not in _made:
        try:
            _made[key] = _run(script, parent, requires, python_path, args, timeout, env)
        except (SubprocessError, pytest.skip.Exception) as error:
            _made[key] = error
    result = _made[key]
    if isinstance(result, BaseException):
        raise result
    return result


def _run(script, parent, requires, python_path, args, timeout, env):
    child_env = clean_environment(python_path, env)
    name = f"{os.path.basename(os.path.dirname(script))}_{os.path.splitext(os.path.basename(script))[0]}"
    missing = _missing_packages(requires, child_env, timeout)
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (needed by "
                    f"{os.path.relpath(script)} for reference outputs)")
    os.makedirs(parent, exist_ok=True)
    partial = tempfile.mkdtemp(prefix=name + ".partial-", dir=parent)
    run_python([script, partial, *args], env=child_env, timeout=timeout, cwd=partial,
               what=f"the reference script {os.path.relpath(script)}")
    done = tempfile.mkdtemp(prefix=name + "-", dir=parent)
    os.rmdir(done)
    os.rename(partial, done)
    return done


def reference_fixture(script, requires=("transformers",), python_path=(), args=(),
                      timeout=DEFAULT_TIMEOUT, env=None, name=None):
    """A session-scoped pytest fixture returning make_references(...)'s directory (under the
    session's temporary directory); assign it to a name in a conftest.py (the fixture's
    name, unless ``name`` is given)."""
    def fixture(tmp_path_factory):
        return make_references(script, tmp_path_factory.getbasetemp() / "references",
                               requires=requires, python_path=python_path, args=args,
                               timeout=timeout, env=env)

    fixture.__doc__ = f"The directory {os.path.basename(script)} wrote its references to."
    return pytest.fixture(scope="session", name=name)(fixture)
