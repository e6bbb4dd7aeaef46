"""ZOO_BACKEND picks one framework per process, and only that framework is imported."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow", "numpy": None}


def _run(backend, code):
    env = dict(os.environ, ZOO_BACKEND=backend, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)


def test_active_backend_reported():
    import zoo

    assert zoo.config.backend() in FRAMEWORKS
    assert zoo.config.backend() == os.environ.get("ZOO_BACKEND", "jax")


def test_import_loads_only_the_active_framework():
    """Checked for the active backend in a fresh process (each CI backend run covers its own)."""
    import zoo

    backend = zoo.config.backend()
    result = _run(backend, "import sys, zoo; import zoo.layers, zoo.ops; "
                           "print(sorted(m for m in ('jax','torch','tensorflow','keras') "
                           "if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    loaded = eval(result.stdout.strip().splitlines()[-1])
    expected = [FRAMEWORKS[backend]] if FRAMEWORKS[backend] else []
    assert loaded == expected


def test_unknown_backend_fails_with_valid_names():
    result = _run("theano", "import zoo")
    assert result.returncode != 0
    assert "theano" in result.stderr
    for name in FRAMEWORKS:
        assert name in result.stderr


@pytest.mark.parametrize("module", ["core", "numpy", "nn", "math", "image", "random", "layer", "trainer", "optimizers"])
def test_backends_mirror_each_other(module):
    """Every backend folder has the same modules with the same public function names."""
    import ast

    names = {}
    for backend in FRAMEWORKS:
        path = os.path.join(ROOT, "zoo", "backend", backend, f"{module}.py")
        tree = ast.parse(open(path).read())
        names[backend] = {n.name for n in tree.body
                          if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}
        names[backend] |= {a.asname or a.name for n in tree.body  # shared implementations
                           if isinstance(n, ast.ImportFrom)
                           and n.module == "zoo.backend.common.python_loops" for a in n.names}
    reference = names["jax"]
    for backend, found in names.items():
        assert found == reference, (
            f"zoo/backend/{backend}/{module}.py differs from jax: missing "
            f"{sorted(reference - found)}, extra {sorted(found - reference)}")


def test_frameworks_imported_only_under_backend():
    import re

    pattern = re.compile(r"^\s*(import|from)\s+(jax|jaxlib|torch|tensorflow|keras)\b", re.M)
    offenders = []
    for folder, _, files in os.walk(os.path.join(ROOT, "zoo")):
        if os.sep + "backend" in folder[len(ROOT):]:
            continue
        for f in files:
            if f.endswith(".py") and pattern.search(open(os.path.join(folder, f)).read()):
                offenders.append(os.path.join(folder, f))
    assert offenders == []


@pytest.mark.skipif(os.environ.get("ZOO_BACKEND", "jax") != "jax", reason="the jax backend")
def test_jax_convolutions_leave_ynnpack_unless_the_user_chose():
    """zoo's jax backend adds XLA:CPU's flag that keeps convolutions off YNNPACK (faster
    convolutions, see zoo/backend/jax/__init__.py) before jax opens its backend; a ynn
    setting already in XLA_FLAGS is the user's and stays as it was."""
    code = ("import os, zoo, zoo.ops as ops, numpy as np; "
            "ops.convert_to_numpy(ops.conv(np.ones((1, 4, 4, 2), 'float32'), "
            "np.ones((3, 3, 2, 2), 'float32'), padding='same')); print(os.environ['XLA_FLAGS'])")
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(env, ZOO_BACKEND="jax", PYTHONPATH=ROOT), timeout=300)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.split() == ["--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"]
    user = "--xla_cpu_experimental_ynn_fusion_type="
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(env, ZOO_BACKEND="jax", PYTHONPATH=ROOT, XLA_FLAGS=user),
                            timeout=300)
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout.split() == [user]
