"""Process-wide configuration: the active backend, floatx, the zoo home directory.

The backend is read once from ``ZOO_BACKEND`` when zoo is first imported and never changes
inside a process (frameworks cannot be swapped under live tensors).
"""
import os

VALID_BACKENDS = ("jax", "torch", "tensorflow", "numpy")
_DEFAULT_BACKEND = "jax"


def _read_backend():
    name = os.environ.get("ZOO_BACKEND", _DEFAULT_BACKEND).strip().lower()
    if name not in VALID_BACKENDS:
        raise ValueError(
            f"ZOO_BACKEND={os.environ.get('ZOO_BACKEND')!r} is not a zoo backend. "
            f"Valid names: {', '.join(VALID_BACKENDS)}."
        )
    return name


_BACKEND = _read_backend()
_FLOATX = "float32"
_EPSILON = 1e-7


def backend():
    """The name of the active backend: 'jax', 'torch', 'tensorflow' or 'numpy'."""
    return _BACKEND


def floatx():
    """The default float dtype for new variables and Python floats."""
    return _FLOATX


def set_floatx(dtype):
    global _FLOATX
    if dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"set_floatx: unknown float dtype {dtype!r}")
    _FLOATX = dtype


def epsilon():
    return _EPSILON


def zoo_home():
    """Where zoo keeps its own files (default ``~/.zoo``, or ``$ZOO_HOME``)."""
    return os.path.expanduser(os.environ.get("ZOO_HOME", os.path.join("~", ".zoo")))
