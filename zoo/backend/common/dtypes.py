"""dtype names and the one promotion rule every backend follows.

zoo speaks dtypes as strings ("float32", "int64", ...). ``standardize_dtype`` turns any
framework's dtype object into that string. ``result_type`` is the promotion lattice, the
same on every backend (JAX-like):

    bool < uint8 < int8? < int16 < int32 < int64 < float16/bfloat16 < float32 < float64

* two different integer types promote to the wider one (uint8 with a signed type: the
  signed type, widened to at least int16);
* an integer with a float gives that float;
* float16 with bfloat16 gives float32;
* Python scalars are "weak": they take the dtype of the tensor they meet (an int scalar
  with a float16 tensor stays float16; a float scalar with an int tensor gives floatx).
"""
import functools

import numpy as np

from zoo.backend.common import config

FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")
INT_TYPES = ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64")
ALLOWED_DTYPES = FLOAT_TYPES + INT_TYPES + ("bool",)

_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "int": "int64",
    "long": "int64",
    "bfloat16": "bfloat16",
}


_CACHE = {}


def standardize_dtype(dtype):
    """Any dtype (string, NumPy, JAX, torch, TF, Python type) -> zoo's string name."""
    if dtype is None:
        return config.floatx()
    try:
        return _CACHE[dtype]
    except (KeyError, TypeError):
        pass
    name = _standardize(dtype)
    try:
        _CACHE[dtype] = name
    except TypeError:
        pass
    return name


def _standardize(dtype):
    if isinstance(dtype, str):
        name = dtype
    elif dtype is int:
        return "int32"
    elif dtype is float:
        return config.floatx()
    elif dtype is bool:
        return "bool"
    elif hasattr(dtype, "name") and isinstance(dtype.name, str):  # numpy, jax, tf
        name = dtype.name
    else:  # torch.float32 -> "torch.float32"
        name = str(dtype).split(".")[-1]
    name = _ALIASES.get(name, name)
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}. zoo supports: {', '.join(ALLOWED_DTYPES)}.")
    return name


def is_float(dtype):
    return standardize_dtype(dtype) in FLOAT_TYPES


def is_int(dtype):
    return standardize_dtype(dtype) in INT_TYPES


_INT_RANK = {"bool": 0, "uint8": 1, "int8": 2, "int16": 3, "uint16": 3.5, "int32": 4,
             "uint32": 4.5, "int64": 5, "uint64": 5.5}
_FLOAT_RANK = {"float16": 1, "bfloat16": 1, "float32": 2, "float64": 3}


@functools.lru_cache(maxsize=None)
def _promote_pair(a, b):
    if a == b:
        return a
    a_float, b_float = a in _FLOAT_RANK, b in _FLOAT_RANK
    if a_float and b_float:
        if {a, b} == {"float16", "bfloat16"}:
            return "float32"
        return a if _FLOAT_RANK[a] > _FLOAT_RANK[b] else b
    if a_float:
        return a
    if b_float:
        return b
    if a == "bool":
        return b
    if b == "bool":
        return a
    unsigned = {x for x in (a, b) if x.startswith("uint")}
    if unsigned and len(unsigned) == 1:  # mixing signed with unsigned
        u = unsigned.pop()
        s = b if u == a else a
        bits = max(int(u[4:]) * 2, int(s[3:]))
        return f"int{min(bits, 64)}"
    return a if _INT_RANK[a] > _INT_RANK[b] else b


def python_scalar_dtype(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int32"
    if isinstance(value, float):
        return config.floatx()
    raise TypeError(f"not a Python scalar: {value!r}")


def result_type(*dtypes_and_scalars):
    """Promote tensors' dtypes (strings) and Python scalars (weak) to one dtype."""
    strong = [d for d in dtypes_and_scalars if isinstance(d, str)]
    weak = [d for d in dtypes_and_scalars if not isinstance(d, str)]
    result = None
    for d in strong:
        result = d if result is None else _promote_pair(result, d)
    for w in weak:
        kind = python_scalar_dtype(w)
        if result is None:
            result = kind
        elif kind == "bool":
            continue
        elif kind == "int32":
            if result == "bool":
                result = "int32"
        else:  # weak float
            if result not in _FLOAT_RANK:
                result = config.floatx()
    return result if result is not None else config.floatx()


def to_numpy_dtype(dtype):
    """zoo dtype name -> numpy dtype (bfloat16 through ml_dtypes)."""
    name = standardize_dtype(dtype)
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)
