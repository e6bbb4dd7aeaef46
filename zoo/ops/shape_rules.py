"""Symbolic shape and dtype rules, shared by the ops that follow the same pattern.

A rule takes exactly the op's arguments (each a SymbolicTensor, a backend tensor, a
Variable or a Python value) and returns a SymbolicTensor, or a tuple of them, describing
the output. ``None`` is an unknown dimension.
"""
from zoo.backend.common import dtypes
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.backend.common.variables import Variable


def shape_of(x):
    """Static shape of anything tensor-like (``None`` for unknown dims)."""
    if isinstance(x, (SymbolicTensor, Variable)):
        return tuple(x.shape)
    if isinstance(x, (bool, int, float)):
        return ()
    if isinstance(x, (list, tuple)):
        if not x:
            return (0,)
        return (len(x),) + shape_of(x[0])
    shape = x.shape
    if hasattr(shape, "as_list"):  # tf.TensorShape
        return tuple(shape.as_list())
    return tuple(shape)


def dtype_of(x):
    """zoo dtype name of a tensor; Python scalars return themselves (weak types)."""
    if isinstance(x, (SymbolicTensor, Variable)):
        return x.dtype
    if isinstance(x, (bool, int, float)):
        return x
    if isinstance(x, (list, tuple)):
        import numpy as np

        kind = np.asarray(x).dtype.name if x else "float64"
        return {"float64": dtypes.config.floatx(), "int64": "int32"}.get(kind, kind)
    return dtypes.standardize_dtype(x.dtype)


def result_dtype(*xs):
    return dtypes.result_type(*(dtype_of(x) for x in xs))


def concrete_dtype(x):
    """Like dtype_of, but a Python scalar gets its default dtype."""
    d = dtype_of(x)
    return d if isinstance(d, str) else dtypes.python_scalar_dtype(d)


def broadcast_shapes(*shapes):
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        dims = [s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"Shapes {' and '.join(map(str, shapes))} cannot be broadcast.")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def normalize_axis(axis, ndim, name="axis"):
    if axis < -ndim or axis >= ndim:
        raise ValueError(f"{name}={axis} is out of range for a tensor of rank {ndim}.")
    return axis % ndim


def symbolic(shape, dtype):
    return SymbolicTensor(shape, dtype)


# -- families ----------------------------------------------------------------------------

def elementwise_unary(x, *args, **kwargs):
    return symbolic(shape_of(x), concrete_dtype(x))


def elementwise_unary_float(x, *args, **kwargs):
    """Unary op whose integer inputs become floats (sqrt, exp, sin, ...)."""
    dtype = concrete_dtype(x)
    if not dtypes.is_float(dtype):
        dtype = dtypes.config.floatx()
    return symbolic(shape_of(x), dtype)


def elementwise_unary_bool(x, *args, **kwargs):
    return symbolic(shape_of(x), "bool")


def elementwise_binary(x1, x2, *args, **kwargs):
    return symbolic(broadcast_shapes(shape_of(x1), shape_of(x2)), result_dtype(x1, x2))


def elementwise_binary_float(x1, x2, *args, **kwargs):
    dtype = result_dtype(x1, x2)
    if not dtypes.is_float(dtype):
        dtype = dtypes.config.floatx()
    return symbolic(broadcast_shapes(shape_of(x1), shape_of(x2)), dtype)


def elementwise_binary_bool(x1, x2, *args, **kwargs):
    return symbolic(broadcast_shapes(shape_of(x1), shape_of(x2)), "bool")


def reduced_shape(shape, axis, keepdims):
    if axis is None:
        return tuple(1 for _ in shape) if keepdims else ()
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    axes = {normalize_axis(a, len(shape)) for a in axes}
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def reduction(x, axis=None, keepdims=False, **kwargs):
    return symbolic(reduced_shape(shape_of(x), axis, keepdims), concrete_dtype(x))


def reduction_float(x, axis=None, keepdims=False, **kwargs):
    dtype = concrete_dtype(x)
    if not dtypes.is_float(dtype):
        dtype = dtypes.config.floatx()
    return symbolic(reduced_shape(shape_of(x), axis, keepdims), dtype)


def reduction_bool(x, axis=None, keepdims=False, **kwargs):
    return symbolic(reduced_shape(shape_of(x), axis, keepdims), "bool")


def reduction_index(x, axis=None, keepdims=False, **kwargs):
    return symbolic(reduced_shape(shape_of(x), axis, keepdims), "int32")
