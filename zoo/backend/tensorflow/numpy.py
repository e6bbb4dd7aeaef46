"""TensorFlow implementations of the NumPy-named ops (inputs already promoted by zoo.ops).

TF lacks some kernels NumPy has (bool arithmetic, is_nan of ints, negative gather indices,
float reflect padding beyond one period, ...): each function fills its gap so results and
dtypes match the other backends. Dims unknown while tracing a tf.function are read with
``tf.shape``.
"""
import builtins
import math

import numpy as np
import tensorflow as tf

from zoo.backend.common import dtypes
from zoo.backend.tensorflow.core import convert_to_tensor

_t = convert_to_tensor


def _dim(x, axis):
    """Size of one dim: a Python int when static, else a scalar tensor."""
    d = x.shape[axis]
    return d if d is not None else tf.shape(x)[axis]


def _norm_axes(axis, ndim):
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis={a} is out of range for a tensor of rank {ndim}.")
        out.append(a % ndim)
    return sorted(out)


def _flatten(x):
    return tf.reshape(x, [-1])


def _is_float(x):
    return x.dtype.is_floating


# -- elementwise -------------------------------------------------------------------------

def add(x1, x2):
    if x1.dtype == tf.bool:
        return tf.logical_or(x1, x2)
    return tf.add(x1, x2)


def subtract(x1, x2):
    return tf.subtract(x1, x2)


def multiply(x1, x2):
    if x1.dtype == tf.bool:
        return tf.logical_and(x1, x2)
    return tf.multiply(x1, x2)


def divide(x1, x2):
    return tf.math.truediv(x1, x2)


true_divide = divide


def floor_divide(x1, x2):
    return tf.math.floordiv(x1, x2)


def mod(x1, x2):
    return tf.math.floormod(x1, x2)


def power(x1, x2):
    return tf.pow(x1, x2)


def maximum(x1, x2):
    if x1.dtype == tf.bool:
        return tf.logical_or(x1, x2)
    return tf.maximum(x1, x2)


def minimum(x1, x2):
    if x1.dtype == tf.bool:
        return tf.logical_and(x1, x2)
    return tf.minimum(x1, x2)


def arctan2(x1, x2):
    return tf.math.atan2(x1, x2)


def clip(x, x_min, x_max):
    x = _t(x)
    if x_min is not None:
        x = maximum(x, x_min)
    if x_max is not None:
        x = minimum(x, x_max)
    return x


def negative(x):
    return tf.negative(_t(x))


def abs(x):  # noqa: A001
    x = _t(x)
    return x if x.dtype == tf.bool or x.dtype.is_unsigned else tf.abs(x)


def sign(x):
    x = _t(x)
    if x.dtype == tf.bool:
        return x
    if x.dtype.is_unsigned:
        return tf.cast(tf.not_equal(x, 0), x.dtype)
    return tf.sign(x)


def square(x):
    x = _t(x)
    return x if x.dtype == tf.bool else tf.square(x)


def round(x, decimals=0):  # noqa: A001
    x = _t(x)
    if not _is_float(x):
        if decimals >= 0:
            return x
        scale = tf.constant(10 ** (-decimals), x.dtype)
        return tf.cast(tf.round(tf.cast(x, "float64") / tf.cast(scale, "float64")), x.dtype) * scale
    if decimals == 0:
        return tf.round(x)
    scale = tf.constant(10.0 ** decimals, x.dtype)
    return tf.round(x * scale) / scale


def sqrt(x):
    return tf.sqrt(_t(x))


def rsqrt(x):
    return tf.math.rsqrt(_t(x))


def exp(x):
    return tf.exp(_t(x))


def expm1(x):
    return tf.math.expm1(_t(x))


def log(x):
    return tf.math.log(_t(x))


def log1p(x):
    return tf.math.log1p(_t(x))


def log2(x):
    x = _t(x)
    return tf.math.log(x) * tf.constant(1.0 / math.log(2.0), x.dtype)


def log10(x):
    x = _t(x)
    return tf.math.log(x) * tf.constant(1.0 / math.log(10.0), x.dtype)


def sin(x):
    return tf.sin(_t(x))


def cos(x):
    return tf.cos(_t(x))


def tan(x):
    return tf.tan(_t(x))


def arcsin(x):
    return tf.asin(_t(x))


def arccos(x):
    return tf.acos(_t(x))


def arctan(x):
    return tf.atan(_t(x))


def sinh(x):
    return tf.sinh(_t(x))


def cosh(x):
    return tf.cosh(_t(x))


def tanh(x):
    return tf.tanh(_t(x))


def arcsinh(x):
    return tf.asinh(_t(x))


def arccosh(x):
    return tf.acosh(_t(x))


def arctanh(x):
    return tf.atanh(_t(x))


def floor(x):
    return tf.floor(_t(x))


def ceil(x):
    return tf.math.ceil(_t(x))


# -- comparisons and logic -----------------------------------------------------------------

def equal(x1, x2):
    return tf.equal(x1, x2)


def not_equal(x1, x2):
    return tf.not_equal(x1, x2)


def less(x1, x2):
    if x1.dtype == tf.bool:
        return tf.logical_and(tf.logical_not(x1), x2)
    return tf.less(x1, x2)


def less_equal(x1, x2):
    if x1.dtype == tf.bool:
        return tf.logical_or(tf.logical_not(x1), x2)
    return tf.less_equal(x1, x2)


def greater(x1, x2):
    if x1.dtype == tf.bool:
        return less(x2, x1)
    return tf.greater(x1, x2)


def greater_equal(x1, x2):
    if x1.dtype == tf.bool:
        return less_equal(x2, x1)
    return tf.greater_equal(x1, x2)


def logical_and(x1, x2):
    return tf.logical_and(x1, x2)


def logical_or(x1, x2):
    return tf.logical_or(x1, x2)


def logical_xor(x1, x2):
    return tf.math.logical_xor(x1, x2)


def logical_not(x):
    return tf.logical_not(x)


def isnan(x):
    x = _t(x)
    return tf.math.is_nan(x) if _is_float(x) else tf.zeros_like(x, dtype=tf.bool)


def isinf(x):
    x = _t(x)
    return tf.math.is_inf(x) if _is_float(x) else tf.zeros_like(x, dtype=tf.bool)


def isfinite(x):
    x = _t(x)
    return tf.math.is_finite(x) if _is_float(x) else tf.ones_like(x, dtype=tf.bool)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    x1, x2 = _t(x1), _t(x2)
    if not _is_float(x1):
        x1, x2 = tf.cast(x1, "float64"), tf.cast(x2, "float64")
    elif x1.dtype != tf.float64:
        x1, x2 = tf.cast(x1, "float32"), tf.cast(x2, "float32")
    close = tf.less_equal(tf.abs(x1 - x2), atol + rtol * tf.abs(x2))
    finite = tf.logical_and(tf.math.is_finite(x1), tf.math.is_finite(x2))
    out = tf.logical_or(tf.equal(x1, x2), tf.logical_and(finite, close))
    if equal_nan:
        out = tf.logical_or(out, tf.logical_and(tf.math.is_nan(x1), tf.math.is_nan(x2)))
    return out


def where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        condition = _t(condition)
        indices = tf.cast(tf.where(condition), "int32")
        return tuple(indices[:, i] for i in range(condition.shape.rank))
    if not tf.is_tensor(x2):  # a weak Python scalar
        x2 = tf.convert_to_tensor(x2, x1.dtype)
    return tf.where(condition, x1, x2)


# -- reductions ----------------------------------------------------------------------------

def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    return tf.reduce_sum(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    x = _t(x)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    return tf.reduce_prod(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    x = _t(x)
    if x.dtype in (tf.float16, tf.bfloat16):
        return tf.cast(tf.reduce_mean(tf.cast(x, "float32"), axis=axis, keepdims=keepdims),
                       x.dtype)
    return tf.reduce_mean(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    x = _t(x)
    low = x.dtype in (tf.float16, tf.bfloat16)
    v = tf.cast(x, "float32") if low else x
    out = tf.math.reduce_variance(v, axis=axis, keepdims=keepdims)
    if ddof:
        if axis is None:
            n = tf.size(v)
        else:
            shape = tf.shape(v)
            n = tf.reduce_prod(tf.gather(shape, _norm_axes(axis, v.shape.rank)))
        n = tf.cast(n, out.dtype)
        out = out * n / (n - ddof)
    return tf.cast(out, x.dtype) if low else out


def std(x, axis=None, keepdims=False, ddof=0):
    x = _t(x)
    out = tf.sqrt(var(tf.cast(x, "float32") if x.dtype in (tf.float16, tf.bfloat16) else x,
                      axis, keepdims, ddof))
    return tf.cast(out, x.dtype)


def max(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if x.dtype == tf.bool:
        return tf.reduce_any(x, axis=axis, keepdims=keepdims)
    return tf.reduce_max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if x.dtype == tf.bool:
        return tf.reduce_all(x, axis=axis, keepdims=keepdims)
    return tf.reduce_min(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_any(_t(x), axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_all(_t(x), axis=axis, keepdims=keepdims)


def _arg_reduce(fn, x, axis, keepdims):
    x = _t(x)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    rank = x.shape.rank
    if axis is None:
        out = fn(_flatten(x), axis=0, output_type=tf.int32)
        return tf.reshape(out, [1] * rank) if keepdims else out
    out = fn(x, axis=axis, output_type=tf.int32)
    return tf.expand_dims(out, axis % rank) if keepdims else out


def argmax(x, axis=None, keepdims=False):
    return _arg_reduce(tf.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg_reduce(tf.argmin, x, axis, keepdims)


def count_nonzero(x, axis=None, keepdims=False):
    return tf.math.count_nonzero(_t(x), axis=axis, keepdims=keepdims, dtype=tf.int32)


def cumsum(x, axis=None):
    x = _t(x)
    if axis is None:
        x, axis = _flatten(x), 0
    return tf.math.cumsum(x, axis=axis)


def cumprod(x, axis=None):
    x = _t(x)
    if axis is None:
        x, axis = _flatten(x), 0
    return tf.math.cumprod(x, axis=axis)


# -- linear algebra --------------------------------------------------------------------------

_NARROW_INTS = (tf.int8, tf.int16)  # no TF matmul kernels: computed in int32, cast back


def matmul(x1, x2):
    if x1.dtype in _NARROW_INTS:
        return tf.cast(matmul(tf.cast(x1, "int32"), tf.cast(x2, "int32")), x1.dtype)
    r1, r2 = x1.shape.rank, x2.shape.rank
    if r1 >= 2 and r2 >= 2:
        return tf.linalg.matmul(x1, x2)  # broadcasts batch dims
    if r1 == 1 and r2 == 1:
        return tf.reduce_sum(x1 * x2)
    if r1 == 1:
        return tf.squeeze(tf.linalg.matmul(tf.expand_dims(x1, 0), x2), -2)
    return tf.squeeze(tf.linalg.matmul(x1, tf.expand_dims(x2, -1)), -1)


def dot(x1, x2):
    r1, r2 = x1.shape.rank, x2.shape.rank
    if r1 == 0 or r2 == 0:
        return tf.multiply(x1, x2)
    if r2 == 1 or (r1 <= 2 and r2 <= 2):
        return matmul(x1, x2)
    return tf.tensordot(x1, x2, [[r1 - 1], [r2 - 2]])


def einsum(subscripts, *operands):
    if operands and operands[0].dtype in _NARROW_INTS:
        dtype = operands[0].dtype
        return tf.cast(tf.einsum(subscripts, *(tf.cast(o, "int32") for o in operands)), dtype)
    return tf.einsum(subscripts, *operands)


def tensordot(x1, x2, axes=2):
    if not isinstance(axes, int):
        axes = [list(axes[0]), list(axes[1])]
    if x1.dtype in _NARROW_INTS:
        return tf.cast(tf.tensordot(tf.cast(x1, "int32"), tf.cast(x2, "int32"), axes), x1.dtype)
    return tf.tensordot(x1, x2, axes)


def outer(x1, x2):
    return tf.reshape(x1, [-1, 1]) * tf.reshape(x2, [1, -1])


# -- shape manipulation ----------------------------------------------------------------------

def reshape(x, newshape):
    if isinstance(newshape, int):
        newshape = [newshape]
    return tf.reshape(_t(x), newshape)


def transpose(x, axes=None):
    x = _t(x)
    if axes is not None:  # TF's gradient needs non-negative axes
        axes = [a % x.shape.rank for a in axes]
    return tf.transpose(x, perm=axes)


def moveaxis(x, source, destination):
    x = _t(x)
    rank = x.shape.rank
    source = [a % rank for a in (source if isinstance(source, (list, tuple)) else [source])]
    destination = [a % rank for a in
                   (destination if isinstance(destination, (list, tuple)) else [destination])]
    perm = [i for i in range(rank) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        perm.insert(dest, src)
    return tf.transpose(x, perm)


def swapaxes(x, axis1, axis2):
    x = _t(x)
    perm = list(range(x.shape.rank))
    a, b = axis1 % len(perm), axis2 % len(perm)
    perm[a], perm[b] = perm[b], perm[a]
    return tf.transpose(x, perm)


def expand_dims(x, axis):
    x = _t(x)
    if isinstance(axis, int):
        return tf.expand_dims(x, axis)
    for a in _norm_axes(axis, x.shape.rank + len(axis)):
        x = tf.expand_dims(x, a)
    return x


def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        return tf.squeeze(x)
    axes = _norm_axes(axis, x.shape.rank)
    for a in axes:
        if x.shape[a] is not None and x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {a} of shape {x.shape}.")
    return tf.squeeze(x, axes)


def concatenate(xs, axis=0):
    if axis is None:
        return tf.concat([_flatten(_t(x)) for x in xs], 0)
    return tf.concat([_t(x) for x in xs], axis)


def stack(xs, axis=0):
    return tf.stack([_t(x) for x in xs], axis)


def split(x, indices_or_sections, axis=0):
    x = _t(x)
    dim = x.shape[axis]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if dim is not None and dim % n:
            raise ValueError(f"split: a dim of size {dim} does not divide into {n} equal sections.")
        return tf.split(x, n, axis)
    bounds = [0] + list(indices_or_sections)
    if dim is None:  # indices assumed increasing and in range
        sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:])] + [-1]
    else:
        bounds.append(dim)
        sizes = [len(range(dim)[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        if builtins.sum(sizes) != dim:  # out-of-order indices: slice each piece
            return [_slice_axis(x, a, b, axis) for a, b in zip(bounds[:-1], bounds[1:])]
    return tf.split(x, sizes, axis)


def _slice_axis(x, start, stop, axis):
    key = [slice(None)] * x.shape.rank
    key[axis] = slice(start, stop)
    return x[tuple(key)]


def tile(x, reps):
    x = _t(x)
    reps = list(reps)
    rank = x.shape.rank
    if len(reps) < rank:
        reps = [1] * (rank - len(reps)) + reps
    for _ in range(len(reps) - rank):
        x = tf.expand_dims(x, 0)
    return tf.tile(x, reps)


def repeat(x, repeats, axis=None):
    return tf.repeat(_t(x), repeats, axis=axis)


def broadcast_to(x, shape):
    return tf.broadcast_to(_t(x), shape)


def flip(x, axis=None):
    x = _t(x)
    axes = list(range(x.shape.rank)) if axis is None else _norm_axes(axis, x.shape.rank)
    return tf.reverse(x, axes)


def roll(x, shift, axis=None):
    x = _t(x)
    if axis is None:
        return tf.reshape(tf.roll(_flatten(x), shift, 0), tf.shape(x))
    return tf.roll(x, shift, axis)


def pad(x, pad_width, mode="constant", constant_values=0):
    x = _t(x)
    if mode == "constant":
        if tf.is_tensor(constant_values) and constant_values.dtype != x.dtype:
            constant_values = tf.cast(constant_values, x.dtype)
        return tf.pad(x, pad_width, constant_values=constant_values)
    if builtins.all(x.shape[i] is not None for i, w in enumerate(pad_width) if w != (0, 0)):
        # Static dims: gather with the indices NumPy's own pad gives (any width, any mode).
        for axis, (before, after) in enumerate(pad_width):
            if before or after:
                index = np.pad(np.arange(x.shape[axis]), (before, after), mode=mode)
                x = tf.gather(x, index.astype(np.int32), axis=axis)
        return x
    if mode not in ("reflect", "symmetric"):
        raise ValueError(f"pad: mode {mode!r} needs static dims on the tensorflow backend.")
    return tf.pad(x, pad_width, mode=mode.upper())


# -- creation --------------------------------------------------------------------------------

def zeros(shape, dtype="float32"):
    return tf.zeros(shape, dtype=dtypes.standardize_dtype(dtype))


def ones(shape, dtype="float32"):
    return tf.ones(shape, dtype=dtypes.standardize_dtype(dtype))


def full(shape, fill_value, dtype=None):
    fill = _t(fill_value, dtype)
    if fill.shape.rank == 0:
        return tf.fill(shape, fill)
    return tf.broadcast_to(fill, shape)


def zeros_like(x, dtype=None):
    return tf.zeros_like(_t(x), dtype=dtypes.standardize_dtype(dtype) if dtype else None)


def ones_like(x, dtype=None):
    return tf.ones_like(_t(x), dtype=dtypes.standardize_dtype(dtype) if dtype else None)


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    fill = _t(fill_value, dtype or x.dtype.name)
    return tf.broadcast_to(fill, tf.shape(x))


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, start
    dtype = dtypes.standardize_dtype(dtype)
    if dtypes.is_float(dtype):  # like NumPy: values computed in float64, then cast
        return tf.cast(tf.range(start, stop, step, dtype="float64"), dtype)
    return tf.range(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, dtype="float32"):
    start, stop = tf.cast(start, "float64"), tf.cast(stop, "float64")
    if endpoint:
        values = tf.linspace(start, stop, num)
    else:
        values = tf.linspace(start, stop, num + 1)[:num]
    if not dtypes.is_float(dtype):
        values = tf.floor(values)
    return tf.cast(values, dtypes.standardize_dtype(dtype))


def eye(N, M=None, k=0, dtype="float32"):  # noqa: N803
    M = N if M is None else M
    dtype = dtypes.standardize_dtype(dtype)
    if k == 0:
        return tf.eye(N, M, dtype=dtype)
    return tf.cast(tf.equal(tf.range(M)[None, :] - tf.range(N)[:, None], k), dtype)


def _tri_mask(x, k, lower):
    rows = tf.range(_dim(x, -2))[:, None]
    cols = tf.range(_dim(x, -1))[None, :]
    return tf.less_equal(cols - rows, k) if lower else tf.greater_equal(cols - rows, k)


def tril(x, k=0):
    x = _t(x)
    return tf.where(_tri_mask(x, k, True), x, tf.zeros_like(x))


def triu(x, k=0):
    x = _t(x)
    return tf.where(_tri_mask(x, k, False), x, tf.zeros_like(x))


# -- indexing, sorting -----------------------------------------------------------------------

def _wrap_negative(indices, n):
    return tf.where(indices < 0, indices + tf.cast(n, indices.dtype), indices)


def take(x, indices, axis=None):
    x, indices = _t(x), _t(indices)
    if axis is None:
        x, axis = _flatten(x), 0
    axis = axis % x.shape.rank
    return tf.gather(x, _wrap_negative(indices, _dim(x, axis)), axis=axis)


def take_along_axis(x, indices, axis=None):
    x, indices = _t(x), _t(indices)
    if axis is None:
        x, axis = _flatten(x), 0
    rank = x.shape.rank
    axis = axis % rank
    indices = _wrap_negative(indices, _dim(x, axis))
    last = rank - 1
    perm = [i for i in range(rank) if i != axis] + [axis]
    if axis != last:
        x, indices = tf.transpose(x, perm), tf.transpose(indices, perm)
    if x.shape[:-1] != indices.shape[:-1] or not x.shape[:-1].is_fully_defined():
        batch = tf.broadcast_dynamic_shape(tf.shape(x)[:-1], tf.shape(indices)[:-1])
        x = tf.broadcast_to(x, tf.concat([batch, tf.shape(x)[-1:]], 0))
        indices = tf.broadcast_to(indices, tf.concat([batch, tf.shape(indices)[-1:]], 0))
    out = tf.gather(x, indices, axis=last, batch_dims=last)
    if axis != last:
        out = tf.transpose(out, np.argsort(perm))
    return out


def sort(x, axis=-1):
    x = _t(x)
    if axis is None:
        x, axis = _flatten(x), 0
    return tf.sort(x, axis=axis)


def argsort(x, axis=-1, stable=True):
    x = _t(x)
    if axis is None:
        x, axis = _flatten(x), 0
    return tf.argsort(x, axis=axis, stable=stable)


def diagonal(x, offset=0, axis1=0, axis2=1):
    x = _t(x)
    rank = x.shape.rank
    a, b = axis1 % rank, axis2 % rank
    perm = [i for i in range(rank) if i not in (a, b)] + [a, b]
    x = tf.transpose(x, perm)
    n1, n2 = x.shape[-2], x.shape[-1]
    if n1 is not None and n2 is not None and \
            (offset >= n2 or -offset >= n1):  # an empty diagonal
        return tf.zeros(tf.concat([tf.shape(x)[:-2], [0]], 0), x.dtype)
    return tf.linalg.diag_part(x, k=offset)


def size(x):
    x = _t(x)
    n = x.shape.num_elements()
    return n if n is not None else tf.size(x, out_type=tf.int32)


def ndim(x):
    return _t(x).shape.rank
