"""NumPy-named ops. Each is one function here, one per backend, and a shape rule.

Dtypes follow the one zoo rule (``dtypes.result_type``; Python scalars are weak) on every
backend, with these NumPy-like refinements, identical everywhere:

* ``divide``/``true_divide``/``arctan2`` and the float-valued unary functions (``sqrt``,
  ``exp``, ``sin``, ``floor``, ...) turn integer and bool inputs into floatx;
* ``mean``/``std``/``var`` of integers give floatx;
* ``sum``/``prod``/``cumsum``/``cumprod`` widen bool and 8/16-bit integers to int32, and keep
  every other dtype (int32 stays int32, unlike NumPy's int64);
* indices (``argmax``, ``argmin``, ``argsort``, ``count_nonzero``, one-argument ``where``)
  are int32; comparisons and logical ops give bool;
* creation ops default to float32 (floatx), or int32 for ``arange`` of Python ints.

Inside this module ``sum``, ``max``, ``min``, ``abs``, ``round``, ``any`` and ``all`` are the
ops: helpers use ``builtins.<name>`` for the Python functions.
"""
import builtins
import math

from zoo import backend
from zoo.backend.common import dtypes
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

_FLOATS = dtypes.FLOAT_TYPES
# Accumulating ops (sum, prod, cumsum, cumprod) widen these dtypes to int32.
_WIDEN = {"bool": "int32", "uint8": "int32", "int8": "int32", "int16": "int32",
          "uint16": "int32"}
_INDEX_DTYPES = ("int32", "int64")


# -- helpers ------------------------------------------------------------------------------
# The eager path is hot (torch eager overhead counts): tensors of the backend skip the
# generic conversion whenever their dtype already is the result's.

_is_tensor = backend.core.is_tensor
_convert = backend.core.convert_to_tensor
_standardize = dtypes.standardize_dtype


def _floatx():
    return dtypes.config.floatx()


def _kind(x):
    """zoo dtype name of ``x``; a Python scalar's default dtype."""
    if _is_tensor(x):
        return _standardize(x.dtype)
    return rules.concrete_dtype(x)


def _as_float(x):
    """``x`` unchanged if it is a float (the backend converts it), else cast to floatx."""
    if _kind(x) in _FLOATS:
        return x
    return backend.core.cast(x, _floatx())


def _as_bool(x):
    if _is_tensor(x) and _standardize(x.dtype) == "bool":
        return x
    return backend.core.cast(x, "bool")


def _widened(x):
    dtype = _kind(x)
    if dtype in _WIDEN:
        return backend.core.cast(x, _WIDEN[dtype])
    return x


def _promote(*xs):
    """Convert to the common dtype of ``xs`` (the zoo rule: ``dtypes.result_type``)."""
    first = xs[0]
    if _is_tensor(first):
        dtype = first.dtype
        for x in xs[1:]:
            if not (_is_tensor(x) and x.dtype == dtype):
                break
        else:
            return xs
    dtype = rules.result_dtype(*xs)
    return tuple(_convert(x, dtype) for x in xs)


def _pair(x1, x2):
    """``_promote`` for binary ops whose backend functions also take a Python scalar second
    operand: one that would not change the tensor's dtype is passed as is (every backend
    treats it as weak, like zoo)."""
    if _is_tensor(x1):
        t2 = type(x2)
        if t2 is float or t2 is int:
            kind = _standardize(x1.dtype)
            if kind in _FLOATS or (t2 is int and kind != "bool"):
                return x1, x2
        elif _is_tensor(x2) and x1.dtype == x2.dtype:
            return x1, x2
    return _promote(x1, x2)


def _promote_float(*xs):
    """Convert to the common dtype of ``xs``, floatx at least."""
    first = xs[0]
    if _is_tensor(first) and _standardize(first.dtype) in _FLOATS:
        for x in xs[1:]:
            if not (_is_tensor(x) and x.dtype == first.dtype):
                break
        else:
            return xs
    dtype = rules.result_dtype(*xs)
    if dtype not in _FLOATS:
        dtype = _floatx()
    return tuple(_convert(x, dtype) for x in xs)


def _pair_float(x1, x2):
    """``_pair`` for ops whose integer inputs become floats (divide)."""
    if _is_tensor(x1) and _standardize(x1.dtype) in _FLOATS:
        t2 = type(x2)
        if t2 is float or t2 is int or (_is_tensor(x2) and x1.dtype == x2.dtype):
            return x1, x2
    return _promote_float(x1, x2)


def _as_index(x):
    """Index tensors are int32 or int64; anything else (lists, uint8, ...) becomes int32."""
    if _is_tensor(x) and _standardize(x.dtype) in _INDEX_DTYPES:
        return x
    if rules.dtype_of(x) in _INDEX_DTYPES:
        return x
    return _convert(x, "int32")


def _prod(dims):
    """Product of static dims, None if any is unknown."""
    total = 1
    for d in dims:
        if d is None:
            return None
        total *= d
    return total


def _axes_tuple(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)


def _shape_arg(shape):
    return tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)


def _rank_differs(shapes, rank):
    return builtins.any(len(s) != rank for s in shapes)


def _moveaxis_perm(ndim, source, destination):
    source = [rules.normalize_axis(a, ndim, "source") for a in _axes_tuple(source)]
    destination = [rules.normalize_axis(a, ndim, "destination") for a in _axes_tuple(destination)]
    if len(source) != len(destination):
        raise ValueError("moveaxis: `source` and `destination` must have the same length.")
    perm = [i for i in range(ndim) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        perm.insert(dest, src)
    return perm


# -- elementwise arithmetic ----------------------------------------------------------------

@op(rules.elementwise_binary)
def add(x1, x2):
    return backend.numpy.add(*_pair(x1, x2))


@op(rules.elementwise_binary)
def subtract(x1, x2):
    return backend.numpy.subtract(*_pair(x1, x2))


@op(rules.elementwise_binary)
def multiply(x1, x2):
    return backend.numpy.multiply(*_pair(x1, x2))


@op(rules.elementwise_binary_float)
def divide(x1, x2):
    """True division; integer inputs give floatx."""
    return backend.numpy.divide(*_pair_float(x1, x2))


@op(rules.elementwise_binary_float)
def true_divide(x1, x2):
    return backend.numpy.true_divide(*_pair_float(x1, x2))


@op(rules.elementwise_binary)
def floor_divide(x1, x2):
    """Division rounded towards minus infinity (Python's ``//``)."""
    return backend.numpy.floor_divide(*_pair(x1, x2))


@op(rules.elementwise_binary)
def mod(x1, x2):
    """Remainder with the sign of the divisor (Python's ``%``)."""
    return backend.numpy.mod(*_pair(x1, x2))


@op(rules.elementwise_binary)
def power(x1, x2):
    return backend.numpy.power(*_pair(x1, x2))


@op(rules.elementwise_binary)
def maximum(x1, x2):
    return backend.numpy.maximum(*_promote(x1, x2))


@op(rules.elementwise_binary)
def minimum(x1, x2):
    return backend.numpy.minimum(*_promote(x1, x2))


@op(rules.elementwise_binary_float)
def arctan2(x1, x2):
    return backend.numpy.arctan2(*_promote_float(x1, x2))


def _clip_rule(x, x_min=None, x_max=None):
    args = [a for a in (x, x_min, x_max) if a is not None]
    shape = rules.broadcast_shapes(*(rules.shape_of(a) for a in args))
    return rules.symbolic(shape, rules.result_dtype(*args))


@op(_clip_rule)
def clip(x, x_min=None, x_max=None):
    """Limit values to ``[x_min, x_max]`` (either bound may be None). Bounds promote with x
    as weak scalars: ``clip(int_x, 0, 5)`` stays int, ``clip(int_x, 0.5, 2.5)`` is floatx."""
    if _is_tensor(x):
        kind = _standardize(x.dtype)
        if _weak_keeps(x_min, kind) and _weak_keeps(x_max, kind):
            return backend.numpy.clip(x, x_min, x_max)
    args = [a for a in (x, x_min, x_max) if a is not None]
    dtype = rules.result_dtype(*args)
    return backend.numpy.clip(
        _convert(x, dtype),
        None if x_min is None else _convert(x_min, dtype),
        None if x_max is None else _convert(x_max, dtype),
    )


def _weak_keeps(value, kind):
    """Whether ``value`` is None or a Python scalar that leaves dtype ``kind`` unchanged."""
    t = type(value)
    return value is None or (t is float and kind in _FLOATS) or (t is int and kind != "bool")


# -- elementwise unary ---------------------------------------------------------------------

@op(rules.elementwise_unary)
def negative(x):
    return backend.numpy.negative(x)


@op(rules.elementwise_unary)
def abs(x):  # noqa: A001 - NumPy's name
    return backend.numpy.abs(x)


@op(rules.elementwise_unary)
def sign(x):
    return backend.numpy.sign(x)


@op(rules.elementwise_unary)
def square(x):
    return backend.numpy.square(x)


def _round_rule(x, decimals=0):
    return rules.elementwise_unary(x)


@op(_round_rule)
def round(x, decimals=0):  # noqa: A001 - NumPy's name
    """Round half to even (like NumPy), to ``decimals`` places; integers are unchanged
    (for ``decimals >= 0``)."""
    return backend.numpy.round(x, decimals)


def _unary_float(name, doc=None):
    backend_fn = getattr(backend.numpy, name)

    def fn(x):
        return backend_fn(_as_float(x))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}``; integer and bool inputs give floatx."
    fn.__module__ = __name__
    return op(rules.elementwise_unary_float)(fn)


sqrt = _unary_float("sqrt")
rsqrt = _unary_float("rsqrt", "Elementwise ``1 / sqrt(x)``; integer and bool inputs give floatx.")
exp = _unary_float("exp")
expm1 = _unary_float("expm1")
log = _unary_float("log")
log1p = _unary_float("log1p")
log2 = _unary_float("log2")
log10 = _unary_float("log10")
sin = _unary_float("sin")
cos = _unary_float("cos")
tan = _unary_float("tan")
arcsin = _unary_float("arcsin")
arccos = _unary_float("arccos")
arctan = _unary_float("arctan")
sinh = _unary_float("sinh")
cosh = _unary_float("cosh")
tanh = _unary_float("tanh")
arcsinh = _unary_float("arcsinh")
arccosh = _unary_float("arccosh")
arctanh = _unary_float("arctanh")
floor = _unary_float("floor")
ceil = _unary_float("ceil")


# -- comparisons and logic -------------------------------------------------------------------

def _comparison(name):
    backend_fn = getattr(backend.numpy, name)

    def fn(x1, x2):
        return backend_fn(*_pair(x1, x2))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` after promoting both inputs; gives bool."
    fn.__module__ = __name__
    return op(rules.elementwise_binary_bool)(fn)


equal = _comparison("equal")
not_equal = _comparison("not_equal")
less = _comparison("less")
less_equal = _comparison("less_equal")
greater = _comparison("greater")
greater_equal = _comparison("greater_equal")


@op(rules.elementwise_binary_bool)
def logical_and(x1, x2):
    return backend.numpy.logical_and(_as_bool(x1), _as_bool(x2))


@op(rules.elementwise_binary_bool)
def logical_or(x1, x2):
    return backend.numpy.logical_or(_as_bool(x1), _as_bool(x2))


@op(rules.elementwise_binary_bool)
def logical_xor(x1, x2):
    return backend.numpy.logical_xor(_as_bool(x1), _as_bool(x2))


@op(rules.elementwise_unary_bool)
def logical_not(x):
    return backend.numpy.logical_not(_as_bool(x))


@op(rules.elementwise_unary_bool)
def isnan(x):
    return backend.numpy.isnan(x)


@op(rules.elementwise_unary_bool)
def isinf(x):
    return backend.numpy.isinf(x)


@op(rules.elementwise_unary_bool)
def isfinite(x):
    return backend.numpy.isfinite(x)


def _isclose_rule(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return rules.elementwise_binary_bool(x1, x2)


@op(_isclose_rule)
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """``|x1 - x2| <= atol + rtol * |x2|`` elementwise (NumPy's defaults)."""
    x1, x2 = _promote(x1, x2)
    return backend.numpy.isclose(x1, x2, rtol, atol, equal_nan)


def _where_rule(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return tuple(rules.symbolic((None,), "int32") for _ in rules.shape_of(condition))
    if x1 is None or x2 is None:
        raise ValueError("where: give both `x1` and `x2`, or neither.")
    shape = rules.broadcast_shapes(rules.shape_of(condition), rules.shape_of(x1),
                                   rules.shape_of(x2))
    return rules.symbolic(shape, rules.result_dtype(x1, x2))


@op(_where_rule)
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2`` (broadcast, promoted). With the condition alone,
    the indices of its non-zero elements: a tuple of int32 vectors, one per dimension (a
    data-dependent shape, so not usable under jax.jit)."""
    if x1 is None and x2 is None:
        return backend.numpy.where(_as_bool(condition))
    if x1 is None or x2 is None:
        raise ValueError("where: give both `x1` and `x2`, or neither.")
    x1, x2 = _pair(x1, x2)
    return backend.numpy.where(_as_bool(condition), x1, x2)


# -- reductions ----------------------------------------------------------------------------

def _sum_rule(x, axis=None, keepdims=False):
    dtype = rules.concrete_dtype(x)
    return rules.symbolic(rules.reduced_shape(rules.shape_of(x), axis, keepdims),
                          _WIDEN.get(dtype, dtype))


@op(_sum_rule)
def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Sum over ``axis`` (None: all). bool and 8/16-bit ints give int32."""
    return backend.numpy.sum(_widened(x), axis, keepdims)


@op(_sum_rule)
def prod(x, axis=None, keepdims=False):
    return backend.numpy.prod(_widened(x), axis, keepdims)


@op(rules.reduction_float)
def mean(x, axis=None, keepdims=False):
    return backend.numpy.mean(_as_float(x), axis, keepdims)


def _var_rule(x, axis=None, keepdims=False, ddof=0):
    return rules.reduction_float(x, axis, keepdims)


@op(_var_rule)
def var(x, axis=None, keepdims=False, ddof=0):
    """Variance; ``ddof`` is NumPy's delta degrees of freedom (divisor ``N - ddof``)."""
    return backend.numpy.var(_as_float(x), axis, keepdims, ddof)


@op(_var_rule)
def std(x, axis=None, keepdims=False, ddof=0):
    return backend.numpy.std(_as_float(x), axis, keepdims, ddof)


@op(rules.reduction)
def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    return backend.numpy.max(x, axis, keepdims)


@op(rules.reduction)
def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    return backend.numpy.min(x, axis, keepdims)


@op(rules.reduction_bool)
def any(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    return backend.numpy.any(_as_bool(x), axis, keepdims)


@op(rules.reduction_bool)
def all(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    return backend.numpy.all(_as_bool(x), axis, keepdims)


def _arg_rule(x, axis=None, keepdims=False):
    if axis is not None and not isinstance(axis, int):
        raise ValueError(f"axis must be an int or None, got {axis!r}.")
    return rules.reduction_index(x, axis, keepdims)


@op(_arg_rule)
def argmax(x, axis=None, keepdims=False):
    """Index (int32) of the first maximum along ``axis`` (None: of the flattened tensor)."""
    return backend.numpy.argmax(x, axis, keepdims)


@op(_arg_rule)
def argmin(x, axis=None, keepdims=False):
    return backend.numpy.argmin(x, axis, keepdims)


@op(rules.reduction_index)
def count_nonzero(x, axis=None, keepdims=False):
    """Number of non-zero elements (int32)."""
    return backend.numpy.count_nonzero(x, axis, keepdims)


def _cumulative_rule(x, axis=None, dtype=None):
    shape = rules.shape_of(x)
    if axis is None:
        shape = (_prod(shape),)
    else:
        rules.normalize_axis(axis, len(shape))
    if dtype is None:
        dtype = rules.concrete_dtype(x)
        dtype = _WIDEN.get(dtype, dtype)
    return rules.symbolic(shape, dtypes.standardize_dtype(dtype))


def _cumulative_input(x, dtype):
    if dtype is not None:
        return backend.core.cast(x, dtype)
    return _widened(x)


@op(_cumulative_rule)
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (None: of the flattened tensor)."""
    return backend.numpy.cumsum(_cumulative_input(x, dtype), axis)


@op(_cumulative_rule)
def cumprod(x, axis=None, dtype=None):
    return backend.numpy.cumprod(_cumulative_input(x, dtype), axis)


# -- linear algebra --------------------------------------------------------------------------

def _matmul_rule(x1, x2):
    a, b = rules.shape_of(x1), rules.shape_of(x2)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("matmul: inputs must have at least one dimension.")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] is not None and b2[-2] is not None and a2[-1] != b2[-2]:
        raise ValueError(f"matmul: shapes {a} and {b} do not match "
                         f"(inner dims {a2[-1]} != {b2[-2]}).")
    try:
        batch = rules.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of shapes {a} and {b} cannot be broadcast.") from None
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return rules.symbolic(out, rules.result_dtype(x1, x2))


@op(_matmul_rule)
def matmul(x1, x2):
    """Matrix product with NumPy broadcasting of the batch dims (1-D inputs are vectors)."""
    return backend.numpy.matmul(*_promote(x1, x2))


def _check_contract(name, a, b, da, db):
    if da is not None and db is not None and da != db:
        raise ValueError(f"{name}: shapes {a} and {b} are not aligned ({da} != {db}).")


def _dot_rule(x1, x2):
    a, b = rules.shape_of(x1), rules.shape_of(x2)
    dtype = rules.result_dtype(x1, x2)
    if not a or not b:
        return rules.symbolic(a or b, dtype)
    if len(b) == 1:
        _check_contract("dot", a, b, a[-1], b[0])
        return rules.symbolic(a[:-1], dtype)
    _check_contract("dot", a, b, a[-1], b[-2])
    return rules.symbolic(a[:-1] + b[:-2] + b[-1:], dtype)


@op(_dot_rule)
def dot(x1, x2):
    """NumPy's ``dot``: sum over the last axis of x1 and the second-to-last of x2."""
    return backend.numpy.dot(*_promote(x1, x2))


def _parse_einsum(subscripts, shapes):
    """-> (output labels as a string with '.' for ellipsis dims, dims by label, ellipsis shape)."""
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        inputs, output = subs.split("->")
    else:
        inputs, output = subs, None
    specs = inputs.split(",")
    if len(specs) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(specs)} operands, got {len(shapes)}.")
    dims, ellipsis, counts = {}, (), {}
    for spec, shape in zip(specs, shapes):
        if "..." in spec:
            left, right = spec.split("...")
            n = len(shape) - len(left) - len(right)
            if n < 0:
                raise ValueError(f"einsum: operand of shape {shape} has too few dims for {spec!r}.")
            try:
                ellipsis = rules.broadcast_shapes(ellipsis, shape[len(left):len(left) + n])
            except ValueError:
                raise ValueError(f"einsum: ellipsis dims of {subscripts!r} cannot be broadcast "
                                 f"(shapes {shapes}).") from None
            pairs = list(zip(left, shape)) + list(zip(right, shape[len(left) + n:]))
        else:
            if len(spec) != len(shape):
                raise ValueError(f"einsum: {spec!r} has {len(spec)} labels for an operand of "
                                 f"shape {shape}.")
            pairs = list(zip(spec, shape))
        for label, d in pairs:
            counts[label] = counts.get(label, 0) + 1
            old = dims.get(label, 1)
            if label not in dims or old == 1:
                dims[label] = d
            elif d is None or d == 1:
                continue
            elif old is None:
                dims[label] = d
            elif old != d:
                raise ValueError(f"einsum: label {label!r} of {subscripts!r} has sizes {old} "
                                 f"and {d} (shapes {shapes}).")
    if output is None:
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(label for label, c in counts.items() if c == 1))
    return output, dims, ellipsis


def _einsum_rule(subscripts, *operands):
    output, dims, ellipsis = _parse_einsum(subscripts, [rules.shape_of(x) for x in operands])
    shape = []
    left, _, right = output.partition("...")
    for label in left:
        shape.append(dims[label])
    if "..." in output:
        shape.extend(ellipsis)
    for label in right:
        shape.append(dims[label])
    return rules.symbolic(tuple(shape), rules.result_dtype(*operands))


@op(_einsum_rule)
def einsum(subscripts, *operands):
    """Einstein summation (``"bij,bjk->bik"``, with ``...`` and implicit outputs)."""
    return backend.numpy.einsum(subscripts, *_promote(*operands))


def _tensordot_axes(axes, na, nb):
    if isinstance(axes, int):
        if axes < 0 or axes > builtins.min(na, nb):
            raise ValueError(f"tensordot: axes={axes} is invalid for ranks {na} and {nb}.")
        return list(range(na - axes, na)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [rules.normalize_axis(a, na) for a in _axes_tuple(a_axes)]
    b_axes = [rules.normalize_axis(b, nb) for b in _axes_tuple(b_axes)]
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: axes {axes} must name as many dims of each input.")
    return a_axes, b_axes


def _tensordot_rule(x1, x2, axes=2):
    a, b = rules.shape_of(x1), rules.shape_of(x2)
    a_axes, b_axes = _tensordot_axes(axes, len(a), len(b))
    for i, j in zip(a_axes, b_axes):
        _check_contract("tensordot", a, b, a[i], b[j])
    shape = tuple(d for i, d in enumerate(a) if i not in a_axes) + \
        tuple(d for j, d in enumerate(b) if j not in b_axes)
    return rules.symbolic(shape, rules.result_dtype(x1, x2))


@op(_tensordot_rule)
def tensordot(x1, x2, axes=2):
    """Sum products over ``axes``: an int N (last N of x1 with first N of x2) or a pair of
    axis lists."""
    x1, x2 = _promote(x1, x2)
    if not isinstance(axes, int):
        axes = _tensordot_axes(axes, len(x1.shape), len(x2.shape))
    return backend.numpy.tensordot(x1, x2, axes)


def _outer_rule(x1, x2):
    return rules.symbolic((_prod(rules.shape_of(x1)), _prod(rules.shape_of(x2))),
                          rules.result_dtype(x1, x2))


@op(_outer_rule)
def outer(x1, x2):
    """Outer product of the flattened inputs."""
    return backend.numpy.outer(*_promote(x1, x2))


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
