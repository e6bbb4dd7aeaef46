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


def _convert(x, dtype=None):
    return backend.core.convert_to_tensor(x, dtype)


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
    if _is_tensor(first) and _same_dtype_tensors(first.dtype, xs[1:]):
        return xs
    dtype = rules.result_dtype(*xs)
    return tuple(_convert(x, dtype) for x in xs)


def _same_dtype_tensors(dtype, xs):
    # (no for/else here: TF's autograph cannot convert it inside tf.function)
    for x in xs:
        if not (_is_tensor(x) and x.dtype == dtype):
            return False
    return True


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
    if _is_tensor(first) and _standardize(first.dtype) in _FLOATS and \
            _same_dtype_tensors(first.dtype, xs[1:]):
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
    def fn(x):
        return getattr(backend.numpy, name)(_as_float(x))

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
    def fn(x1, x2):
        return getattr(backend.numpy, name)(*_pair(x1, x2))

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
