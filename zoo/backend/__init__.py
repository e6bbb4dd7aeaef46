"""The active backend, chosen once per process by ``ZOO_BACKEND``.

This package is the only place in zoo that imports jax, torch or tensorflow, and it only
imports the framework of the active backend. Every backend folder has the same modules
(``core``, ``numpy``, ``nn``, ``math``, ``image``, ``random``, ``layer``, ``trainer``,
``optimizers``) with the same function names; the rest of zoo talks to
``zoo.backend.<module>``. The six op modules are reached through one dispatch point
(``common/dispatch.py``), which lets a thread record its backend calls (``zoo.ops.replay``).
"""
import importlib

from zoo.backend.common import config as _config
from zoo.backend.common import dispatch
from zoo.backend.common.dtypes import result_type, standardize_dtype  # noqa: F401
from zoo.backend.common.stateless_scope import StatelessScope, get_stateless_scope  # noqa: F401
from zoo.backend.common.symbolic import SymbolicTensor, is_symbolic  # noqa: F401

_NAME = _config.backend()
_package = f"zoo.backend.{_NAME}"

# the op modules, reached through the dispatch point (zoo/backend/common/dispatch.py), where
# ops.replay records a thread's calls
core = dispatch.load(_package, "core")
numpy = dispatch.load(_package, "numpy")
nn = dispatch.load(_package, "nn")
math = dispatch.load(_package, "math")
image = dispatch.load(_package, "image")
random = dispatch.load(_package, "random", foldable=False)  # (a draw is never a constant)
layer = importlib.import_module(f"{_package}.layer")
trainer = importlib.import_module(f"{_package}.trainer")
optimizers = importlib.import_module(f"{_package}.optimizers")

# zoo.distribution's backend half: JAX only (None elsewhere, and zoo.distribution says so)
distribution = importlib.import_module(f"{_package}.distribution") if _NAME == "jax" else None

Variable = core.Variable
BackendLayer = layer.BackendLayer


def backend():
    return _NAME
