"""Conversion, shape and control-flow ops (``zoo.ops.convert_to_tensor``, ``cond``, ...)."""
from zoo import backend
from zoo.backend.common import dtypes
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op


def convert_to_tensor(x, dtype=None):
    """Any array-like (NumPy, list, scalar, Variable, another framework's tensor) -> tensor."""
    if isinstance(x, SymbolicTensor):
        return x if dtype is None else cast(x, dtype)
    return backend.core.convert_to_tensor(x, dtype)


def convert_to_numpy(x):
    if isinstance(x, SymbolicTensor):
        raise TypeError(f"{x} has no value yet: convert_to_numpy needs a concrete tensor.")
    return backend.core.convert_to_numpy(x)


def is_tensor(x):
    return backend.core.is_tensor(x)


def _cast_rule(x, dtype):
    return rules.symbolic(rules.shape_of(x), dtypes.standardize_dtype(dtype))


@op(_cast_rule)
def cast(x, dtype):
    return backend.core.cast(x, dtype)


def shape(x):
    """The shape as a tuple; under tracing, unknown dims may be scalar tensors."""
    if isinstance(x, SymbolicTensor):
        return x.shape
    return backend.core.shape(x)


def dtype(x):
    return dtypes.standardize_dtype(rules.concrete_dtype(x))


def _get_item_rule(x, key):
    shape = rules.shape_of(x)
    if not isinstance(key, tuple):
        key = (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    out, i = [], 0
    for k in key:
        if k is Ellipsis:
            for _ in range(len(shape) - n_real):
                out.append(shape[i])
                i += 1
        elif k is None:
            out.append(1)
        elif isinstance(k, slice):
            d = shape[i]
            out.append(None if d is None else len(range(*k.indices(d))))
            i += 1
        elif isinstance(k, int):
            i += 1
        else:
            raise TypeError(f"get_item on a symbolic tensor: unsupported index {k!r}")
    out.extend(shape[i:])
    return rules.symbolic(tuple(out), rules.concrete_dtype(x))


@op(_get_item_rule)
def get_item(x, key):
    """``x[key]`` with ints, slices, None and Ellipsis."""
    return backend.core.convert_to_tensor(x)[key]
