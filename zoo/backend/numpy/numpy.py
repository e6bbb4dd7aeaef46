"""NumPy implementations of the NumPy-named ops (inputs already promoted by zoo.ops).

bfloat16 (ml_dtypes) and float16 products and reductions are computed in float32 and cast
back, as the other backends accumulate them.
"""

import numpy as np

from zoo.backend.common import dtypes
from zoo.backend.numpy.core import convert_to_tensor

_LOW_FLOATS = (np.dtype("float16"), dtypes.to_numpy_dtype("bfloat16"))
_F32 = np.dtype("float32")


def _t(x):
    # An ndarray already is a tensor here (convert_to_tensor would turn float64 into floatx).
    if isinstance(x, (np.ndarray, np.generic)):
        return x
    return convert_to_tensor(x)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _np_dtype(dtype):
    return dtypes.to_numpy_dtype(dtype)


def _via_f32(fn, *xs):
    """Run ``fn`` on float32 copies of low-precision float inputs, cast the result back."""
    dtype = xs[0].dtype
    if dtype in _LOW_FLOATS:
        return np.asarray(fn(*(x.astype(_F32) for x in xs))).astype(dtype)
    return fn(*xs)


def _w(x1, x2):
    """A weak Python scalar takes x1's dtype (NumPy gives bfloat16 with a float float32)."""
    if type(x2) is float or type(x2) is int:
        return x1.dtype.type(x2)
    return x2


# -- elementwise -------------------------------------------------------------------------

def add(x1, x2):
    return np.add(x1, _w(x1, x2))


def subtract(x1, x2):
    return np.subtract(x1, _w(x1, x2))


def multiply(x1, x2):
    return np.multiply(x1, _w(x1, x2))


def divide(x1, x2):
    return np.true_divide(x1, _w(x1, x2))


true_divide = divide


def floor_divide(x1, x2):
    return np.floor_divide(x1, _w(x1, x2))


def mod(x1, x2):
    return np.mod(x1, _w(x1, x2))


def power(x1, x2):
    return np.power(x1, _w(x1, x2))


def maximum(x1, x2):
    return np.maximum(x1, x2)


def minimum(x1, x2):
    return np.minimum(x1, x2)


def arctan2(x1, x2):
    return np.arctan2(x1, x2)


def clip(x, x_min, x_max):
    x = _t(x)
    if x_min is not None:
        x = np.maximum(x, _w(x, x_min))
    if x_max is not None:
        x = np.minimum(x, _w(x, x_max))
    return x


def negative(x):
    return np.negative(_t(x))


def abs(x):  # noqa: A001
    return np.abs(_t(x))


def sign(x):
    return np.sign(_t(x))


def square(x):
    return np.square(_t(x))


def round(x, decimals=0):  # noqa: A001
    x = _t(x)
    if decimals >= 0 and x.dtype.kind in "iub":
        return x
    return np.round(x, decimals)


def sqrt(x):
    return np.sqrt(_t(x))


def rsqrt(x):
    return np.reciprocal(np.sqrt(_t(x)))


def exp(x):
    return np.exp(_t(x))


def expm1(x):
    return np.expm1(_t(x))


def log(x):
    return np.log(_t(x))


def log1p(x):
    return np.log1p(_t(x))


def log2(x):
    return np.log2(_t(x))


def log10(x):
    return np.log10(_t(x))


def sin(x):
    return np.sin(_t(x))


def cos(x):
    return np.cos(_t(x))


def tan(x):
    return np.tan(_t(x))


def arcsin(x):
    return np.arcsin(_t(x))


def arccos(x):
    return np.arccos(_t(x))


def arctan(x):
    return np.arctan(_t(x))


def sinh(x):
    return np.sinh(_t(x))


def cosh(x):
    return np.cosh(_t(x))


def tanh(x):
    return np.tanh(_t(x))


def arcsinh(x):
    return np.arcsinh(_t(x))


def arccosh(x):
    return np.arccosh(_t(x))


def arctanh(x):
    return np.arctanh(_t(x))


def floor(x):
    return np.floor(_t(x))


def ceil(x):
    return np.ceil(_t(x))


# -- comparisons and logic -----------------------------------------------------------------

def equal(x1, x2):
    return np.equal(x1, _w(x1, x2))


def not_equal(x1, x2):
    return np.not_equal(x1, _w(x1, x2))


def less(x1, x2):
    return np.less(x1, _w(x1, x2))


def less_equal(x1, x2):
    return np.less_equal(x1, _w(x1, x2))


def greater(x1, x2):
    return np.greater(x1, _w(x1, x2))


def greater_equal(x1, x2):
    return np.greater_equal(x1, _w(x1, x2))


def logical_and(x1, x2):
    return np.logical_and(x1, x2)


def logical_or(x1, x2):
    return np.logical_or(x1, x2)


def logical_xor(x1, x2):
    return np.logical_xor(x1, x2)


def logical_not(x):
    return np.logical_not(x)


def isnan(x):
    return np.isnan(_t(x))


def isinf(x):
    return np.isinf(_t(x))


def isfinite(x):
    return np.isfinite(_t(x))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    x1, x2 = _t(x1), _t(x2)
    if x1.dtype in _LOW_FLOATS:
        x1, x2 = x1.astype(_F32), x2.astype(_F32)
    return np.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return tuple(i.astype(np.int32) for i in np.nonzero(condition))
    return np.where(condition, x1, _w(x1, x2))


# -- reductions ----------------------------------------------------------------------------

def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if x.dtype in _LOW_FLOATS:
        return np.sum(x, axis=_axis(axis), keepdims=keepdims, dtype=_F32).astype(x.dtype)
    return np.sum(x, axis=_axis(axis), keepdims=keepdims,
                  dtype=x.dtype if x.dtype.kind in "iu" else None)


def prod(x, axis=None, keepdims=False):
    x = _t(x)
    if x.dtype in _LOW_FLOATS:
        return np.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=_F32).astype(x.dtype)
    return np.prod(x, axis=_axis(axis), keepdims=keepdims,
                   dtype=x.dtype if x.dtype.kind in "iu" else None)


def mean(x, axis=None, keepdims=False):
    x = _t(x)
    if x.dtype in _LOW_FLOATS:
        return np.mean(x, axis=_axis(axis), keepdims=keepdims, dtype=_F32).astype(x.dtype)
    return np.mean(x, axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    return _via_f32(lambda v: np.var(v, axis=_axis(axis), keepdims=keepdims, ddof=ddof), _t(x))


def std(x, axis=None, keepdims=False, ddof=0):
    return _via_f32(lambda v: np.std(v, axis=_axis(axis), keepdims=keepdims, ddof=ddof), _t(x))


def max(x, axis=None, keepdims=False):  # noqa: A001
    return np.max(_t(x), axis=_axis(axis), keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return np.min(_t(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return np.any(_t(x), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return np.all(_t(x), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return np.asarray(np.argmax(_t(x), axis=axis, keepdims=keepdims), dtype=np.int32)


def argmin(x, axis=None, keepdims=False):
    return np.asarray(np.argmin(_t(x), axis=axis, keepdims=keepdims), dtype=np.int32)


def count_nonzero(x, axis=None, keepdims=False):
    return np.asarray(np.count_nonzero(_t(x), axis=_axis(axis), keepdims=keepdims),
                      dtype=np.int32)


def cumsum(x, axis=None):
    x = _t(x)
    if x.dtype in _LOW_FLOATS:
        return np.cumsum(x, axis=axis, dtype=_F32).astype(x.dtype)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def cumprod(x, axis=None):
    x = _t(x)
    if x.dtype in _LOW_FLOATS:
        return np.cumprod(x, axis=axis, dtype=_F32).astype(x.dtype)
    return np.cumprod(x, axis=axis, dtype=x.dtype)


# -- linear algebra --------------------------------------------------------------------------

_TALL_ROWS = 8192  # a (rows, K) @ (K, few) product this tall runs in row blocks
_ROW_BLOCK = 1024
_FEW_COLUMNS = 16


def _tall_skinny(x1, x2):
    """(M, K) @ (K, N) for large M and small N (a tied language-model head at a decode
    step: (V, d) @ (d, rows)) in blocks of rows: OpenBLAS streams the table at 12-13 GB/s
    that way against 8 in one call (OPT-125m's 50272 x 768 head, 8 rows: 12.5-16 against
    17-19 ms on a 2-core Xeon). One column is a GEMV, already at full bandwidth in one call."""
    out = np.empty((x1.shape[0], x2.shape[1]), np.result_type(x1, x2))
    for start in range(0, x1.shape[0], _ROW_BLOCK):
        np.matmul(x1[start:start + _ROW_BLOCK], x2, out=out[start:start + _ROW_BLOCK])
    return out


_FEW_ROWS = 64  # up to this many rows, a kernel in the product layout goes first


def _matmul(x1, x2):
    if x1.ndim < 2 or x2.ndim != 2:
        return np.matmul(x1, x2)
    # (..., K) @ (K, N) as one (M, K) GEMM: NumPy's batched matmul would run one product
    # per leading index and read the kernel that many times
    rows = x1 if x1.ndim == 2 else x1.reshape(-1, x1.shape[-1])
    if rows.shape[0] >= _TALL_ROWS and 1 < x2.shape[1] <= _FEW_COLUMNS \
            and rows.dtype == x2.dtype == _F32:
        out = _tall_skinny(rows, x2)
    elif rows.shape[0] <= _FEW_ROWS and x2.flags.f_contiguous and not x2.flags.c_contiguous:
        # a kernel stored (out, in) (core._product_layout): (out, in) @ (in, rows)
        out = np.ascontiguousarray(np.matmul(x2.T, rows.T).T)
    else:
        out = np.matmul(rows, x2)
    return out if x1.ndim == 2 else out.reshape(x1.shape[:-1] + x2.shape[1:])


def matmul(x1, x2):
    if x1.dtype in _LOW_FLOATS:
        return _matmul(x1.astype(_F32), x2.astype(_F32)).astype(x1.dtype)
    return _matmul(x1, x2)


def dot(x1, x2):
    return _via_f32(np.dot, x1, x2)


def einsum(subscripts, *operands):
    if operands and operands[0].dtype in _LOW_FLOATS:
        dtype = operands[0].dtype
        return np.asarray(np.einsum(subscripts, *(o.astype(_F32) for o in operands),
                                    optimize=len(operands) > 1)).astype(dtype)
    # optimize: contractions go to BLAS (tensordot) instead of NumPy's C loops (~10x on a
    # language-model head)
    return np.einsum(subscripts, *operands, optimize=len(operands) > 1)


def tensordot(x1, x2, axes=2):
    return _via_f32(lambda a, b: np.tensordot(a, b, axes), x1, x2)


def outer(x1, x2):
    return np.outer(x1, x2)


# -- shape manipulation ----------------------------------------------------------------------

def reshape(x, newshape):
    return np.reshape(_t(x), newshape)


def transpose(x, axes=None):
    return np.transpose(_t(x), axes)


def moveaxis(x, source, destination):
    return np.moveaxis(_t(x), source, destination)


def swapaxes(x, axis1, axis2):
    return np.swapaxes(_t(x), axis1, axis2)


def expand_dims(x, axis):
    return np.expand_dims(_t(x), _axis(axis))


def squeeze(x, axis=None):
    return np.squeeze(_t(x), _axis(axis))


def concatenate(xs, axis=0):
    return np.concatenate([_t(x) for x in xs], axis=axis)


def stack(xs, axis=0):
    return np.stack([_t(x) for x in xs], axis=axis)


def split(x, indices_or_sections, axis=0):
    return np.split(_t(x), indices_or_sections, axis=axis)


def tile(x, reps):
    return np.tile(_t(x), reps)


def repeat(x, repeats, axis=None):
    return np.repeat(_t(x), repeats, axis=axis)


def broadcast_to(x, shape):
    return np.broadcast_to(_t(x), shape)


def flip(x, axis=None):
    return np.flip(_t(x), axis=_axis(axis))


def roll(x, shift, axis=None):
    return np.roll(_t(x), shift, axis=_axis(axis))


def pad(x, pad_width, mode="constant", constant_values=0):
    x = _t(x)
    if mode == "constant":
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


# -- creation --------------------------------------------------------------------------------

def zeros(shape, dtype="float32"):
    return np.zeros(shape, dtype=_np_dtype(dtype))


def ones(shape, dtype="float32"):
    return np.ones(shape, dtype=_np_dtype(dtype))


def full(shape, fill_value, dtype=None):
    return np.full(shape, fill_value, dtype=_np_dtype(dtype) if dtype else None)


def zeros_like(x, dtype=None):
    return np.zeros(np.shape(x), dtype=_np_dtype(dtype) if dtype else _t(x).dtype)


def ones_like(x, dtype=None):
    return np.ones(np.shape(x), dtype=_np_dtype(dtype) if dtype else _t(x).dtype)


def full_like(x, fill_value, dtype=None):
    return np.full(np.shape(x), fill_value, dtype=_np_dtype(dtype) if dtype else _t(x).dtype)


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, start
    return np.arange(start, stop, step, dtype=_np_dtype(dtype))


def linspace(start, stop, num=50, endpoint=True, dtype="float32"):
    return np.linspace(start, stop, num, endpoint=endpoint, dtype=_np_dtype(dtype))


def eye(N, M=None, k=0, dtype="float32"):  # noqa: N803
    return np.eye(N, M, k, dtype=_np_dtype(dtype))


def tril(x, k=0):
    return np.tril(_t(x), k)


def triu(x, k=0):
    return np.triu(_t(x), k)


# -- indexing, sorting -----------------------------------------------------------------------

def take(x, indices, axis=None):
    return np.take(_t(x), _t(indices), axis=axis)


def take_along_axis(x, indices, axis=None):
    return np.take_along_axis(_t(x), _t(indices), axis=axis)


def sort(x, axis=-1):
    return np.sort(_t(x), axis=axis)


def argsort(x, axis=-1, stable=True):
    kind = "stable" if stable else None
    return np.argsort(_t(x), axis=axis, kind=kind).astype(np.int32)


def diagonal(x, offset=0, axis1=0, axis2=1):
    return np.diagonal(_t(x), offset, axis1, axis2)


def size(x):
    return int(np.size(_t(x)))


def ndim(x):
    return np.ndim(_t(x))
