"""Array ops with NumPy names: shape manipulation, creation, indexing and sorting, sizes.

The dtype rules are those of ``zoo/ops/numpy.py`` (whose helpers this module shares); the
backend functions live in each backend's ``numpy.py``.
"""
import builtins
import math

from zoo import backend
from zoo.backend.common import dtypes
from zoo.ops import shape_rules as rules
from zoo.ops.numpy import (  # noqa: F401  (shared dtype helpers)
    _as_index,
    _axes_tuple,
    _floatx,
    _moveaxis_perm,
    _prod,
    _promote,
    _rank_differs,
    _shape_arg,
)
from zoo.ops.operation import op


# -- shape manipulation ----------------------------------------------------------------------

def _reshape_rule(x, newshape):
    shape = rules.shape_of(x)
    newshape = _shape_arg(newshape)
    free = [i for i, d in enumerate(newshape) if d is None or d == -1]
    if builtins.sum(1 for d in newshape if d is not None and d == -1) > 1:
        raise ValueError(f"reshape: at most one -1 in the new shape, got {newshape}.")
    known = _prod(d for d in newshape if d is not None and d != -1)
    total = _prod(shape)
    if total is None:
        return rules.symbolic(tuple(None if i in free else d for i, d in enumerate(newshape)),
                              rules.concrete_dtype(x))
    if len(free) == 1:
        if known == 0 or total % known:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} into {newshape}.")
        newshape = tuple(total // known if i in free else d for i, d in enumerate(newshape))
    elif len(free) > 1:  # several unknown (None) dims: only the rank is known
        newshape = tuple(None if i in free else d for i, d in enumerate(newshape))
    elif known != total:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} into {newshape}.")
    return rules.symbolic(newshape, rules.concrete_dtype(x))


@op(_reshape_rule)
def reshape(x, newshape):
    """Reshape; one dim may be -1 (symbolically, None dims are unknown)."""
    return backend.numpy.reshape(x, newshape)


def _transpose_rule(x, axes=None):
    shape = rules.shape_of(x)
    if axes is None:
        return rules.symbolic(shape[::-1], rules.concrete_dtype(x))
    axes = [rules.normalize_axis(a, len(shape)) for a in axes]
    if sorted(axes) != list(range(len(shape))):
        raise ValueError(f"transpose: axes {axes} are not a permutation of a rank-{len(shape)} "
                         f"tensor's dims.")
    return rules.symbolic(tuple(shape[a] for a in axes), rules.concrete_dtype(x))


@op(_transpose_rule)
def transpose(x, axes=None):
    """Permute dims (default: reverse them)."""
    return backend.numpy.transpose(x, axes)


def _moveaxis_rule(x, source, destination):
    shape = rules.shape_of(x)
    perm = _moveaxis_perm(len(shape), source, destination)
    return rules.symbolic(tuple(shape[p] for p in perm), rules.concrete_dtype(x))


@op(_moveaxis_rule)
def moveaxis(x, source, destination):
    return backend.numpy.moveaxis(x, source, destination)


def _swapaxes_rule(x, axis1, axis2):
    shape = list(rules.shape_of(x))
    a = rules.normalize_axis(axis1, len(shape), "axis1")
    b = rules.normalize_axis(axis2, len(shape), "axis2")
    shape[a], shape[b] = shape[b], shape[a]
    return rules.symbolic(tuple(shape), rules.concrete_dtype(x))


@op(_swapaxes_rule)
def swapaxes(x, axis1, axis2):
    return backend.numpy.swapaxes(x, axis1, axis2)


def _expand_dims_rule(x, axis):
    shape = rules.shape_of(x)
    axes = _axes_tuple(axis)
    ndim = len(shape) + len(axes)
    axes = sorted(rules.normalize_axis(a, ndim) for a in axes)
    out = list(shape)
    for a in axes:
        out.insert(a, 1)
    return rules.symbolic(tuple(out), rules.concrete_dtype(x))


@op(_expand_dims_rule)
def expand_dims(x, axis):
    """Insert size-1 dims at ``axis`` (an int or a tuple of positions in the output)."""
    return backend.numpy.expand_dims(x, axis)


def _squeeze_rule(x, axis=None):
    shape = rules.shape_of(x)
    if axis is None:
        return rules.symbolic(tuple(d for d in shape if d != 1), rules.concrete_dtype(x))
    axes = {rules.normalize_axis(a, len(shape)) for a in _axes_tuple(axis)}
    for a in axes:
        if shape[a] is not None and shape[a] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {a} of shape {shape} "
                             f"(size {shape[a]}).")
    return rules.symbolic(tuple(d for i, d in enumerate(shape) if i not in axes),
                          rules.concrete_dtype(x))


@op(_squeeze_rule)
def squeeze(x, axis=None):
    """Remove size-1 dims (all, or ``axis``, which must have size 1)."""
    return backend.numpy.squeeze(x, axis)


def _concatenate_rule(xs, axis=0):
    shapes = [rules.shape_of(x) for x in xs]
    dtype = rules.result_dtype(*xs)
    if not shapes:
        raise ValueError("concatenate: needs at least one input.")
    if axis is None:
        sizes = [_prod(s) for s in shapes]
        return rules.symbolic((None if None in sizes else builtins.sum(sizes),), dtype)
    rank = len(shapes[0])
    if rank == 0 or _rank_differs(shapes, rank):
        raise ValueError(f"concatenate: inputs must have the same rank >= 1, got shapes "
                         f"{', '.join(map(str, shapes))}.")
    ax = rules.normalize_axis(axis, rank)
    out = []
    for i in range(rank):
        dims = [s[i] for s in shapes]
        if i == ax:
            out.append(None if None in dims else builtins.sum(dims))
            continue
        known = {d for d in dims if d is not None}
        if len(known) > 1:
            raise ValueError(f"concatenate: shapes {', '.join(map(str, shapes))} differ on axis "
                             f"{i}; only the concatenation axis ({ax}) may differ.")
        out.append(known.pop() if known else None)
    return rules.symbolic(tuple(out), dtype)


@op(_concatenate_rule)
def concatenate(xs, axis=0):
    """Join tensors along an existing ``axis`` (None: flatten them first); dtypes promote."""
    if not xs:
        raise ValueError("concatenate: needs at least one input.")
    return backend.numpy.concatenate(_promote(*xs), axis)


def _stack_rule(xs, axis=0):
    shapes = [rules.shape_of(x) for x in xs]
    if not shapes:
        raise ValueError("stack: needs at least one input.")
    rank = len(shapes[0])
    if _rank_differs(shapes, rank):
        raise ValueError(f"stack: inputs must have the same shape, got "
                         f"{', '.join(map(str, shapes))}.")
    out = []
    for i in range(rank):
        known = {s[i] for s in shapes if s[i] is not None}
        if len(known) > 1:
            raise ValueError(f"stack: inputs must have the same shape, got "
                             f"{', '.join(map(str, shapes))}.")
        out.append(known.pop() if known else None)
    ax = rules.normalize_axis(axis, rank + 1)
    out.insert(ax, len(shapes))
    return rules.symbolic(tuple(out), rules.result_dtype(*xs))


@op(_stack_rule)
def stack(xs, axis=0):
    """Join same-shaped tensors along a new ``axis``; dtypes promote."""
    if not xs:
        raise ValueError("stack: needs at least one input.")
    return backend.numpy.stack(_promote(*xs), axis)


def _split_sizes(dim, indices_or_sections):
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise ValueError(f"split: the number of sections must be positive, got {n}.")
        if dim is None:
            return [None] * n
        if dim % n:
            raise ValueError(f"split: a dim of size {dim} does not divide into {n} equal sections.")
        return [dim // n] * n
    bounds = [0] + list(indices_or_sections) + [dim]
    if dim is None:
        return [None] * (len(bounds) - 1)
    return [len(range(dim)[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _split_rule(x, indices_or_sections, axis=0):
    shape = rules.shape_of(x)
    ax = rules.normalize_axis(axis, len(shape))
    dtype = rules.concrete_dtype(x)
    return [rules.symbolic(shape[:ax] + (size,) + shape[ax + 1:], dtype)
            for size in _split_sizes(shape[ax], indices_or_sections)]


@op(_split_rule)
def split(x, indices_or_sections, axis=0):
    """A list of sub-tensors: ``N`` equal sections, or cut before each index in a list."""
    if not isinstance(indices_or_sections, int):
        indices_or_sections = [int(i) for i in indices_or_sections]
    return backend.numpy.split(x, indices_or_sections, axis)


def _tile_rule(x, reps):
    shape = rules.shape_of(x)
    reps = _shape_arg(reps)
    n = builtins.max(len(shape), len(reps))
    shape = (1,) * (n - len(shape)) + shape
    reps = (1,) * (n - len(reps)) + reps
    return rules.symbolic(tuple(None if d is None else d * r for d, r in zip(shape, reps)),
                          rules.concrete_dtype(x))


@op(_tile_rule)
def tile(x, reps):
    return backend.numpy.tile(x, tuple(int(r) for r in _shape_arg(reps)))


def _repeat_rule(x, repeats, axis=None):
    shape = rules.shape_of(x)
    if axis is None:
        shape, ax = (_prod(shape),), 0
    else:
        ax = rules.normalize_axis(axis, len(shape))
    if isinstance(repeats, int):
        size = None if shape[ax] is None else shape[ax] * repeats
    elif isinstance(repeats, (list, tuple)):
        size = builtins.sum(repeats)
    else:  # a tensor of repeats: data-dependent
        size = None
    return rules.symbolic(shape[:ax] + (size,) + shape[ax + 1:], rules.concrete_dtype(x))


@op(_repeat_rule)
def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along
    ``axis`` (None: of the flattened tensor)."""
    if isinstance(repeats, (list, tuple)):
        repeats = [int(r) for r in repeats]
    return backend.numpy.repeat(x, repeats, axis)


def _broadcast_to_rule(x, shape):
    shape = _shape_arg(shape)
    src = rules.shape_of(x)
    if len(src) > len(shape):
        raise ValueError(f"broadcast_to: cannot broadcast shape {src} to {shape}.")
    for s, d in zip(src[::-1], shape[::-1]):
        if s is not None and d is not None and s != 1 and s != d:
            raise ValueError(f"broadcast_to: cannot broadcast shape {src} to {shape}.")
    return rules.symbolic(shape, rules.concrete_dtype(x))


@op(_broadcast_to_rule)
def broadcast_to(x, shape):
    return backend.numpy.broadcast_to(x, _shape_arg(shape))


def _flip_rule(x, axis=None):
    shape = rules.shape_of(x)
    if axis is not None:
        for a in _axes_tuple(axis):
            rules.normalize_axis(a, len(shape))
    return rules.symbolic(shape, rules.concrete_dtype(x))


@op(_flip_rule)
def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (None: every axis)."""
    return backend.numpy.flip(x, axis)


def _roll_rule(x, shift, axis=None):
    return _flip_rule(x, axis)


@op(_roll_rule)
def roll(x, shift, axis=None):
    """Shift elements cyclically along ``axis`` (None: of the flattened tensor)."""
    return backend.numpy.roll(x, shift, axis)


_PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def _pad_width(pad_width, ndim):
    """NumPy's pad_width forms -> a tuple of (before, after) int pairs, one per dim."""
    import numpy as np

    widths = np.asarray(pad_width, dtype=np.int64)
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a rank-{ndim} tensor.") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width {pad_width!r} has negative values.")
    return tuple((int(a), int(b)) for a, b in widths)


def _pad_rule(x, pad_width, mode="constant", constant_values=0):
    shape = rules.shape_of(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}.")
    widths = _pad_width(pad_width, len(shape))
    out = tuple(None if d is None else d + a + b for d, (a, b) in zip(shape, widths))
    return rules.symbolic(out, rules.concrete_dtype(x))


@op(_pad_rule)
def pad(x, pad_width, mode="constant", constant_values=0):
    """Pad with ``pad_width`` in NumPy's forms (int, ``(before, after)``, or one pair per
    dim). Modes: constant (with ``constant_values``), reflect, symmetric, edge, wrap."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}.")
    widths = _pad_width(pad_width, len(rules.shape_of(x)))
    return backend.numpy.pad(x, widths, mode, constant_values)


# -- creation --------------------------------------------------------------------------------

def _creation_rule(shape, dtype=None):
    return rules.symbolic(_shape_arg(shape), dtypes.standardize_dtype(dtype or _floatx()))


@op(_creation_rule)
def zeros(shape, dtype=None):
    """A tensor of zeros (default dtype floatx)."""
    return backend.numpy.zeros(_shape_arg(shape), dtypes.standardize_dtype(dtype or _floatx()))


@op(_creation_rule)
def ones(shape, dtype=None):
    return backend.numpy.ones(_shape_arg(shape), dtypes.standardize_dtype(dtype or _floatx()))


def _full_dtype(fill_value, dtype):
    if dtype is not None:
        return dtypes.standardize_dtype(dtype)
    return rules.concrete_dtype(fill_value)


def _full_rule(shape, fill_value, dtype=None):
    shape = _shape_arg(shape)
    rules.broadcast_shapes(rules.shape_of(fill_value), shape)
    return rules.symbolic(shape, _full_dtype(fill_value, dtype))


@op(_full_rule)
def full(shape, fill_value, dtype=None):
    """A tensor filled with ``fill_value`` (broadcast); the dtype defaults to the fill's
    (Python int: int32, Python float: floatx)."""
    return backend.numpy.full(_shape_arg(shape), fill_value, _full_dtype(fill_value, dtype))


def _like_rule(x, dtype=None):
    dtype = rules.concrete_dtype(x) if dtype is None else dtypes.standardize_dtype(dtype)
    return rules.symbolic(rules.shape_of(x), dtype)


@op(_like_rule)
def zeros_like(x, dtype=None):
    dtype = rules.concrete_dtype(x) if dtype is None else dtypes.standardize_dtype(dtype)
    return backend.numpy.zeros_like(x, dtype)


@op(_like_rule)
def ones_like(x, dtype=None):
    dtype = rules.concrete_dtype(x) if dtype is None else dtypes.standardize_dtype(dtype)
    return backend.numpy.ones_like(x, dtype)


def _full_like_rule(x, fill_value, dtype=None):
    return _like_rule(x, dtype)


@op(_full_like_rule)
def full_like(x, fill_value, dtype=None):
    """Like ``full``, with x's shape and (by default) x's dtype."""
    dtype = rules.concrete_dtype(x) if dtype is None else dtypes.standardize_dtype(dtype)
    return backend.numpy.full_like(x, fill_value, dtype)


def _arange_args(start, stop, step, dtype):
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero.")
    if dtype is None:
        if builtins.all(isinstance(v, int) for v in (start, stop, step)):
            dtype = "int32"
        else:
            dtype = _floatx()
    return start, stop, step, dtypes.standardize_dtype(dtype)


def _arange_rule(start, stop=None, step=1, dtype=None):
    start, stop, step, dtype = _arange_args(start, stop, step, dtype)
    try:
        n = builtins.max(0, math.ceil((stop - start) / step))
    except TypeError:  # tensor bounds
        n = None
    return rules.symbolic((n,), dtype)


@op(_arange_rule)
def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in ``[start, stop)``: int32 for int arguments, else floatx."""
    start, stop, step, dtype = _arange_args(start, stop, step, dtype)
    return backend.numpy.arange(start, stop, step, dtype)


def _linspace_rule(start, stop, num=50, endpoint=True, dtype=None):
    return rules.symbolic((num,), dtypes.standardize_dtype(dtype or _floatx()))


@op(_linspace_rule)
def linspace(start, stop, num=50, endpoint=True, dtype=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` (scalars), floatx by default;
    an integer dtype floors the values like NumPy."""
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}.")
    return backend.numpy.linspace(start, stop, int(num), bool(endpoint),
                                  dtypes.standardize_dtype(dtype or _floatx()))


def _eye_rule(N, M=None, k=0, dtype=None):
    return rules.symbolic((N, N if M is None else M), dtypes.standardize_dtype(dtype or _floatx()))


@op(_eye_rule)
def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - NumPy's names
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    return backend.numpy.eye(int(N), int(N if M is None else M), int(k),
                             dtypes.standardize_dtype(dtype or _floatx()))


def _tri_rule(x, k=0):
    if len(rules.shape_of(x)) < 2:
        raise ValueError("tril/triu: the input must have at least 2 dims.")
    return rules.elementwise_unary(x)


@op(_tri_rule)
def tril(x, k=0):
    """Zero the elements above the ``k``-th diagonal of the last two dims."""
    return backend.numpy.tril(x, k)


@op(_tri_rule)
def triu(x, k=0):
    """Zero the elements below the ``k``-th diagonal of the last two dims."""
    return backend.numpy.triu(x, k)


# -- indexing, sorting -----------------------------------------------------------------------

def _take_rule(x, indices, axis=None):
    ishape = rules.shape_of(indices)
    if axis is None:
        return rules.symbolic(ishape, rules.concrete_dtype(x))
    shape = rules.shape_of(x)
    ax = rules.normalize_axis(axis, len(shape))
    return rules.symbolic(shape[:ax] + ishape + shape[ax + 1:], rules.concrete_dtype(x))


@op(_take_rule)
def take(x, indices, axis=None):
    """Elements at ``indices`` along ``axis`` (None: of the flattened tensor); negative
    indices count from the end."""
    return backend.numpy.take(x, _as_index(indices), axis)


def _take_along_axis_rule(x, indices, axis=None):
    ishape = rules.shape_of(indices)
    if axis is None:
        if len(ishape) != 1:
            raise ValueError("take_along_axis: with axis=None, indices must be 1-D.")
        return rules.symbolic(ishape, rules.concrete_dtype(x))
    shape = rules.shape_of(x)
    if len(shape) != len(ishape):
        raise ValueError(f"take_along_axis: x {shape} and indices {ishape} must have the "
                         f"same rank.")
    ax = rules.normalize_axis(axis, len(shape))
    rest = rules.broadcast_shapes(shape[:ax] + shape[ax + 1:], ishape[:ax] + ishape[ax + 1:])
    return rules.symbolic(rest[:ax] + (ishape[ax],) + rest[ax:], rules.concrete_dtype(x))


@op(_take_along_axis_rule)
def take_along_axis(x, indices, axis=None):
    """Pick values along ``axis`` with ``indices`` of the same rank (other dims broadcast),
    like the indices ``argsort`` returns; negative indices count from the end."""
    return backend.numpy.take_along_axis(x, _as_index(indices), axis)


def _sort_rule(x, axis=-1, **kwargs):
    shape = rules.shape_of(x)
    if axis is None:
        shape = (_prod(shape),)
    else:
        rules.normalize_axis(axis, len(shape))
    return rules.symbolic(shape, rules.concrete_dtype(x))


@op(_sort_rule)
def sort(x, axis=-1):
    """Sorted copy along ``axis`` (None: of the flattened tensor)."""
    return backend.numpy.sort(x, axis)


def _argsort_rule(x, axis=-1, stable=True):
    return rules.symbolic(_sort_rule(x, axis).shape, "int32")


@op(_argsort_rule)
def argsort(x, axis=-1, stable=True):
    """int32 indices that sort ``x`` along ``axis``. Stable by default, so that every
    backend orders ties the same way."""
    return backend.numpy.argsort(x, axis, stable)


def _diagonal_rule(x, offset=0, axis1=0, axis2=1):
    shape = rules.shape_of(x)
    a = rules.normalize_axis(axis1, len(shape), "axis1")
    b = rules.normalize_axis(axis2, len(shape), "axis2")
    if a == b:
        raise ValueError("diagonal: axis1 and axis2 must differ.")
    d1, d2 = shape[a], shape[b]
    if d1 is None or d2 is None:
        n = None
    elif offset >= 0:
        n = builtins.max(0, builtins.min(d1, d2 - offset))
    else:
        n = builtins.max(0, builtins.min(d1 + offset, d2))
    rest = tuple(d for i, d in enumerate(shape) if i not in (a, b))
    return rules.symbolic(rest + (n,), rules.concrete_dtype(x))


@op(_diagonal_rule)
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the (axis1, axis2) planes, as the last dim."""
    return backend.numpy.diagonal(x, offset, axis1, axis2)


# -- sizes -----------------------------------------------------------------------------------

def _size_rule(x):
    return rules.symbolic((), "int32")


@op(_size_rule)
def size(x):
    """Number of elements: a Python int when the shape is static (a scalar int32 tensor for
    dims only known at run time)."""
    return backend.numpy.size(x)


def ndim(x):
    """Number of dims, a Python int (also for symbolic tensors)."""
    return len(rules.shape_of(x))


__all__ = [name for name, value in list(globals().items())
           if not name.startswith("_") and callable(value)
           and getattr(value, "__module__", None) == __name__]
