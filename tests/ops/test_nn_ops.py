"""nn ops against NumPy references: activations, normalization, conv, pooling, attention,
loss primitives."""
import itertools
import math

import numpy as np
import pytest

import zoo
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor

from tests.ops.parity import check_op

BACKEND = zoo.config.backend()
_erf = np.vectorize(math.erf)


def _randn(*shape, dtype="float32"):
    return np.random.randn(*shape).astype(dtype)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# -- activations ----------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sigmoid,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(name):
    x = np.array([[-7.1, -2.5, -0.4], [0.3, 1.7, 6.6]], "float32")
    check_op(name, ACTIVATIONS[name], x, expected_dtype="float32")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_activations_keep_half_precision(dtype):
    x = np.array([[-7.1, -2.5, -0.4], [0.3, 1.7, 6.6]], "float32")
    half = x.astype(zoo.backend.common.dtypes.to_numpy_dtype(dtype))
    refs = dict(ACTIVATIONS, gelu=lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2))))
    for name, ref in refs.items():
        out = getattr(ops, name)(ops.convert_to_tensor(half))
        assert ops.dtype(out) == dtype, name
        np.testing.assert_allclose(ops.convert_to_numpy(out).astype("float32"),
                                   ref(half.astype("float64")), atol=0.05, rtol=0.02,
                                   err_msg=name)


def test_activation_int_input_gives_float32():
    out = ops.relu(np.array([-1, 2], "int32"))
    assert ops.dtype(out) == "float32"
    np.testing.assert_array_equal(ops.convert_to_numpy(out), [0, 2])


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu(approximate):
    def ref(x, approximate=False):
        if approximate:
            return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + _erf(x / np.sqrt(2)))

    x = _randn(3, 4) * 2
    check_op("gelu", ref, x, kwargs={"approximate": approximate})


def test_exact_gelu_float32_over_a_wide_range():
    """Large inputs (several chunks of the numpy backend's float32 pass), |x| up to 1e4,
    zeros and NaN: within float32 rounding of the float64 result."""
    x = np.random.RandomState(3).randn(100_003).astype("float32") * 4
    x[:6] = [0.0, -0.0, np.nan, 1e4, -1e4, -40.0]
    want = 0.5 * x.astype("float64") * (1 + _erf(x.astype("float64") / np.sqrt(2)))
    got = ops.convert_to_numpy(ops.gelu(x, approximate=False)).astype("float64")
    np.testing.assert_array_equal(got[:6], [0, 0, np.nan, 1e4, 0, 0])
    np.testing.assert_allclose(got[6:], want[6:], rtol=0, atol=1e-6 * max(1, np.abs(x[6:]).max()))


def test_elu_alpha_and_leaky_slope():
    x = np.array([-2.0, -0.5, 0.5, 3.0], "float32")
    check_op("elu", lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)), x,
             kwargs={"alpha": 0.5})
    check_op("leaky_relu", lambda x, negative_slope: np.where(x > 0, x, negative_slope * x), x,
             kwargs={"negative_slope": 0.01})


@pytest.mark.parametrize("axis", [-1, 0, (0, 2)])
def test_softmax_and_log_softmax(axis):
    x = _randn(2, 3, 4)
    check_op("softmax", lambda x, axis: _softmax(x, axis), x, kwargs={"axis": axis})
    check_op("log_softmax", lambda x, axis: np.log(_softmax(x, axis)), x, kwargs={"axis": axis})


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_softmax_half_precision(dtype):
    x = (_randn(2, 8) * 4).astype(zoo.backend.common.dtypes.to_numpy_dtype(dtype))
    for name, ref in (("softmax", _softmax), ("log_softmax", lambda v: np.log(_softmax(v)))):
        out = getattr(ops, name)(ops.convert_to_tensor(x))
        assert ops.dtype(out) == dtype
        want = ref(x.astype("float32"))
        tol = 1e-2 if dtype == "bfloat16" else 2e-3
        np.testing.assert_allclose(ops.convert_to_numpy(out).astype("float32"), want,
                                   atol=tol * max(1, np.abs(want).max()), rtol=tol)


# -- normalization ----------------------------------------------------------------------------

def _layer_norm_ref(x, gamma=None, beta=None, axis=-1, epsilon=1e-5):
    axes = axis if isinstance(axis, tuple) else (axis,)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + epsilon)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    if gamma is not None:
        out = out * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    return out


def test_layer_norm():
    x, gamma, beta = _randn(3, 5), _randn(5), _randn(5)
    check_op("layer_norm", _layer_norm_ref, x, gamma, beta, kwargs={"epsilon": 1e-3})
    check_op("layer_norm", _layer_norm_ref, x, expected_dtype="float32")


def test_layer_norm_several_axes():
    x, gamma, beta = _randn(2, 3, 4), _randn(2, 3), _randn(2, 3)
    check_op("layer_norm", _layer_norm_ref, x, gamma, beta, kwargs={"axis": (0, 1)})


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_layer_norm_half_precision(dtype):
    np_dtype = zoo.backend.common.dtypes.to_numpy_dtype(dtype)
    x = (_randn(4, 16) * 30 + 100).astype(np_dtype)  # large mean: needs float32 statistics
    gamma, beta = _randn(16), _randn(16)
    out = ops.layer_norm(ops.convert_to_tensor(x), gamma, beta)
    assert ops.dtype(out) == dtype
    want = _layer_norm_ref(x.astype("float64"), gamma, beta)
    tol = 5e-2 if dtype == "bfloat16" else 5e-3
    np.testing.assert_allclose(ops.convert_to_numpy(out).astype("float64"), want, atol=tol * 4)


def test_moments():
    x = _randn(3, 4)
    def ref(x, axes, keepdims=False):
        return x.mean(axis=tuple(axes), keepdims=keepdims), x.var(axis=tuple(axes),
                                                                 keepdims=keepdims)

    check_op("moments", ref, x, kwargs={"axes": [0]})
    check_op("moments", ref, x, kwargs={"axes": (0, 1), "keepdims": True})
    half = ops.moments(ops.convert_to_tensor(x.astype("float16")), [1])
    assert ops.dtype(half[0]) == "float16" and ops.dtype(half[1]) == "float16"


def test_one_hot():
    x = np.array([[0, 2], [-1, 5]], "int32")  # -1 and 5 are out of range: all zeros

    def ref(x, num_classes, axis=-1, dtype="float32"):
        out = (x[..., None] == np.arange(num_classes)).astype(dtype)
        return np.moveaxis(out, -1, axis)

    check_op("one_hot", ref, x, kwargs={"num_classes": 3}, expected_dtype="float32")
    check_op("one_hot", ref, x, kwargs={"num_classes": 3, "axis": 0, "dtype": "int32"},
             expected_dtype="int32")


# -- convolution ----------------------------------------------------------------------------

def _same_pad(size, k, stride, dilation):
    total = max((-(-size // stride) - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _conv_ref(x, kernel, strides=1, padding="valid", data_format="channels_last",
              dilation_rate=1, bias=None, activation=None):
    """Direct loops over every output element (channels-last), + bias, activation."""
    out = _plain_conv_ref(x, kernel, strides, padding, data_format, dilation_rate)
    if bias is not None:
        out = out + (bias if data_format == "channels_last" else
                     bias.reshape((-1,) + (1,) * (x.ndim - 2)))
    return out if activation is None else _ACTIVATION_REFS[activation](out)


_ACTIVATION_REFS = {"relu": lambda x: np.maximum(x, 0), "silu": lambda x: x / (1 + np.exp(-x)),
                    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))}


def _erf(x):
    return np.vectorize(math.erf)(x)


def _plain_conv_ref(x, kernel, strides, padding, data_format, dilation_rate):
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    n = x.ndim - 2
    strides = (strides,) * n if isinstance(strides, int) else strides
    dilation = (dilation_rate,) * n if isinstance(dilation_rate, int) else dilation_rate
    window, (cin_g, cout) = kernel.shape[:n], kernel.shape[n:]
    groups = x.shape[-1] // cin_g
    if padding == "same":
        pads = [_same_pad(s, k, st, d) for s, k, st, d in zip(x.shape[1:-1], window, strides,
                                                               dilation)]
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    elif padding != "valid":  # explicit: an int or (before, after) pairs
        pads = [(padding, padding)] * n if isinstance(padding, int) else list(padding)
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(s - (k - 1) * d - 1) // st + 1 for s, k, st, d in
                 zip(x.shape[1:-1], window, strides, dilation)]
    out = np.zeros((x.shape[0], *out_sizes, cout), np.float64)
    per_group = cout // groups
    for b in range(x.shape[0]):
        for pos in itertools.product(*[range(o) for o in out_sizes]):
            for o in range(cout):
                g = o // per_group
                acc = 0.0
                for off in itertools.product(*[range(k) for k in window]):
                    src = tuple(p * st + q * d for p, st, q, d in zip(pos, strides, off, dilation))
                    acc += np.dot(x[(b, *src)][g * cin_g:(g + 1) * cin_g], kernel[off][:, o])
                out[(b, *pos, o)] = acc
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


CONV_CASES = [  # (input shape, kernel shape, kwargs)
    ((2, 7, 3), (3, 3, 2), {}),
    ((1, 9, 2), (3, 2, 2), {"strides": 2, "padding": "same"}),
    ((1, 8, 2), (2, 2, 3), {"strides": 2, "padding": "same"}),
    ((1, 9, 2), (3, 2, 2), {"dilation_rate": 2, "padding": "same"}),
    ((1, 5, 4, 1), (3, 3, 1, 2), {}),
    ((1, 5, 4, 1), (3, 2, 1, 2), {"strides": 2, "padding": "same"}),
    ((1, 6, 6, 1), (3, 3, 1, 2), {"strides": (2, 1), "padding": "same"}),
    ((1, 5, 5, 1), (2, 2, 1, 1), {"dilation_rate": 2, "padding": "same"}),
    ((1, 7, 7, 1), (3, 3, 1, 1), {"dilation_rate": 2, "strides": 2, "padding": "same"}),
    ((1, 3, 4, 2), (2, 2, 1, 4), {"padding": "same"}),  # groups = 2
    ((1, 3, 3, 4), (2, 2, 2, 2), {"strides": 2, "padding": "valid"}),  # groups = 2
    ((1, 2, 4, 3), (2, 2, 2, 2), {"data_format": "channels_first", "padding": "same"}),
    ((1, 6, 4, 2), (3, 3, 2, 3), {"strides": 2, "padding": 1}),  # torch's symmetric padding
    ((1, 5, 4, 1), (3, 2, 1, 2), {"padding": ((2, 0), (1, 1))}),  # explicit pairs
    ((1, 9, 2), (3, 2, 2), {"strides": 2, "padding": ((1, 2),)}),
    ((1, 4, 4, 4), (3, 3, 2, 2), {"padding": 1}),  # groups = 2, padded
    # bias and activation in the op (what a Conv2D with activation="silu" calls)
    ((1, 6, 4, 2), (3, 3, 2, 3), {"strides": 2, "padding": 1,
                                  "bias": np.array([0.5, -1.0, 2.0], np.float32),
                                  "activation": "silu"}),
    ((2, 7, 3), (3, 3, 2), {"bias": np.array([0.3, -0.2], np.float32), "activation": "relu"}),
    ((1, 2, 4, 3), (2, 2, 2, 2), {"data_format": "channels_first", "padding": "same",
                                  "bias": np.array([1.0, -0.5], np.float32),
                                  "activation": "gelu"}),
]


@pytest.mark.parametrize("x_shape,k_shape,kwargs", CONV_CASES)
def test_conv(x_shape, k_shape, kwargs):
    x, kernel = _randn(*x_shape), _randn(*k_shape)
    small = x.size <= 24 and kernel.size <= 24
    check_op("conv", _conv_ref, x, kernel, kwargs=kwargs, atol=1e-4, gradient=small)


def test_conv_symbolic_unknown_spatial():
    out = ops.conv.shape_rule(SymbolicTensor((None, None, 9, 3)), SymbolicTensor((3, 3, 3, 8)),
                              strides=2, padding="same")
    assert out.shape == (None, None, 5, 8)
    with pytest.raises(ValueError):
        ops.conv.shape_rule(SymbolicTensor((1, 9, 9, 3)), SymbolicTensor((3, 3, 2, 8)))
    padded = ops.conv.shape_rule(SymbolicTensor((1, 9, 8, 3)), SymbolicTensor((3, 3, 3, 8)),
                                 strides=2, padding=1)
    assert padded.shape == (1, 5, 4, 8)
    with pytest.raises(ValueError, match="before, after"):
        ops.conv.shape_rule(SymbolicTensor((1, 9, 9, 3)), SymbolicTensor((3, 3, 3, 8)),
                            padding=(1, -1))


# -- pooling --------------------------------------------------------------------------------

def _pool_ref(kind):
    def ref(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
        n = x.ndim - 2
        pool = (pool_size,) * n if isinstance(pool_size, int) else tuple(pool_size)
        strides = pool if strides is None else (
            (strides,) * n if isinstance(strides, int) else tuple(strides))
        if padding == "same":
            pads = [_same_pad(s, k, st, 1) for s, k, st in zip(x.shape[1:-1], pool, strides)]
        else:
            pads = [(0, 0)] * n
        sizes = [(s + lo + hi - k) // st + 1 for s, (lo, hi), k, st in
                 zip(x.shape[1:-1], pads, pool, strides)]
        out = np.zeros((x.shape[0], *sizes, x.shape[-1]))
        for pos in itertools.product(*[range(s) for s in sizes]):
            index = tuple(slice(max(p * st - lo, 0), min(p * st - lo + k, s))
                          for p, st, (lo, _), k, s in zip(pos, strides, pads, pool, x.shape[1:-1]))
            window = x[(slice(None), *index)].reshape(x.shape[0], -1, x.shape[-1])
            out[(slice(None), *pos)] = window.max(1) if kind == "max" else window.mean(1)
        return out
    return ref


POOL_CASES = [
    ((2, 7, 2), {"pool_size": 2}),
    ((1, 7, 3), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ((1, 5, 4, 1), {"pool_size": 2, "padding": "same"}),
    ((1, 5, 5, 1), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ((1, 4, 5, 1), {"pool_size": (2, 3), "strides": 1, "padding": "valid"}),
    ((2, 4, 4, 3), {"pool_size": 2}),
]


@pytest.mark.parametrize("x_shape,kwargs", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "average"])
def test_pool(kind, x_shape, kwargs):
    x = _randn(*x_shape)
    check_op(f"{kind}_pool", _pool_ref(kind), x, kwargs=kwargs, gradient=x.size <= 24)


# -- attention ------------------------------------------------------------------------------

def _attention_ref(q, k, v, bias=None, mask=None, is_causal=False, scale=None):
    heads, kv_heads = q.shape[2], k.shape[2]
    k = np.repeat(k, heads // kv_heads, axis=2)
    v = np.repeat(v, heads // kv_heads, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    t, s = q.shape[1], k.shape[1]
    allowed = np.ones((t, s), bool)
    if is_causal:
        allowed = np.arange(s)[None, :] <= np.arange(t)[:, None] + (s - t)
    if mask is not None:
        allowed = np.logical_and(allowed, mask)
    logits = np.where(allowed, logits, -1e30)
    return np.einsum("bnts,bsnh->btnh", _softmax(logits), v)


ATTENTION_CASES = [  # (q shape, kv shape, options)
    ((1, 3, 2, 3), (1, 3, 2, 3), {}),
    ((1, 2, 2, 3), (1, 3, 2, 3), {"is_causal": True}),  # q_len < kv_len: bottom-right
    ((1, 3, 2, 3), (1, 3, 2, 3), {"is_causal": True}),
    ((1, 2, 2, 5), (1, 3, 2, 5), {"mask": True}),
    ((1, 2, 2, 3), (1, 4, 2, 3), {"bias": True, "scale": 0.7}),
    ((1, 2, 2, 3), (1, 3, 2, 3), {"bias": True, "mask": True, "is_causal": True}),
    ((1, 2, 4, 3), (1, 3, 2, 3), {"mask": True}),  # grouped-query attention
    ((1, 1, 2, 3), (1, 4, 2, 3), {"is_causal": True}),  # one decoding step
    ((1, 3, 2, 4), (1, 3, 2, 4), {"mask": "2d", "value_dim": 2}),  # (q_len, kv_len) mask
    ((2, 3, 2, 4), (2, 5, 2, 4), {"mask": "keys"}),  # a key padding mask (B, 1, 1, S)
    ((2, 4, 4, 3), (2, 4, 2, 3), {"mask": "keys", "is_causal": True}),
]


def _attention_inputs(q_shape, kv_shape, opts):
    kwargs = dict(opts)
    value_dim = kwargs.pop("value_dim", kv_shape[-1])
    q, k, v = _randn(*q_shape), _randn(*kv_shape), _randn(*kv_shape[:3], value_dim)
    shape = (q_shape[0], q_shape[2], q_shape[1], kv_shape[1])
    if opts.get("mask") == "keys":
        kwargs["mask"] = np.random.rand(shape[0], 1, 1, shape[3]) > 0.3
        kwargs["mask"][..., 0] = True
    elif opts.get("mask") == "2d":
        kwargs["mask"] = np.random.rand(*shape[2:]) > 0.3
        kwargs["mask"][:, 0] = True
    elif opts.get("mask"):
        mask = np.random.rand(*shape) > 0.3
        mask[..., 0] = True  # every query sees at least one key
        kwargs["mask"] = mask
    if opts.get("bias"):
        kwargs["bias"] = _randn(1, 1, shape[2], shape[3])
    return q, k, v, kwargs


@pytest.mark.parametrize("q_shape,kv_shape,opts", ATTENTION_CASES)
def test_dot_product_attention(q_shape, kv_shape, opts):
    q, k, v, kwargs = _attention_inputs(q_shape, kv_shape, opts)
    check_op("dot_product_attention", _attention_ref, q, k, v, kwargs=kwargs, atol=1e-5)


@pytest.mark.parametrize("q_shape,kv_shape,opts", ATTENTION_CASES)
def test_attention_fused_matches_fallback(q_shape, kv_shape, opts):
    q, k, v, kwargs = _attention_inputs(q_shape, kv_shape, opts)
    t = [ops.convert_to_tensor(a) for a in (q, k, v)]
    bias = None if "bias" not in kwargs else ops.convert_to_tensor(kwargs["bias"])
    mask = None if "mask" not in kwargs else ops.convert_to_tensor(kwargs["mask"])
    scale = kwargs.get("scale", 1 / math.sqrt(q.shape[-1]))
    fused, plain = (zoo.backend.nn.dot_product_attention(*t, bias, mask, bool(opts.get(
        "is_causal")), scale, fused=f) for f in (True, False))
    np.testing.assert_allclose(ops.convert_to_numpy(fused), ops.convert_to_numpy(plain),
                               atol=1e-5)


@pytest.mark.skipif(BACKEND != "numpy", reason="the numpy backend's blocks of queries")
@pytest.mark.parametrize("q_shape,kv_shape,opts", ATTENTION_CASES)
def test_attention_in_blocks_of_queries(monkeypatch, q_shape, kv_shape, opts):
    """numpy computes long attention a block of query rows at a time: the same result."""
    from zoo.backend.numpy import nn as numpy_nn

    q, k, v, kwargs = _attention_inputs(q_shape, kv_shape, opts)
    whole = ops.convert_to_numpy(ops.dot_product_attention(q, k, v, **kwargs))
    monkeypatch.setattr(numpy_nn, "_SCORES_PER_BLOCK", 1)  # one query row per block
    blocks = ops.convert_to_numpy(ops.dot_product_attention(q, k, v, **kwargs))
    np.testing.assert_allclose(blocks, whole, atol=1e-6)


@pytest.mark.skipif(BACKEND != "numpy", reason="the numpy backend's per-head attention")
@pytest.mark.parametrize("rows", [1, 1 << 18])
@pytest.mark.parametrize("q_shape,kv_shape,opts", ATTENTION_CASES)
def test_attention_per_head(monkeypatch, q_shape, kv_shape, opts, rows):
    """numpy runs long attention one head and one block of query rows at a time (scale on
    the queries, the softmax's division on the output): the reference's result."""
    from zoo.backend.numpy import nn as numpy_nn

    q, k, v, kwargs = _attention_inputs(q_shape, kv_shape, opts)
    monkeypatch.setattr(numpy_nn, "_PER_HEAD_MIN", 1)
    monkeypatch.setattr(numpy_nn, "_PER_HEAD_SCORES", rows)
    check_op("dot_product_attention", _attention_ref, q, k, v, kwargs=kwargs, atol=1e-5)
    masked = np.array([True, False]).reshape(1, 1, 2, 1) & np.ones((1, 1, 1, 3), bool)
    q, k, v = _randn(1, 2, 1, 4), _randn(1, 3, 1, 4), _randn(1, 3, 1, 4)
    out = ops.convert_to_numpy(ops.dot_product_attention(q, k, v, mask=masked))
    np.testing.assert_allclose(out[0, 1, 0], v[0, :, 0].mean(0), atol=1e-5)


@pytest.mark.skipif(BACKEND != "jax", reason="jax's attention one (batch, head) at a time")
@pytest.mark.parametrize("q_shape,kv_shape,opts", ATTENTION_CASES)
def test_attention_one_head_at_a_time(monkeypatch, q_shape, kv_shape, opts):
    """jax maps long attention over the batch's heads (no bias, at most a key mask): the
    same result as the whole-batch form."""
    from zoo.backend.jax import nn as jax_nn

    q, k, v, kwargs = _attention_inputs(q_shape, kv_shape, opts)
    whole = ops.convert_to_numpy(ops.dot_product_attention(q, k, v, **kwargs))
    monkeypatch.setattr(jax_nn, "MAPPED_ATTENTION_MIN", 1)
    mapped = ops.convert_to_numpy(ops.dot_product_attention(q, k, v, **kwargs))
    np.testing.assert_allclose(mapped, whole, atol=1e-6)
    check_op("dot_product_attention", _attention_ref, q, k, v, kwargs=kwargs, atol=1e-5)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tensorflow's attention per head, in XLA")
@pytest.mark.parametrize("q_shape,kv_shape,opts", ATTENTION_CASES)
def test_attention_one_head_at_a_time_under_xla(monkeypatch, q_shape, kv_shape, opts):
    """Under XLA, tensorflow loops long attention over the batch's heads (no bias, at most
    a key mask): the reference's result, forward and gradient."""
    import tensorflow as tf

    from zoo.backend.tensorflow import nn as tf_nn

    q, k, v, kwargs = _attention_inputs(q_shape, kv_shape, opts)
    mapped = []
    original = tf_nn._mapped_attention
    monkeypatch.setattr(tf_nn, "MAPPED_ATTENTION_MIN", 1)
    monkeypatch.setattr(tf_nn, "_mapped_attention",
                        lambda *a: mapped.append(1) or original(*a))

    @tf.function(jit_compile=True)
    def run(q, k, v):
        with tf.GradientTape() as tape:
            tape.watch(q)
            out = ops.dot_product_attention(q, k, v, **kwargs)
            loss = tf.reduce_sum(out * out)
        return out, tape.gradient(loss, q)

    out, grad = run(*(tf.constant(a) for a in (q, k, v)))
    np.testing.assert_allclose(out.numpy(), _attention_ref(q, k, v, **kwargs), atol=1e-5)
    key_mask = "mask" not in kwargs or np.ndim(kwargs["mask"]) == 4 and \
        np.shape(kwargs["mask"])[2] == 1
    assert bool(mapped) == ("bias" not in kwargs and key_mask and q.shape[0] * q.shape[2] > 1)
    unmapped_out, unmapped_grad = tf.function(run.python_function)(
        *(tf.constant(a) for a in (q, k, v)))  # graph mode: the einsum form
    np.testing.assert_allclose(grad.numpy(), unmapped_grad.numpy(), atol=1e-4)


def test_attention_fully_masked_row_averages_values():
    q, k, v = _randn(1, 2, 1, 4), _randn(1, 3, 1, 4), _randn(1, 3, 1, 4)
    mask = np.array([True, False]).reshape(1, 1, 2, 1) & np.ones((1, 1, 1, 3), bool)
    out = ops.convert_to_numpy(ops.dot_product_attention(q, k, v, mask=mask))
    np.testing.assert_allclose(out[0, 1, 0], v[0, :, 0].mean(0), atol=1e-5)


def test_attention_half_precision():
    q, k, v = (_randn(1, 4, 2, 8).astype("float16") for _ in range(3))
    out = ops.dot_product_attention(q, k, v, is_causal=True)
    assert ops.dtype(out) == "float16"
    want = _attention_ref(*(a.astype("float32") for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(ops.convert_to_numpy(out).astype("float32"), want, atol=5e-3)


# -- loss primitives ------------------------------------------------------------------------

def _bce_ref(target, output, from_logits=False):
    if from_logits:
        output = _sigmoid(output)
    output = np.clip(output, 1e-7, 1 - 1e-7)
    return -(target * np.log(output) + (1 - target) * np.log(1 - output))


def _cce_ref(target, output, from_logits=False, axis=-1):
    if from_logits:
        p = _softmax(output, axis)
    else:
        p = output / output.sum(axis=axis, keepdims=True)
    return -np.sum(target * np.log(np.clip(p, 1e-7, 1 - 1e-7)), axis=axis)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy(from_logits):
    target = (np.random.rand(3, 4) > 0.5).astype("float32")
    probs = np.random.uniform(0.05, 0.95, (3, 4)).astype("float32")
    output = _randn(3, 4) if from_logits else probs
    check_op("binary_crossentropy", _bce_ref, target, output,
             kwargs={"from_logits": from_logits})


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy(from_logits):
    target = np.eye(4, dtype="float32")[[0, 3, 1]]
    output = _randn(3, 4) if from_logits else np.random.uniform(0.1, 1, (3, 4)).astype("float32")
    check_op("categorical_crossentropy", _cce_ref, target, output,
             kwargs={"from_logits": from_logits})
    check_op("categorical_crossentropy", _cce_ref, target.T.copy(), output.T.copy(),
             kwargs={"from_logits": from_logits, "axis": 0})


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy(from_logits):
    def ref(target, output, from_logits=False, axis=-1):
        target = target.reshape(output.shape[:-1])
        onehot = (target[..., None] == np.arange(output.shape[-1])).astype("float64")
        return _cce_ref(onehot, output, from_logits)

    output = _randn(2, 3, 4) if from_logits else np.random.uniform(0.1, 1, (2, 3, 4)).astype(
        "float32")
    target = np.array([[0, 3, 1], [2, -1, 3]], "int32")  # -1: no class, loss 0
    check_op("sparse_categorical_crossentropy", ref, target, output,
             kwargs={"from_logits": from_logits})
    check_op("sparse_categorical_crossentropy", ref, target[..., None], output,
             kwargs={"from_logits": from_logits})


def test_ops_compile_with_unknown_batch():
    """The nn, math and image ops trace under jax.jit / tf.function (batch dim unknown)."""
    if BACKEND not in ("jax", "tensorflow"):
        pytest.skip("compilation test")
    x, kernel = _randn(2, 6, 6, 2), _randn(3, 3, 2, 4)
    q, k = _randn(2, 3, 2, 4), _randn(2, 5, 2, 4)
    audio = _randn(2, 40)

    def fn(x, q, k, audio):
        y = ops.conv(x, ops.convert_to_tensor(kernel), strides=2, padding="same")
        y = ops.max_pool(ops.gelu(y), 2, 1, padding="same") + ops.average_pool(y, 3, 1, "same")
        y = ops.resize(ops.layer_norm(y), (5, 5))
        a = ops.dot_product_attention(ops.softmax(q), k, k, is_causal=True)
        s = ops.stft(audio, 8, 4, 8)
        return y, a, s[0], ops.logsumexp(s[1], axis=-1)

    eager = fn(x, q, k, audio)
    if BACKEND == "jax":
        import jax

        out = jax.jit(fn)(x, q, k, audio)
    else:
        import tensorflow as tf

        spec = [tf.TensorSpec((None,) + a.shape[1:], "float32") for a in (x, q, k, audio)]
        out = tf.function(fn, input_signature=spec)(x, q, k, audio)
    for e, o in zip(eager, out):
        np.testing.assert_allclose(ops.convert_to_numpy(o), ops.convert_to_numpy(e), atol=1e-5)


def test_linear():
    def ref(x, kernel, bias=None):
        y = x.astype("float64") @ kernel.astype("float64")
        return y if bias is None else y + bias

    kernel, bias = _randn(4, 5), _randn(5)
    check_op("linear", ref, _randn(3, 4), kernel, bias)
    check_op("linear", ref, _randn(2, 3, 4), kernel, bias)
    check_op("linear", ref, _randn(2, 3, 4), kernel)


@pytest.mark.parametrize("activation", ["relu", "gelu", "silu"])
def test_linear_applies_its_activation(activation):
    """linear(..., activation=name) is the activation op on the product, values and
    gradients (torch applies it in place when autograd is off)."""
    from tests.autodiff import grad

    x, kernel, bias = _randn(2, 3, 4), _randn(4, 5), _randn(5)
    composed = lambda x, k, b: getattr(ops, activation)(ops.linear(x, k, b))  # noqa: E731
    fused = lambda x, k, b: ops.linear(x, k, b, activation=activation)  # noqa: E731
    np.testing.assert_allclose(ops.convert_to_numpy(fused(x, kernel, bias)),
                               ops.convert_to_numpy(composed(x, kernel, bias)), rtol=1e-6,
                               atol=1e-6)
    if BACKEND != "numpy":
        for a, b in zip(grad(fused, [x, kernel, bias]), grad(composed, [x, kernel, bias])):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    out = ops.linear.shape_rule(SymbolicTensor((None, 3, 4)), SymbolicTensor((4, 5)),
                                SymbolicTensor((5,)), activation=activation)
    assert out.shape == (None, 3, 5)
    with pytest.raises(ValueError, match="activation must be None or one of"):
        ops.linear(x, kernel, bias, activation="tanh")
