"""Neural-network ops: activations, normalization, convolution, pooling, attention, losses.

Float functions give integer inputs the default float dtype (``floatx``). Images and
sequences are channels-last unless ``data_format="channels_first"``; a conv kernel is
``(*spatial, in_channels // groups, out_channels)`` and ``groups`` follows from the shapes.
"""
import math

from zoo import backend
from zoo.backend.common import dtypes
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = [
    "linear",
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "gelu", "elu",
    "selu", "leaky_relu", "hard_sigmoid", "hard_silu", "log_sigmoid", "softmax",
    "log_softmax", "layer_norm", "one_hot", "conv", "max_pool", "average_pool",
    "dot_product_attention", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "moments",
]

_HALF = ("float16", "bfloat16")


def _float_dtype(*xs):
    dtype = rules.result_dtype(*[x for x in xs if x is not None])
    return dtype if dtypes.is_float(dtype) else dtypes.config.floatx()


def _floats(*xs):
    """Convert to backend tensors of one float dtype (integers become floatx)."""
    core = backend.core
    dtype = None
    for x in xs:  # the hot path: tensors already of one float dtype pass through
        if x is None:
            continue
        if not core.is_tensor(x):
            break
        current = core.dtype_of(x)
        if dtype is not None and current != dtype:
            break
        dtype = current
    else:
        if dtype in dtypes.FLOAT_TYPES:
            return list(xs)
    dtype = _float_dtype(*xs)
    return [None if x is None else core.convert_to_tensor(x, dtype) for x in xs]


def _float(x):
    if backend.core.is_tensor(x) and backend.core.dtype_of(x) in dtypes.FLOAT_TYPES:
        return x  # the hot path: already a float tensor
    return _floats(x)[0]


def _in_float32(fn, x, *args):
    """Run ``fn(x, *args)`` in float32 when x is half precision; give back x's dtype."""
    dtype = backend.core.dtype_of(x)
    if dtype in _HALF:
        return backend.core.cast(fn(backend.core.cast(x, "float32"), *args), dtype)
    return fn(x, *args)


# -- activations --------------------------------------------------------------------------

LINEAR_ACTIVATIONS = ("relu", "gelu", "silu")  # those linear() can apply itself


def _check_linear_activation(activation, what="linear"):
    if activation is not None and activation not in LINEAR_ACTIVATIONS:
        raise ValueError(f"{what}: activation must be None or one of {LINEAR_ACTIVATIONS}, "
                         f"got {activation!r}.")


def _linear_rule(x, kernel, bias=None, activation=None):
    _check_linear_activation(activation)
    shape = rules.shape_of(x)
    k = rules.shape_of(kernel)
    if len(k) != 2 or not shape or (shape[-1] is not None and k[0] is not None
                                    and shape[-1] != k[0]):
        raise ValueError(f"linear: inputs of shape {shape} and kernel of shape {k} do not "
                         f"match (kernel must be (in, out) with in = the last input dim).")
    return rules.symbolic(shape[:-1] + (k[1],), _float_dtype(x, kernel, bias))


@op(_linear_rule)
def linear(x, kernel, bias=None, activation=None):
    """``activation(x @ kernel + bias)`` over the last axis of ``x``: kernel (in, out), bias
    (out,), activation None or one of ``LINEAR_ACTIVATIONS`` (gelu: the exact form). One
    fused kernel where the framework has one (torch addmm), and on torch without autograd
    the activation overwrites the fresh product instead of allocating another."""
    _check_linear_activation(activation)
    x, kernel, bias = _floats(x, kernel, bias)
    return backend.nn.linear(x, kernel, bias, activation)


@op(rules.elementwise_unary_float)
def relu(x):
    return backend.nn.relu(_float(x))


@op(rules.elementwise_unary_float)
def relu6(x):
    return backend.nn.relu6(_float(x))


@op(rules.elementwise_unary_float)
def sigmoid(x):
    return backend.nn.sigmoid(_float(x))


@op(rules.elementwise_unary_float)
def softplus(x):
    return backend.nn.softplus(_float(x))


@op(rules.elementwise_unary_float)
def softsign(x):
    return backend.nn.softsign(_float(x))


@op(rules.elementwise_unary_float)
def silu(x):
    """x * sigmoid(x)."""
    return backend.nn.silu(_float(x))


swish = silu


@op(rules.elementwise_unary_float)
def gelu(x, approximate=False):
    """Exact ``x * Phi(x)`` (erf form) by default; ``approximate=True`` is the tanh form."""
    return backend.nn.gelu(_float(x), bool(approximate))


@op(rules.elementwise_unary_float)
def elu(x, alpha=1.0):
    return backend.nn.elu(_float(x), alpha)


@op(rules.elementwise_unary_float)
def selu(x):
    return backend.nn.selu(_float(x))


@op(rules.elementwise_unary_float)
def leaky_relu(x, negative_slope=0.2):
    return backend.nn.leaky_relu(_float(x), negative_slope)


@op(rules.elementwise_unary_float)
def hard_sigmoid(x):
    """relu6(x + 3) / 6."""
    return backend.nn.hard_sigmoid(_float(x))


@op(rules.elementwise_unary_float)
def hard_silu(x):
    """x * hard_sigmoid(x)."""
    return backend.nn.hard_silu(_float(x))


@op(rules.elementwise_unary_float)
def log_sigmoid(x):
    return backend.nn.log_sigmoid(_float(x))


def _axes(axis, ndim):
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(sorted(rules.normalize_axis(a, ndim) for a in axes))


@op(rules.elementwise_unary_float)
def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int or a tuple); half precision is computed in float32."""
    x = _float(x)
    return _in_float32(backend.nn.softmax, x, _axes(axis, len(x.shape)))


@op(rules.elementwise_unary_float)
def log_softmax(x, axis=-1):
    x = _float(x)
    return _in_float32(backend.nn.log_softmax, x, _axes(axis, len(x.shape)))


# -- normalization ------------------------------------------------------------------------

def _layer_norm_rule(x, gamma=None, beta=None, axis=-1, epsilon=1e-5):
    return rules.symbolic(rules.shape_of(x), _float_dtype(x))


@op(_layer_norm_rule)
def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-5):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta over ``axis`` (int or tuple).

    ``gamma``/``beta`` have the shape of the normalized axes. fp16/bf16 inputs are computed
    in float32 and the result has x's dtype.
    """
    dtype = _float_dtype(x)
    compute = "float32" if dtype in _HALF else dtype
    x = backend.core.convert_to_tensor(x, compute)
    ndim = len(x.shape)
    axes = _axes(axis, ndim)
    params = []
    for p in (gamma, beta):
        if p is not None:
            p = backend.core.convert_to_tensor(p, compute)
            if axes != tuple(range(ndim - len(axes), ndim)):  # broadcast over other axes
                shape = [1] * ndim
                for a, d in zip(axes, p.shape):
                    shape[a] = int(d)
                p = backend.numpy.reshape(p, tuple(shape))
        params.append(p)
    out = backend.nn.layer_norm(x, params[0], params[1], axes, float(epsilon))
    return backend.core.cast(out, dtype)


def _moments_rule(x, axes, keepdims=False):
    out = rules.symbolic(rules.reduced_shape(rules.shape_of(x), axes, keepdims), _float_dtype(x))
    return out, rules.symbolic(out.shape, out.dtype)


@op(_moments_rule)
def moments(x, axes, keepdims=False):
    """(mean, variance) over ``axes``; half precision is computed in float32."""
    x = _float(x)
    axes = _axes(axes, len(x.shape))
    dtype = backend.core.dtype_of(x)
    if dtype in _HALF:
        mean, var = backend.nn.moments(backend.core.cast(x, "float32"), axes, keepdims)
        return backend.core.cast(mean, dtype), backend.core.cast(var, dtype)
    return backend.nn.moments(x, axes, keepdims)


def _one_hot_rule(x, num_classes, axis=-1, dtype="float32"):
    shape = list(rules.shape_of(x))
    axis = axis % (len(shape) + 1)
    shape.insert(axis, num_classes)
    return rules.symbolic(shape, dtypes.standardize_dtype(dtype))


@op(_one_hot_rule)
def one_hot(x, num_classes, axis=-1, dtype="float32"):
    """Indices -> one-hot vectors along ``axis``. Out-of-range indices give all zeros."""
    x = backend.core.convert_to_tensor(x)
    axis = axis % (len(x.shape) + 1)
    return backend.nn.one_hot(x, int(num_classes), axis, dtypes.standardize_dtype(dtype))


# -- convolution and pooling --------------------------------------------------------------

def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value}.")
    return value


def _check_format(padding, data_format):
    padding = padding.lower() if isinstance(padding, str) else padding
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    return padding


def _spatial(shape, data_format):
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def _out_size(size, k, stride, dilation, padding):
    """One spatial dim's output size; ``padding`` is "valid", "same" or (before, after)."""
    if isinstance(padding, tuple):
        size = None if size is None else size + padding[0] + padding[1]
        padding = "valid"
    if size is None or (k is None and padding == "valid"):
        return None
    if padding == "same":
        return -(-size // stride)
    return max((size - (k - 1) * dilation - 1) // stride + 1, 0)


def explicit_padding(padding, n, what="conv"):
    """Explicit zero padding as torch takes it: an int (every side), n ints (both sides of
    each spatial dim) or n (before, after) pairs -> n (before, after) pairs."""
    if isinstance(padding, int):
        padding = (padding,) * n
    try:
        pairs = tuple((int(p), int(p)) if isinstance(p, int) else tuple(int(q) for q in p)
                      for p in padding)
    except (TypeError, ValueError):
        pairs = ()
    if len(pairs) != n or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{what}: padding must be 'valid', 'same', an int, {n} ints or {n} "
                         f"(before, after) pairs of non-negative ints, got {padding!r}.")
    return pairs


def _conv_padding(padding, n, data_format):
    """"valid" | "same" | explicit zero padding -> "valid" | "same" | n (before, after)."""
    if isinstance(padding, str):
        return _check_format(padding, data_format)
    _check_format("valid", data_format)
    return explicit_padding(padding, n)


def _assemble(batch, channels, spatial, data_format):
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def _conv_rule(inputs, kernel, strides=1, padding="valid", data_format="channels_last",
               dilation_rate=1, bias=None, activation=None):
    _check_linear_activation(activation, "conv")
    x, k = rules.shape_of(inputs), rules.shape_of(kernel)
    n = len(x) - 2
    if len(k) != n + 2:
        raise ValueError(f"conv: kernel of rank {len(k)} for inputs of rank {len(x)}; the kernel "
                         f"is (*spatial, in_channels // groups, out_channels).")
    padding = _conv_padding(padding, n, data_format)
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    channels = x[-1] if data_format == "channels_last" else x[1]
    if channels is not None and k[-2] is not None and channels % k[-2]:
        raise ValueError(f"conv: {channels} input channels is not a multiple of the kernel's "
                         f"{k[-2]} (in_channels // groups).")
    pads = padding if isinstance(padding, tuple) else (padding,) * n
    spatial = [_out_size(s, ks, st, d, p)
               for s, ks, st, d, p in zip(_spatial(x, data_format), k[:-2], strides, dilation, pads)]
    out = _assemble(x[0], k[-1], spatial, data_format)
    return rules.symbolic(out, _float_dtype(inputs, kernel))


@op(_conv_rule)
def conv(inputs, kernel, strides=1, padding="valid", data_format="channels_last",
         dilation_rate=1, bias=None, activation=None):
    """N-D convolution (1D and 2D on every backend; 3D where the framework has it), and
    optionally ``activation(conv + bias)``: bias (out_channels,), activation None or one of
    ``LINEAR_ACTIVATIONS``, in one framework call where it has one (torch's conv takes the
    bias; without autograd the activation overwrites the fresh output, as ``linear`` does).

    "same" padding follows TensorFlow: total padding per spatial dim is
    ``max((ceil(in / stride) - 1) * stride + (k - 1) * dilation + 1 - in, 0)``, with
    ``total // 2`` before and the rest after. Explicit zero padding, as torch takes it: an
    int (every side), one int per spatial dim (both its sides) or (before, after) pairs;
    backends get it as pairs. ``padding=1`` with a 3x3 kernel and stride 2 pads (1, 1),
    where "same" would pad (0, 1) on an even size.
    """
    _check_linear_activation(activation, "conv")
    inputs, kernel, bias = _floats(inputs, kernel, bias)
    n = len(inputs.shape) - 2
    padding = _conv_padding(padding, n, data_format)
    return backend.nn.conv(inputs, kernel, _tuple(strides, n, "strides"), padding, data_format,
                           _tuple(dilation_rate, n, "dilation_rate"), bias, activation)


def _pool_args(inputs, pool_size, strides, padding, data_format):
    n = len(rules.shape_of(inputs)) - 2
    pool_size = _tuple(pool_size, n, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, n, "strides")
    return pool_size, strides, _check_format(padding, data_format)


def _pool_rule(inputs, pool_size, strides=None, padding="valid", data_format="channels_last"):
    pool_size, strides, padding = _pool_args(inputs, pool_size, strides, padding, data_format)
    x = rules.shape_of(inputs)
    channels = x[-1] if data_format == "channels_last" else x[1]
    spatial = [_out_size(s, k, st, 1, padding)
               for s, k, st in zip(_spatial(x, data_format), pool_size, strides)]
    return rules.symbolic(_assemble(x[0], channels, spatial, data_format), _float_dtype(inputs))


@op(_pool_rule)
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Max over windows; ``strides`` defaults to ``pool_size``; "same" pads with -inf."""
    args = _pool_args(inputs, pool_size, strides, padding, data_format)
    return backend.nn.max_pool(_float(inputs), *args, data_format)


@op(_pool_rule)
def average_pool(inputs, pool_size, strides=None, padding="valid",
                 data_format="channels_last"):
    """Mean over windows; with "same" padding only the in-bounds elements are averaged."""
    args = _pool_args(inputs, pool_size, strides, padding, data_format)
    return backend.nn.average_pool(_float(inputs), *args, data_format)


# -- attention ----------------------------------------------------------------------------

def _attention_rule(query, key, value, bias=None, mask=None, is_causal=False, scale=None):
    q, k, v = rules.shape_of(query), rules.shape_of(key), rules.shape_of(value)
    if len(q) != 4 or len(k) != 4 or len(v) != 4:
        raise ValueError("dot_product_attention: query, key and value must be "
                         "(batch, seq, heads, head_dim).")
    if q[2] is not None and k[2] is not None and q[2] % k[2]:
        raise ValueError(f"dot_product_attention: {q[2]} query heads is not a multiple of "
                         f"{k[2]} key/value heads.")
    return rules.symbolic(q[:3] + v[3:], _float_dtype(query, key, value))


@op(_attention_rule)
def dot_product_attention(query, key, value, bias=None, mask=None, is_causal=False,
                          scale=None):
    """softmax(q k^T * scale + bias, masked) v, with inputs (batch, seq, heads, head_dim).

    * ``key``/``value`` may have fewer heads than ``query`` (grouped-query attention).
    * ``bias`` (float) is added to the logits; ``mask`` (bool, True = attend) must broadcast
      to (batch, heads, q_len, kv_len). Masked logits become a large negative number, so a
      fully masked row gives the mean of the values.
    * ``is_causal``: query i sees keys j <= i + kv_len - q_len (bottom-right aligned, so the
      last query sees every key, as in KV-cache decoding).
    * ``scale`` defaults to 1 / sqrt(head_dim).
    Uses the framework's fused kernel where it has one (JAX, PyTorch).
    """
    query, key, value = _floats(query, key, value)
    if bias is not None:
        bias = backend.core.convert_to_tensor(bias, backend.core.dtype_of(query))
    if mask is not None:
        mask = backend.core.cast(mask, "bool")
    if scale is None:
        scale = 1.0 / math.sqrt(int(query.shape[-1]))
    return backend.nn.dot_product_attention(query, key, value, bias, mask, bool(is_causal),
                                            float(scale))


# -- loss primitives ----------------------------------------------------------------------

def _binary_ce_rule(target, output, from_logits=False):
    shape = rules.broadcast_shapes(rules.shape_of(target), rules.shape_of(output))
    return rules.symbolic(shape, _float_dtype(output))


@op(_binary_ce_rule)
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -(t log p + (1 - t) log(1 - p)); probabilities are clipped to
    [epsilon, 1 - epsilon] (``zoo.config.epsilon()``)."""
    dtype = _float_dtype(output)
    output = backend.core.convert_to_tensor(output, dtype)
    target = backend.core.convert_to_tensor(target, dtype)
    return backend.nn.binary_crossentropy(target, output, bool(from_logits))


def _categorical_ce_rule(target, output, from_logits=False, axis=-1):
    shape = rules.broadcast_shapes(rules.shape_of(target), rules.shape_of(output))
    return rules.symbolic(rules.reduced_shape(shape, axis, False), _float_dtype(output))


@op(_categorical_ce_rule)
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(t * log p) over ``axis``; probabilities are renormalized along ``axis`` and
    clipped to [epsilon, 1 - epsilon]."""
    dtype = _float_dtype(output)
    output = backend.core.convert_to_tensor(output, dtype)
    target = backend.core.convert_to_tensor(target, dtype)
    axis = rules.normalize_axis(axis, len(output.shape))
    return backend.nn.categorical_crossentropy(target, output, bool(from_logits), axis)


def _sparse_target_shape(target, output, axis):
    t, o = rules.shape_of(target), rules.shape_of(output)
    axis = rules.normalize_axis(axis, len(o))
    if len(t) == len(o) and t[axis] == 1:
        t = t[:axis] + t[axis + 1:]
    return t, axis


def _sparse_ce_rule(target, output, from_logits=False, axis=-1):
    t, _ = _sparse_target_shape(target, output, axis)
    return rules.symbolic(t, _float_dtype(output))


@op(_sparse_ce_rule)
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """categorical_crossentropy with integer class ids as targets. A size-1 class axis on
    the target is squeezed; an out-of-range id (e.g. -1 padding) gives a loss of 0."""
    output = _float(output)
    target = backend.core.convert_to_tensor(target)
    _, axis = _sparse_target_shape(target, output, axis)
    return backend.nn.sparse_categorical_crossentropy(target, output, bool(from_logits), axis)
