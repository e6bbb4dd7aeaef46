"""JAX implementations of the NumPy-named ops (inputs already promoted by zoo.ops).

zoo runs JAX with x64 enabled, so every op that would pick a default dtype (sums of ints,
indices, creation) is given an explicit one: results match the other backends.
"""
import jax.numpy as jnp

from zoo.backend.common import dtypes
from zoo.backend.jax.core import convert_to_tensor

_t = convert_to_tensor


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _int_dtype(x):
    """The dtype to accumulate in: x's own for integers (JAX would widen to int64)."""
    return x.dtype if jnp.issubdtype(x.dtype, jnp.integer) else None


# -- elementwise -------------------------------------------------------------------------

def add(x1, x2):
    return jnp.add(x1, x2)


def subtract(x1, x2):
    return jnp.subtract(x1, x2)


def multiply(x1, x2):
    return jnp.multiply(x1, x2)


def divide(x1, x2):
    return jnp.true_divide(x1, x2)


true_divide = divide


def floor_divide(x1, x2):
    return jnp.floor_divide(x1, x2)


def mod(x1, x2):
    return jnp.mod(x1, x2)


def power(x1, x2):
    return jnp.power(x1, x2)


def maximum(x1, x2):
    return jnp.maximum(x1, x2)


def minimum(x1, x2):
    return jnp.minimum(x1, x2)


def arctan2(x1, x2):
    return jnp.arctan2(x1, x2)


def clip(x, x_min, x_max):
    x = _t(x)
    if x_min is not None:
        x = jnp.maximum(x, x_min)
    if x_max is not None:
        x = jnp.minimum(x, x_max)
    return x


def negative(x):
    return jnp.negative(_t(x))


def abs(x):  # noqa: A001
    return jnp.abs(_t(x))


def sign(x):
    return jnp.sign(_t(x))


def square(x):
    return jnp.square(_t(x))


def round(x, decimals=0):  # noqa: A001
    x = _t(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        if decimals >= 0:
            return x
        scale = 10 ** (-decimals)
        return (jnp.round(x.astype("float64") / scale) * scale).astype(x.dtype)
    return jnp.round(x, decimals)


def sqrt(x):
    return jnp.sqrt(_t(x))


def rsqrt(x):
    import jax

    return jax.lax.rsqrt(_t(x))


def exp(x):
    return jnp.exp(_t(x))


def expm1(x):
    return jnp.expm1(_t(x))


def log(x):
    return jnp.log(_t(x))


def log1p(x):
    return jnp.log1p(_t(x))


def log2(x):
    return jnp.log2(_t(x))


def log10(x):
    return jnp.log10(_t(x))


def sin(x):
    return jnp.sin(_t(x))


def cos(x):
    return jnp.cos(_t(x))


def tan(x):
    return jnp.tan(_t(x))


def arcsin(x):
    return jnp.arcsin(_t(x))


def arccos(x):
    return jnp.arccos(_t(x))


def arctan(x):
    return jnp.arctan(_t(x))


def sinh(x):
    return jnp.sinh(_t(x))


def cosh(x):
    return jnp.cosh(_t(x))


def tanh(x):
    return jnp.tanh(_t(x))


def arcsinh(x):
    return jnp.arcsinh(_t(x))


def arccosh(x):
    return jnp.arccosh(_t(x))


def arctanh(x):
    return jnp.arctanh(_t(x))


def floor(x):
    return jnp.floor(_t(x))


def ceil(x):
    return jnp.ceil(_t(x))


# -- comparisons and logic -----------------------------------------------------------------

def equal(x1, x2):
    return jnp.equal(x1, x2)


def not_equal(x1, x2):
    return jnp.not_equal(x1, x2)


def less(x1, x2):
    return jnp.less(x1, x2)


def less_equal(x1, x2):
    return jnp.less_equal(x1, x2)


def greater(x1, x2):
    return jnp.greater(x1, x2)


def greater_equal(x1, x2):
    return jnp.greater_equal(x1, x2)


def logical_and(x1, x2):
    return jnp.logical_and(x1, x2)


def logical_or(x1, x2):
    return jnp.logical_or(x1, x2)


def logical_xor(x1, x2):
    return jnp.logical_xor(x1, x2)


def logical_not(x):
    return jnp.logical_not(x)


def isnan(x):
    return jnp.isnan(_t(x))


def isinf(x):
    return jnp.isinf(_t(x))


def isfinite(x):
    return jnp.isfinite(_t(x))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return jnp.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return tuple(i.astype("int32") for i in jnp.nonzero(condition))
    return jnp.where(condition, x1, x2)


# -- reductions ----------------------------------------------------------------------------

def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    return jnp.sum(x, axis=_axis(axis), keepdims=keepdims, dtype=_int_dtype(x))


def prod(x, axis=None, keepdims=False):
    x = _t(x)
    return jnp.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=_int_dtype(x))


def mean(x, axis=None, keepdims=False):
    return jnp.mean(_t(x), axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    return jnp.var(_t(x), axis=_axis(axis), keepdims=keepdims, ddof=ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    return jnp.std(_t(x), axis=_axis(axis), keepdims=keepdims, ddof=ddof)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.max(_t(x), axis=_axis(axis), keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.min(_t(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.any(_t(x), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.all(_t(x), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return jnp.argmax(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def argmin(x, axis=None, keepdims=False):
    return jnp.argmin(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def count_nonzero(x, axis=None, keepdims=False):
    return jnp.sum(jnp.not_equal(_t(x), 0), axis=_axis(axis), keepdims=keepdims, dtype="int32")


def cumsum(x, axis=None):
    x = _t(x)
    return jnp.cumsum(x, axis=axis, dtype=x.dtype)


def cumprod(x, axis=None):
    x = _t(x)
    return jnp.cumprod(x, axis=axis, dtype=x.dtype)


# -- linear algebra --------------------------------------------------------------------------

def matmul(x1, x2):
    return jnp.matmul(x1, x2)


def dot(x1, x2):
    return jnp.dot(x1, x2)


def einsum(subscripts, *operands):
    return jnp.einsum(subscripts, *operands)


def tensordot(x1, x2, axes=2):
    return jnp.tensordot(x1, x2, axes)


def outer(x1, x2):
    return jnp.outer(x1, x2)


# -- shape manipulation ----------------------------------------------------------------------

def reshape(x, newshape):
    return jnp.reshape(_t(x), newshape)


def transpose(x, axes=None):
    return jnp.transpose(_t(x), axes)


def moveaxis(x, source, destination):
    return jnp.moveaxis(_t(x), source, destination)


def swapaxes(x, axis1, axis2):
    return jnp.swapaxes(_t(x), axis1, axis2)


def expand_dims(x, axis):
    return jnp.expand_dims(_t(x), _axis(axis))


def squeeze(x, axis=None):
    return jnp.squeeze(_t(x), _axis(axis))


def concatenate(xs, axis=0):
    return jnp.concatenate([_t(x) for x in xs], axis=axis)


def stack(xs, axis=0):
    return jnp.stack([_t(x) for x in xs], axis=axis)


def split(x, indices_or_sections, axis=0):
    x = _t(x)
    if isinstance(indices_or_sections, int):
        return jnp.split(x, indices_or_sections, axis=axis)
    # Slices like NumPy's split (also for out-of-order indices, which jnp.split refuses).
    lead = (slice(None),) * (axis % x.ndim)
    bounds = [0] + list(indices_or_sections) + [None]
    return [x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def tile(x, reps):
    return jnp.tile(_t(x), reps)


def repeat(x, repeats, axis=None):
    x = _t(x)
    if not isinstance(repeats, int):
        if axis is None:
            x, axis = x.reshape(-1), 0
        # A static total keeps the op usable under jax.jit.
        total = _static_total(repeats)
        return jnp.repeat(x, jnp.asarray(repeats, "int32"), axis=axis, total_repeat_length=total)
    return jnp.repeat(x, repeats, axis=axis)


def _static_total(repeats):
    """Total of a list of Python ints; None for a traced tensor of counts."""
    import builtins

    if isinstance(repeats, (list, tuple)):
        return builtins.sum(int(r) for r in repeats)
    return None


def broadcast_to(x, shape):
    return jnp.broadcast_to(_t(x), shape)


def flip(x, axis=None):
    return jnp.flip(_t(x), axis=_axis(axis))


def roll(x, shift, axis=None):
    return jnp.roll(_t(x), shift, axis=_axis(axis))


def pad(x, pad_width, mode="constant", constant_values=0):
    x = _t(x)
    if mode == "constant":
        return jnp.pad(x, pad_width, mode="constant",
                       constant_values=jnp.asarray(constant_values, x.dtype))
    return jnp.pad(x, pad_width, mode=mode)


# -- creation --------------------------------------------------------------------------------

def zeros(shape, dtype="float32"):
    return jnp.zeros(shape, dtype=dtypes.standardize_dtype(dtype))


def ones(shape, dtype="float32"):
    return jnp.ones(shape, dtype=dtypes.standardize_dtype(dtype))


def full(shape, fill_value, dtype=None):
    dtype = dtypes.standardize_dtype(dtype) if dtype else None
    return jnp.full(shape, _t(fill_value, dtype), dtype=dtype)


def zeros_like(x, dtype=None):
    return jnp.zeros_like(_t(x), dtype=dtypes.standardize_dtype(dtype) if dtype else None)


def ones_like(x, dtype=None):
    return jnp.ones_like(_t(x), dtype=dtypes.standardize_dtype(dtype) if dtype else None)


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    dtype = dtypes.standardize_dtype(dtype) if dtype else x.dtype
    return jnp.full(x.shape, _t(fill_value, dtype), dtype=dtype)


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, start
    return jnp.arange(start, stop, step, dtype=dtypes.standardize_dtype(dtype))


def linspace(start, stop, num=50, endpoint=True, dtype="float32"):
    dtype = dtypes.standardize_dtype(dtype)
    if dtypes.is_float(dtype):
        return jnp.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    values = jnp.linspace(start, stop, num, endpoint=endpoint, dtype="float64")
    return jnp.floor(values).astype(dtype)


def eye(N, M=None, k=0, dtype="float32"):  # noqa: N803
    return jnp.eye(N, M, k, dtype=dtypes.standardize_dtype(dtype))


def tril(x, k=0):
    return jnp.tril(_t(x), k)


def triu(x, k=0):
    return jnp.triu(_t(x), k)


# -- indexing, sorting -----------------------------------------------------------------------

def take(x, indices, axis=None):
    return jnp.take(_t(x), _t(indices), axis=axis)


def take_along_axis(x, indices, axis=None):
    return jnp.take_along_axis(_t(x), _t(indices), axis=axis)


def sort(x, axis=-1):
    return jnp.sort(_t(x), axis=axis)


def argsort(x, axis=-1, stable=True):
    return jnp.argsort(_t(x), axis=axis, stable=stable).astype("int32")


def diagonal(x, offset=0, axis1=0, axis2=1):
    return jnp.diagonal(_t(x), offset, axis1, axis2)


def size(x):
    return int(_t(x).size)


def ndim(x):
    return _t(x).ndim
