"""nn ops for the numpy backend (inputs already converted and promoted by zoo.ops.nn)."""
import itertools
import math

import numpy as np

from zoo.backend.common import config, dtypes
from zoo.backend.numpy.math import erf
from zoo.backend.numpy.numpy import add, matmul


def _cast_like(y, x):
    return np.asarray(y).astype(x.dtype, copy=False)


def linear(x, kernel, bias, activation=None):
    y = matmul(x, kernel)  # half precision computed in float32; a fresh array
    if bias is not None and bias.dtype == y.dtype and y.flags.writeable:
        y += bias  # in place: no second (rows, out) array (Whisper's encoder: 9 M values)
    elif bias is not None:
        y = add(y, bias)
    return y if activation is None else _ACTIVATIONS[activation](y)


def relu(x):
    return np.maximum(x, 0).astype(x.dtype)


def relu6(x):
    return np.clip(x, 0, 6).astype(x.dtype)


def sigmoid(x):
    if x.dtype == np.float32:  # 1 / (1 + exp(-x)) in place, in float32 (SIMD exp)
        y = np.negative(x)
        with np.errstate(over="ignore"):  # exp(88+) = inf -> 1 / inf = 0, the limit
            np.exp(y, out=y)
        y += 1.0
        return np.reciprocal(y, out=y)
    y = x.astype(np.float64) if x.dtype != np.float64 else x
    return _cast_like(0.5 * (np.tanh(0.5 * y) + 1.0), x)


def softplus(x):
    y = x.astype(np.float64)
    return _cast_like(np.logaddexp(0.0, y), x)


def softsign(x):
    return _cast_like(x / (1 + np.abs(x)), x)


def silu(x):
    if x.dtype == np.float32:
        y = sigmoid(x)
        y *= x
        return y
    return _cast_like(x * sigmoid(x), x)


def gelu(x, approximate):
    if x.dtype.name in ("float32", "bfloat16", "float16") and not approximate:
        return _gelu_float32(x.astype(np.float32, copy=False)).astype(x.dtype, copy=False)
    y = x.astype(np.float64)
    if approximate:
        out = 0.5 * y * (1 + np.tanh(math.sqrt(2 / math.pi) * (y + 0.044715 * y ** 3)))
    else:
        out = 0.5 * y * (1 + erf(y / math.sqrt(2)))
    return _cast_like(out, x)


# Abramowitz & Stegun 7.1.26: erfc(z) = t (a1 + t (a2 + ... + t a5)) exp(-z^2) + e,
# t = 1 / (1 + p z), |e| <= 1.5e-7 for z >= 0. For GELU, z = |x| / sqrt(2) and the
# coefficients are halved: the polynomial gives Phi(-|x|) = erfc(z) / 2.
_AS_P = 0.3275911 / math.sqrt(2)
_AS_A = tuple(0.5 * a for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736,
                                0.254829592))
_GELU_CHUNK = 1 << 15  # values per pass: the three work arrays stay in L2


def _gelu_float32(x):
    """Exact (erf) GELU in float32, within 1e-7 x |x| of the float64 result: x Phi(x) =
    relu(x) - |x| Phi(-|x|), in passes over L2-sized chunks: ~4.5 ns a value against ~37
    for scipy's erf in float64 (Whisper-tiny's encoder: 18 M values per 30 s clip)."""
    x = np.asarray(x, order="C")
    out = np.empty_like(x)
    flat, flat_out = x.reshape(-1), out.reshape(-1)
    size = min(flat.size, _GELU_CHUNK)
    t, e = np.empty(size, np.float32), np.empty(size, np.float32)
    for start in range(0, flat.size, _GELU_CHUNK):
        v, o = flat[start:start + _GELU_CHUNK], flat_out[start:start + _GELU_CHUNK]
        tt, ee = t[:v.size], e[:v.size]
        np.abs(v, out=ee)
        np.multiply(ee, _AS_P, out=tt)
        tt += 1.0
        np.reciprocal(tt, out=tt)
        with np.errstate(over="ignore", under="ignore"):
            np.multiply(v, v, out=ee)
            ee *= -0.5
            np.exp(ee, out=ee)                        # exp(-z^2)
        np.multiply(tt, _AS_A[0], out=o)
        for a in _AS_A[1:]:
            o += a
            o *= tt
        o *= ee                                       # Phi(-|x|)
        np.abs(v, out=ee)
        np.minimum(ee, 1e30, out=ee)                  # inf x Phi(-inf) = 0, not nan
        o *= ee
        np.maximum(v, 0.0, out=ee)
        np.subtract(ee, o, out=o)
    return out


def elu(x, alpha):
    y = x.astype(np.float64)
    return _cast_like(np.where(y > 0, y, alpha * np.expm1(np.minimum(y, 0))), x)


def selu(x):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return _cast_like(scale * elu(x.astype(np.float64), alpha), x)


def leaky_relu(x, negative_slope):
    return _cast_like(np.where(x >= 0, x, negative_slope * x), x)


def hard_sigmoid(x):
    return _cast_like(np.clip(x.astype(np.float64) + 3, 0, 6) / 6, x)


def hard_silu(x):
    return _cast_like(x.astype(np.float64) * hard_sigmoid(x.astype(np.float64)), x)


def log_sigmoid(x):
    return _cast_like(-np.logaddexp(0.0, -x.astype(np.float64)), x)


def softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return _cast_like(e / np.sum(e, axis=axis, keepdims=True), x)


def log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return _cast_like(shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)), x)


def layer_norm(x, gamma, beta, axes, epsilon):
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean(np.square(x - mean), axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + np.asarray(epsilon, x.dtype))
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return _cast_like(out, x)


def moments(x, axes, keepdims):
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean(np.square(x - mean), axis=axes, keepdims=keepdims)
    if not keepdims:
        mean = np.squeeze(mean, axis=axes)
    return _cast_like(mean, x), _cast_like(var, x)


def one_hot(x, num_classes, axis, dtype):
    classes = np.arange(num_classes).reshape((-1,) + (1,) * (x.ndim - axis))
    expanded = np.expand_dims(x, axis)
    return (expanded == classes).astype(dtypes.to_numpy_dtype(dtype))


# -- convolution and pooling ----------------------------------------------------------------

def _same_padding(size, k, stride, dilation):
    """TF "same" padding: (before, after) for one spatial dim."""
    total = max((-(-size // stride) - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _to_channels_last(x, data_format):
    return x if data_format == "channels_last" else np.moveaxis(x, 1, -1)


def _from_channels_last(x, data_format):
    return x if data_format == "channels_last" else np.moveaxis(x, -1, 1)


def _pad_pairs(x, window, strides, dilation, padding):
    """(before, after) per spatial dim of a channels-last array: "valid", "same" or
    explicit pairs."""
    if padding == "valid":
        return [(0, 0)] * (x.ndim - 2)
    if isinstance(padding, tuple):
        return list(padding)
    return [_same_padding(s, k, st, d)
            for s, k, st, d in zip(x.shape[1:-1], window, strides, dilation)]


def _pad_spatial(x, window, strides, dilation, padding, value):
    """Pad the spatial dims of a channels-last array for "same" padding or explicit
    (before, after) pairs."""
    if padding == "valid":
        return x
    pads = [(0, 0)] + _pad_pairs(x, window, strides, dilation, padding) + [(0, 0)]
    return np.pad(x, pads, constant_values=value)


def _shifted_conv2d(x, kernel, dilation, pads):
    """A stride-1 2-D convolution without im2col: in the padded image flattened to rows of
    its width Wp, the input of output (y, x) for tap (i, j) is row (y + i d) Wp + x + j d, so
    each tap is one GEMM of a contiguous slice of rows by kernel[i, j] (BLAS reads the image
    in place), summed. Output columns past Wo (they wrap into the next row) are computed and
    dropped; one spare padded row per image keeps every read inside its image.
    x (B, H, W, C) channels-last -> (B, Ho, Wo, out)."""
    (top, bottom), (left, right) = pads
    x = np.pad(x, [(0, 0), (top, bottom + 1), (left, right), (0, 0)])
    batch, rows, width, channels = x.shape
    kh, kw, _, cout = kernel.shape
    ho, wo = rows - 1 - (kh - 1) * dilation[0], width - (kw - 1) * dilation[1]
    flat = x.reshape(-1, channels)
    n = len(flat) - ((kh - 1) * dilation[0] * width + (kw - 1) * dilation[1])
    out = np.empty((len(flat), cout), np.result_type(x, kernel))
    np.matmul(flat[:n], kernel[0, 0], out=out[:n])
    for i, j in itertools.product(range(kh), range(kw)):
        if i or j:
            start = i * dilation[0] * width + j * dilation[1]
            out[:n] += flat[start:start + n] @ kernel[i, j]
    return out.reshape(batch, rows, width, cout)[:, :ho, :wo]


def _windows(x, window, strides, dilation):
    """Yield (offset, strided view) for each position in the window (channels-last x)."""
    out = [(s - (k - 1) * d - 1) // st + 1 for s, k, st, d in
           zip(x.shape[1:-1], window, strides, dilation)]
    for offset in itertools.product(*[range(k) for k in window]):
        index = tuple(slice(o * d, o * d + (n - 1) * st + 1, st)
                      for o, d, n, st in zip(offset, dilation, out, strides))
        yield offset, x[(slice(None),) + index]


def conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias=None,
         activation=None):
    out = _to_channels_last(_conv(inputs, kernel, strides, padding, data_format,
                                  dilation_rate), data_format)
    if bias is not None:  # a fresh output: added in place (half precision: rounded again)
        if out.dtype in (np.float32, np.float64):
            np.add(out, bias, out=out)
        else:
            out = (out.astype(np.float32) + bias).astype(out.dtype)
    if activation is not None:
        out = _ACTIVATIONS[activation](out)
    return _from_channels_last(out, data_format)


def _conv(inputs, kernel, strides, padding, data_format, dilation_rate):
    x = _to_channels_last(inputs, data_format)
    if x.dtype.name in ("float16", "bfloat16"):  # np.einsum has no half-precision kernels
        x, kernel = x.astype(np.float32), kernel.astype(np.float32)
    window = kernel.shape[:-2]
    cin_g, cout = kernel.shape[-2:]
    groups = x.shape[-1] // cin_g
    if groups == 1 and len(window) == 2 and strides == (1, 1) and window != (1, 1):
        return _from_channels_last(_cast_like(_shifted_conv2d(
            x, kernel, dilation_rate, _pad_pairs(x, window, strides, dilation_rate, padding)),
            inputs), data_format)
    x = _pad_spatial(x, window, strides, dilation_rate, padding, 0)
    if groups == 1:  # im2col: one GEMM (BLAS, multithreaded) over every window position
        views = [view for _, view in _windows(x, window, strides, dilation_rate)]
        patches = views[0] if len(views) == 1 else np.concatenate(views, axis=-1)
        out = np.matmul(patches.reshape(-1, patches.shape[-1]), kernel.reshape(-1, cout))
        out = out.reshape(patches.shape[:-1] + (cout,))
        return _from_channels_last(_cast_like(out, inputs), data_format)
    out = None
    for offset, view in _windows(x, window, strides, dilation_rate):
        view = view.reshape(view.shape[:-1] + (groups, cin_g))
        k = kernel[offset].reshape(cin_g, groups, cout // groups)
        term = np.einsum("...gc,cgo->...go", view, k)
        out = term if out is None else out + term
    out = out.reshape(out.shape[:-2] + (cout,))
    return _from_channels_last(_cast_like(out, inputs), data_format)


def max_pool(inputs, pool_size, strides, padding, data_format):
    x = _to_channels_last(inputs, data_format)
    ones = (1,) * len(pool_size)
    x = _pad_spatial(x, pool_size, strides, ones, padding, -np.inf)
    out = None
    for _, view in _windows(x, pool_size, strides, ones):
        out = view if out is None else np.maximum(out, view)
    return _from_channels_last(_cast_like(out, inputs), data_format)


def average_pool(inputs, pool_size, strides, padding, data_format):
    x = _to_channels_last(inputs, data_format)
    ones = (1,) * len(pool_size)
    count = _pad_spatial(np.ones((1,) + x.shape[1:-1] + (1,), x.dtype), pool_size, strides,
                         ones, padding, 0)
    x = _pad_spatial(x, pool_size, strides, ones, padding, 0)
    total = sum(view for _, view in _windows(x, pool_size, strides, ones))
    n = sum(view for _, view in _windows(count, pool_size, strides, ones))
    return _from_channels_last(_cast_like(total / n, inputs), data_format)


# -- attention ------------------------------------------------------------------------------

def _large_negative(dtype):
    import ml_dtypes

    return -0.7 * float(ml_dtypes.finfo(dtypes.to_numpy_dtype(dtype)).max)


# Scores of one block of queries: (B, N, block, S) held at about this many elements (16 MB of
# float32), so the softmax runs in cache instead of streaming a (B, N, T, S) tensor through
# memory several times (8 x 6 x 1500 x 1500 scores for a batch of 30 s Whisper clips).
_SCORES_PER_BLOCK = 1 << 22


# Long attention (an encoder's 1500 x 1500) runs one head and one block of queries at a
# time, the block's scores held at about this many elements (1 MB, in L2), with the scale
# applied to the queries and the softmax's division to the (block, head size) output:
# two passes over the scores fewer. Whisper-tiny's encoder at batch 8: 0.56 -> 0.33 s a layer.
_PER_HEAD_MIN = 256 * 256
_PER_HEAD_SCORES = 1 << 18


def _attention_per_head(q, k, v, bias, mask, scale, floor):
    """q (B, N, T, H), k (B, N, H, S), v (B, N, S, H) -> (B, N, T, H)."""
    heads, q_len, kv_len = q.shape[1], q.shape[2], k.shape[-1]
    q = q * scale
    out = np.empty(q.shape[:3] + (v.shape[-1],), q.dtype)
    block = max(1, min(q_len, _PER_HEAD_SCORES // kv_len))
    for b, n in itertools.product(range(q.shape[0]), range(heads)):
        for start in range(0, q_len, block):
            rows = slice(start, start + block)
            scores = np.matmul(q[b, n, rows], k[b, n])                      # (t, S)
            if bias is not None:
                scores += bias[b % bias.shape[0], n % bias.shape[1], rows].astype(q.dtype)
            if mask is not None:
                scores = np.where(mask[b % mask.shape[0], n % mask.shape[1], rows], scores,
                                  floor).astype(q.dtype, copy=False)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            total = scores.sum(axis=-1, keepdims=True)
            target = out[b, n, rows]
            np.matmul(scores, v[b, n], out=target)
            target /= total
    return out


def dot_product_attention(query, key, value, bias, mask, is_causal, scale, fused=True):
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads != kv_heads:
        key = np.repeat(key, heads // kv_heads, axis=2)
        value = np.repeat(value, heads // kv_heads, axis=2)
    compute = np.float32 if query.dtype.name in ("float16", "bfloat16") else query.dtype
    # heads first, then batched matmuls (BLAS): (B, N, T, H) @ (B, N, H, S)
    q = np.ascontiguousarray(query.astype(compute, copy=False).transpose(0, 2, 1, 3))
    k = np.ascontiguousarray(key.astype(compute, copy=False).transpose(0, 2, 3, 1))
    v = np.ascontiguousarray(value.astype(compute, copy=False).transpose(0, 2, 1, 3))
    q_len, kv_len = query.shape[1], key.shape[1]
    if is_causal:
        causal = np.tril(np.ones((q_len, kv_len), bool), kv_len - q_len)
        mask = causal if mask is None else np.logical_and(mask, causal)
    if bias is not None:
        bias = np.broadcast_to(bias, np.broadcast_shapes(bias.shape, (1, 1, q_len, kv_len)))
    if mask is not None:
        mask = np.broadcast_to(mask, np.broadcast_shapes(mask.shape, (1, 1, q_len, kv_len)))
    floor = _large_negative(query.dtype)
    if q_len * kv_len >= _PER_HEAD_MIN:
        out = _attention_per_head(q, k, v, bias, mask, np.asarray(scale, compute), floor)
        return out.transpose(0, 2, 1, 3).astype(query.dtype, copy=False)
    per_query = max(1, q.shape[0] * q.shape[1] * kv_len)
    block = max(1, min(q_len, _SCORES_PER_BLOCK // per_query))
    out = np.empty(q.shape[:3] + (v.shape[-1],), compute)
    for start in range(0, q_len, block):  # rows are independent: the same math per row
        rows = slice(start, start + block)
        logits = np.matmul(q[:, :, rows], k)                                # (B, N, t, S)
        logits *= np.asarray(scale, compute)
        if bias is not None:
            logits += bias[..., rows, :].astype(compute, copy=False)
        if mask is not None:
            logits = np.where(mask[..., rows, :], logits, floor).astype(compute, copy=False)
        logits -= np.max(logits, axis=-1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= np.sum(logits, axis=-1, keepdims=True)
        out[:, :, rows] = np.matmul(logits, v)
    return out.transpose(0, 2, 1, 3).astype(query.dtype, copy=False)


# -- loss primitives ------------------------------------------------------------------------

def _clip_probs(output):
    eps = config.epsilon()
    return np.clip(output, eps, 1 - eps)


def binary_crossentropy(target, output, from_logits):
    if from_logits:
        out = np.maximum(output, 0) - output * target + np.log1p(np.exp(-np.abs(output)))
    else:
        p = _clip_probs(output)
        out = -(target * np.log(p) + (1 - target) * np.log(1 - p))
    return _cast_like(out, output)


def categorical_crossentropy(target, output, from_logits, axis):
    if from_logits:
        log_p = log_softmax(output, axis)
    else:
        log_p = np.log(_clip_probs(output / np.sum(output, axis=axis, keepdims=True)))
    return _cast_like(-np.sum(target * log_p, axis=axis), output)


def sparse_categorical_crossentropy(target, output, from_logits, axis):
    if target.ndim == output.ndim:
        target = np.squeeze(target, axis)
    target = one_hot(target, output.shape[axis], axis, output.dtype.name)
    return categorical_crossentropy(target, output, from_logits, axis)


_ACTIVATIONS = {"relu": relu, "gelu": lambda x: gelu(x, False), "silu": silu}  # for linear
