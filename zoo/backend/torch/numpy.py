"""PyTorch implementations of the NumPy-named ops (inputs already promoted by zoo.ops).

torch widens integer sums and indices to int64: dtypes are passed explicitly (or results
cast) so that outputs match the other backends.
"""
import builtins

import numpy as np
import torch
import torch.nn.functional as F

from zoo.backend.common import dtypes
from zoo.backend.torch import accel
from zoo.backend.torch.core import _DEVICE, convert_to_tensor, to_framework_dtype

_t = convert_to_tensor


def _dim(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _all_dims(axis, ndim):
    """torch reductions that take no ``None``: every dim for axis=None."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norm_axes(axis, ndim):
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(sorted(a % ndim if -ndim <= a < ndim else _bad_axis(a, ndim) for a in axes))


def _bad_axis(axis, ndim):
    raise ValueError(f"axis={axis} is out of range for a tensor of rank {ndim}.")


# -- elementwise -------------------------------------------------------------------------

def add(x1, x2):
    return torch.add(x1, x2)


def subtract(x1, x2):
    return torch.subtract(x1, x2)


def multiply(x1, x2):
    return torch.multiply(x1, x2)


def divide(x1, x2):
    return torch.true_divide(x1, x2)


true_divide = divide


def floor_divide(x1, x2):
    return torch.floor_divide(x1, x2)


def mod(x1, x2):
    return torch.remainder(x1, x2)


def power(x1, x2):
    return torch.pow(x1, x2)


def maximum(x1, x2):
    return torch.maximum(x1, x2)


def minimum(x1, x2):
    return torch.minimum(x1, x2)


def arctan2(x1, x2):
    return torch.arctan2(x1, x2)


def clip(x, x_min, x_max):
    return torch.clamp(_t(x), x_min, x_max)


def negative(x):
    return torch.negative(_t(x))


def abs(x):  # noqa: A001
    return torch.abs(_t(x))


def sign(x):
    return torch.sign(_t(x))


def square(x):
    return torch.square(_t(x))


def round(x, decimals=0):  # noqa: A001
    x = _t(x)
    if not x.is_floating_point():
        if decimals >= 0:
            return x
        scale = 10 ** (-decimals)
        return (torch.round(x.double() / scale) * scale).to(x.dtype)
    if decimals == 0:
        return torch.round(x)
    return torch.round(x, decimals=decimals)


def sqrt(x):
    return torch.sqrt(_t(x))


def rsqrt(x):
    return torch.rsqrt(_t(x))


def exp(x):
    return torch.exp(_t(x))


def expm1(x):
    return torch.expm1(_t(x))


def log(x):
    return torch.log(_t(x))


def log1p(x):
    return torch.log1p(_t(x))


def log2(x):
    return torch.log2(_t(x))


def log10(x):
    return torch.log10(_t(x))


def sin(x):
    return torch.sin(_t(x))


def cos(x):
    return torch.cos(_t(x))


def tan(x):
    return torch.tan(_t(x))


def arcsin(x):
    return torch.asin(_t(x))


def arccos(x):
    return torch.acos(_t(x))


def arctan(x):
    return torch.atan(_t(x))


def sinh(x):
    return torch.sinh(_t(x))


def cosh(x):
    return torch.cosh(_t(x))


def tanh(x):
    return torch.tanh(_t(x))


def arcsinh(x):
    return torch.asinh(_t(x))


def arccosh(x):
    return torch.acosh(_t(x))


def arctanh(x):
    return torch.atanh(_t(x))


def floor(x):
    return torch.floor(_t(x))


def ceil(x):
    return torch.ceil(_t(x))


# -- comparisons and logic -----------------------------------------------------------------

def equal(x1, x2):
    return torch.eq(x1, x2)


def not_equal(x1, x2):
    return torch.ne(x1, x2)


def less(x1, x2):
    return torch.lt(x1, x2)


def less_equal(x1, x2):
    return torch.le(x1, x2)


def greater(x1, x2):
    return torch.gt(x1, x2)


def greater_equal(x1, x2):
    return torch.ge(x1, x2)


def logical_and(x1, x2):
    return torch.logical_and(x1, x2)


def logical_or(x1, x2):
    return torch.logical_or(x1, x2)


def logical_xor(x1, x2):
    return torch.logical_xor(x1, x2)


def logical_not(x):
    return torch.logical_not(x)


def isnan(x):
    return torch.isnan(_t(x))


def isinf(x):
    return torch.isinf(_t(x))


def isfinite(x):
    return torch.isfinite(_t(x))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return tuple(i.to(torch.int32) for i in torch.nonzero(condition, as_tuple=True))
    return torch.where(condition, x1, x2)


# -- reductions ----------------------------------------------------------------------------

def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    if x.is_floating_point():
        return torch.sum(x, dim=_dim(axis), keepdim=keepdims)
    return torch.sum(x, dim=_dim(axis), keepdim=keepdims, dtype=x.dtype)


def prod(x, axis=None, keepdims=False):
    x = _t(x)
    if axis is None:
        out = torch.prod(x, dtype=x.dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = _norm_axes(axis, x.ndim)
    out = x
    for a in reversed(axes):
        out = torch.prod(out, a, keepdim=True, dtype=x.dtype)
    return out if keepdims else out.squeeze(axes)


def mean(x, axis=None, keepdims=False):
    return torch.mean(_t(x), dim=_dim(axis), keepdim=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    return torch.var(_t(x), dim=_dim(axis), correction=ddof, keepdim=keepdims)


def std(x, axis=None, keepdims=False, ddof=0):
    return torch.std(_t(x), dim=_dim(axis), correction=ddof, keepdim=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    return torch.amax(x, dim=_all_dims(axis, x.ndim), keepdim=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    x = _t(x)
    return torch.amin(x, dim=_all_dims(axis, x.ndim), keepdim=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return torch.any(_t(x), dim=_dim(axis), keepdim=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return torch.all(_t(x), dim=_dim(axis), keepdim=keepdims)


def _arg_input(x):
    x = _t(x)
    return x.to(torch.uint8) if x.dtype == torch.bool else x


def argmax(x, axis=None, keepdims=False):
    return torch.argmax(_arg_input(x), dim=axis, keepdim=keepdims).to(torch.int32)


def argmin(x, axis=None, keepdims=False):
    return torch.argmin(_arg_input(x), dim=axis, keepdim=keepdims).to(torch.int32)


def count_nonzero(x, axis=None, keepdims=False):
    return torch.sum(torch.ne(_t(x), 0), dim=_dim(axis), keepdim=keepdims, dtype=torch.int32)


def cumsum(x, axis=None):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumsum(x, axis, dtype=x.dtype)


def cumprod(x, axis=None):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumprod(x, axis, dtype=x.dtype)


# -- linear algebra --------------------------------------------------------------------------

def matmul(x1, x2):
    out = accel.matmul_left(x1, x2)  # a weight times a few columns: its packed copy
    return torch.matmul(x1, x2) if out is None else out


def dot(x1, x2):
    if x1.ndim == 0 or x2.ndim == 0:
        return torch.multiply(x1, x2)
    if x2.ndim <= 2 and x1.ndim <= 2 or x2.ndim == 1:
        return torch.matmul(x1, x2)
    return torch.tensordot(x1, x2, dims=([x1.ndim - 1], [x2.ndim - 2]))


def einsum(subscripts, *operands):
    return torch.einsum(subscripts, *operands)


def tensordot(x1, x2, axes=2):
    if not isinstance(axes, int):
        axes = [list(axes[0]), list(axes[1])]
    return torch.tensordot(x1, x2, dims=axes)


def outer(x1, x2):
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


# -- shape manipulation ----------------------------------------------------------------------

def reshape(x, newshape):
    return _t(x).reshape(newshape)


def transpose(x, axes=None):
    x = _t(x)
    if axes is None:
        return x.permute(tuple(range(x.ndim - 1, -1, -1)))
    return x.permute(tuple(axes))


def moveaxis(x, source, destination):
    return torch.movedim(_t(x), _dim(source), _dim(destination))


def swapaxes(x, axis1, axis2):
    return torch.swapaxes(_t(x), axis1, axis2)


def expand_dims(x, axis):
    x = _t(x)
    if isinstance(axis, int):
        return torch.unsqueeze(x, axis)
    for a in _norm_axes(axis, x.ndim + len(axis)):
        x = torch.unsqueeze(x, a)
    return x


def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        return torch.squeeze(x)
    axes = _norm_axes(axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {a} of shape {tuple(x.shape)}.")
    return torch.squeeze(x, axes)


def concatenate(xs, axis=0):
    if axis is None:
        return torch.cat([_t(x).reshape(-1) for x in xs], 0)
    return torch.cat([_t(x) for x in xs], axis)


def stack(xs, axis=0):
    return torch.stack([_t(x) for x in xs], axis)


def split(x, indices_or_sections, axis=0):
    x = _t(x)
    if isinstance(indices_or_sections, int):
        n, dim = indices_or_sections, x.shape[axis]
        if dim % n:
            raise ValueError(f"split: a dim of size {dim} does not divide into {n} equal sections.")
        return list(torch.split(x, dim // n, axis))
    return list(torch.tensor_split(x, list(indices_or_sections), axis))


def tile(x, reps):
    return torch.tile(_t(x), tuple(reps))


def repeat(x, repeats, axis=None):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if isinstance(repeats, int):
        return torch.repeat_interleave(x, repeats, dim=axis)
    if isinstance(repeats, (list, tuple)):
        return torch.repeat_interleave(
            x, torch.tensor(repeats, device=x.device), dim=axis,
            output_size=builtins.sum(repeats))
    return torch.repeat_interleave(x, _t(repeats), dim=axis)


def broadcast_to(x, shape):
    return torch.broadcast_to(_t(x), tuple(shape))


def flip(x, axis=None):
    x = _t(x)
    if axis is None:
        return torch.flip(x, tuple(range(x.ndim)))
    return torch.flip(x, (axis,) if isinstance(axis, int) else tuple(axis))


def roll(x, shift, axis=None):
    x = _t(x)
    if axis is None:
        return torch.roll(x, shift)
    return torch.roll(x, _dim(shift), _dim(axis))


def pad(x, pad_width, mode="constant", constant_values=0):
    x = _t(x)
    if mode == "constant":
        flat = []
        for before, after in reversed(pad_width):
            flat += [before, after]
        if torch.is_tensor(constant_values) or isinstance(constant_values, np.ndarray):
            constant_values = constant_values.item()
        return F.pad(x, flat, value=constant_values)
    # reflect/symmetric/edge/wrap: gather with the indices NumPy's own pad gives each dim.
    for dim, (before, after) in enumerate(pad_width):
        if before or after:
            index = np.pad(np.arange(x.shape[dim]), (before, after), mode=mode)
            x = torch.index_select(x, dim, torch.as_tensor(index, device=x.device))
    return x


# -- creation --------------------------------------------------------------------------------

def _torch_dtype(dtype):
    return to_framework_dtype(dtype or "float32")


def zeros(shape, dtype="float32"):
    return torch.zeros(tuple(shape), dtype=_torch_dtype(dtype), device=_DEVICE)


def ones(shape, dtype="float32"):
    return torch.ones(tuple(shape), dtype=_torch_dtype(dtype), device=_DEVICE)


def full(shape, fill_value, dtype=None):
    shape = tuple(shape)
    if isinstance(fill_value, (bool, int, float)):
        dtype = to_framework_dtype(dtype) if dtype else _t(fill_value).dtype
        return torch.full(shape, fill_value, dtype=dtype, device=_DEVICE)
    fill = _t(fill_value, dtype)
    return fill.expand(shape).clone()


def zeros_like(x, dtype=None):
    return torch.zeros_like(_t(x), dtype=to_framework_dtype(dtype) if dtype else None)


def ones_like(x, dtype=None):
    return torch.ones_like(_t(x), dtype=to_framework_dtype(dtype) if dtype else None)


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    dtype = to_framework_dtype(dtype) if dtype else x.dtype
    if isinstance(fill_value, (bool, int, float)):
        return torch.full_like(x, fill_value, dtype=dtype)
    return _t(fill_value, dtype).expand(x.shape).clone()


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, start
    return torch.arange(start, stop, step, dtype=_torch_dtype(dtype), device=_DEVICE)


def linspace(start, stop, num=50, endpoint=True, dtype="float32"):
    # Computed in float64 and cast, like NumPy (integer dtypes floor the values).
    if endpoint:
        values = torch.linspace(start, stop, num, dtype=torch.float64, device=_DEVICE)
    else:
        values = torch.linspace(start, stop, num + 1, dtype=torch.float64, device=_DEVICE)[:num]
    if not dtypes.is_float(dtype):
        values = torch.floor(values)
    return values.to(_torch_dtype(dtype))


def eye(N, M=None, k=0, dtype="float32"):  # noqa: N803
    M = N if M is None else M
    if k == 0:
        return torch.eye(N, M, dtype=_torch_dtype(dtype), device=_DEVICE)
    rows = torch.arange(N, device=_DEVICE).unsqueeze(1)
    cols = torch.arange(M, device=_DEVICE).unsqueeze(0)
    return torch.eq(cols - rows, k).to(_torch_dtype(dtype))


def tril(x, k=0):
    return torch.tril(_t(x), diagonal=k)


def triu(x, k=0):
    return torch.triu(_t(x), diagonal=k)


# -- indexing, sorting -----------------------------------------------------------------------

def take(x, indices, axis=None):
    # Advanced indexing: negative indices count from the end, as in NumPy.
    x, indices = _t(x), _t(indices)
    if axis is None:
        return x.reshape(-1)[indices]
    if axis == 0 or axis == -x.ndim:
        return x[indices]
    axis = axis % x.ndim
    return x[(slice(None),) * axis + (indices,)]


def take_along_axis(x, indices, axis=None):
    x, indices = _t(x), _t(indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.take_along_dim(x, indices.long(), axis)


def sort(x, axis=-1):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis).values


def argsort(x, axis=-1, stable=True):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.argsort(x, dim=axis, stable=stable).to(torch.int32)


def diagonal(x, offset=0, axis1=0, axis2=1):
    return torch.diagonal(_t(x), offset, axis1, axis2)


def size(x):
    return _t(x).numel()


def ndim(x):
    return _t(x).dim()
