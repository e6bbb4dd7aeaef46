"""nn ops for the jax backend (inputs already converted and promoted by zoo.ops.nn)."""
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from zoo.backend.common import config


def linear(x, kernel, bias, activation=None):
    y = jnp.matmul(x, kernel)
    y = y if bias is None else y + bias
    return y if activation is None else _ACTIVATIONS[activation](y)


def relu(x):
    return jax.nn.relu(x)


def relu6(x):
    return jax.nn.relu6(x)


def sigmoid(x):
    return jax.nn.sigmoid(x)


def softplus(x):
    return jax.nn.softplus(x)


def softsign(x):
    return jax.nn.soft_sign(x)


def silu(x):
    return jax.nn.silu(x)


def gelu(x, approximate):
    return jax.nn.gelu(x, approximate=approximate)


def elu(x, alpha):
    return jax.nn.elu(x, alpha)


def selu(x):
    return jax.nn.selu(x)


def leaky_relu(x, negative_slope):
    return jax.nn.leaky_relu(x, negative_slope)


def hard_sigmoid(x):
    return jax.nn.relu6(x + 3) / 6


def hard_silu(x):
    return x * hard_sigmoid(x)


def log_sigmoid(x):
    return jax.nn.log_sigmoid(x)


def softmax(x, axis):
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis):
    return jax.nn.log_softmax(x, axis=axis)


def layer_norm(x, gamma, beta, axes, epsilon):
    mean = jnp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = jnp.mean(jnp.square(centered), axis=axes, keepdims=True)
    out = centered * lax.rsqrt(var + jnp.asarray(epsilon, x.dtype))
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return out


def moments(x, axes, keepdims):
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=keepdims)
    return (mean if keepdims else jnp.squeeze(mean, axis=axes)), var


def one_hot(x, num_classes, axis, dtype):
    return jax.nn.one_hot(x, num_classes, dtype=dtype, axis=axis)


# -- convolution and pooling ----------------------------------------------------------------

def _layout(n, data_format):
    spatial = "DHW"[-n:] if n <= 3 else None
    if spatial is None:
        raise ValueError("conv: 1D, 2D and 3D only.")
    lhs = f"N{spatial}C" if data_format == "channels_last" else f"NC{spatial}"
    return (lhs, f"{spatial}IO", lhs)


def conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias=None,
         activation=None):
    out = _conv(inputs, kernel, strides, padding, data_format, dilation_rate)
    if bias is not None:
        out = out + (bias if data_format == "channels_last" else
                     bias.reshape((-1,) + (1,) * (inputs.ndim - 2)))
    return out if activation is None else _ACTIVATIONS[activation](out)


def _conv(inputs, kernel, strides, padding, data_format, dilation_rate):
    n = inputs.ndim - 2
    channels = inputs.shape[-1] if data_format == "channels_last" else inputs.shape[1]
    return lax.conv_general_dilated(
        inputs, kernel, window_strides=strides,
        padding=list(padding) if isinstance(padding, tuple) else padding.upper(),
        rhs_dilation=dilation_rate, dimension_numbers=_layout(n, data_format),
        feature_group_count=channels // kernel.shape[-2],
    )


def _window(n, data_format, values):
    return (1, *values, 1) if data_format == "channels_last" else (1, 1, *values)


def max_pool(inputs, pool_size, strides, padding, data_format):
    n = inputs.ndim - 2
    init = jnp.array(-jnp.inf, inputs.dtype)
    return lax.reduce_window(inputs, init, lax.max, _window(n, data_format, pool_size),
                             _window(n, data_format, strides), padding.upper())


def average_pool(inputs, pool_size, strides, padding, data_format):
    n = inputs.ndim - 2
    window, step = _window(n, data_format, pool_size), _window(n, data_format, strides)
    zero = jnp.array(0, inputs.dtype)
    total = lax.reduce_window(inputs, zero, lax.add, window, step, padding.upper())
    if padding == "valid":
        return total / np.prod(pool_size).astype(inputs.dtype)
    ones = jnp.ones((1, *inputs.shape[1:]), inputs.dtype)
    count = lax.reduce_window(ones, zero, lax.add, window, step, "SAME")
    return total / count


# -- attention ------------------------------------------------------------------------------

def _large_negative(dtype):
    return -0.7 * float(jnp.finfo(dtype).max)


def _full_mask(mask, is_causal, q_len, kv_len):
    if not is_causal:
        return mask
    causal = jnp.tril(jnp.ones((q_len, kv_len), bool), kv_len - q_len)
    return causal if mask is None else jnp.logical_and(mask, causal)


def _as_4d(x):
    return None if x is None else jnp.reshape(x, (1,) * (4 - x.ndim) + x.shape)


def _reference_attention(query, key, value, bias, mask, scale):
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads != kv_heads:
        key = jnp.repeat(key, heads // kv_heads, axis=2)
        value = jnp.repeat(value, heads // kv_heads, axis=2)
    half = query.dtype in (jnp.float16, jnp.bfloat16)
    compute = jnp.float32 if half else query.dtype
    logits = jnp.einsum("btnh,bsnh->bnts", query, key,
                        preferred_element_type=compute) * jnp.asarray(scale, compute)
    if bias is not None:
        logits = logits + bias.astype(compute)
    if mask is not None:
        logits = jnp.where(mask, logits, _large_negative(query.dtype))
    probs = jax.nn.softmax(logits, axis=-1).astype(value.dtype)
    return jnp.einsum("bnts,bsnh->btnh", probs, value)


# query x key positions from which attention runs one (batch, head) at a time
MAPPED_ATTENTION_MIN = 256 * 256


def _mapped_attention(query, key, value, mask, is_causal, scale):
    """Long attention one (batch, head) at a time, as a lax.map over the B * N heads:
    XLA:CPU runs the whole-batch form at 20-30 GFLOP/s (it streams a (B, N, T, S) score
    tensor through memory), where each head's (T, S) block stays in cache (Whisper's
    encoder, 8 x 1500 positions x 6 heads: 750 -> 200 ms per layer). ``mask`` is None or a
    key mask (B or 1, N or 1, 1, S)."""
    b, t, n, h = query.shape
    s, kv_heads = key.shape[1], key.shape[2]
    if n != kv_heads:
        key = jnp.repeat(key, n // kv_heads, axis=2)
        value = jnp.repeat(value, n // kv_heads, axis=2)
    heads = (jnp.transpose(query, (0, 2, 1, 3)).reshape(b * n, t, h),
             jnp.transpose(key, (0, 2, 3, 1)).reshape(b * n, h, s),
             jnp.transpose(value, (0, 2, 1, 3)).reshape(b * n, s, value.shape[-1]))
    if mask is not None:
        heads += (jnp.broadcast_to(mask[:, :, 0], (b, n, s)).reshape(b * n, s),)
    causal = jnp.tril(jnp.ones((t, s), bool), s - t) if is_causal else None
    compute = jnp.float32 if query.dtype in (jnp.float16, jnp.bfloat16) else query.dtype
    negative = _large_negative(query.dtype)

    def one(arrays):  # (T, H), (H, S), (S, Hv)[, (S,)] -> (T, Hv)
        q, k, v = arrays[:3]
        logits = jnp.matmul(q, k, preferred_element_type=compute) * jnp.asarray(scale, compute)
        if mask is not None:
            logits = jnp.where(arrays[3][None, :], logits, negative)
        if causal is not None:
            logits = jnp.where(causal, logits, negative)
        # the softmax's division after the product: on the (T, Hv) output, not the (T, S)
        # scores (Whisper's encoder at batch 8: 199 -> 183 ms a layer)
        weights = jnp.exp(logits - jnp.max(logits, axis=-1, keepdims=True))
        total = jnp.sum(weights, axis=-1, keepdims=True)
        out = jnp.matmul(weights.astype(v.dtype), v, preferred_element_type=compute)
        return (out / total).astype(v.dtype)

    out = lax.map(one, heads)                                              # (B*N, T, Hv)
    return jnp.transpose(out.reshape(b, n, t, -1), (0, 2, 1, 3))


def dot_product_attention(query, key, value, bias, mask, is_causal, scale, fused=True):
    q_len, kv_len = query.shape[1], key.shape[1]
    bias, mask = _as_4d(bias), _as_4d(mask)
    if bias is None and (mask is None or mask.shape[2] == 1) and \
            q_len * kv_len >= MAPPED_ATTENTION_MIN and query.shape[0] * query.shape[2] > 1:
        return _mapped_attention(query, key, value, mask, is_causal, scale)
    if fused and value.shape[-1] == query.shape[-1]:
        causal_flag = is_causal and q_len == kv_len
        if is_causal and not causal_flag:
            mask = _full_mask(mask, True, q_len, kv_len)
        return jax.nn.dot_product_attention(query, key, value, bias=bias, mask=mask,
                                            scale=scale, is_causal=causal_flag)
    mask = _full_mask(mask, is_causal, q_len, kv_len)
    return _reference_attention(query, key, value, bias, mask, scale)


# -- loss primitives ------------------------------------------------------------------------

def _clip_probs(output):
    eps = config.epsilon()
    return jnp.clip(output, eps, 1 - eps)


def binary_crossentropy(target, output, from_logits):
    if from_logits:
        return jax.nn.relu(output) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    p = _clip_probs(output)
    return -(target * jnp.log(p) + (1 - target) * jnp.log1p(-p))


def categorical_crossentropy(target, output, from_logits, axis):
    if from_logits:
        log_p = jax.nn.log_softmax(output, axis=axis)
    else:
        log_p = jnp.log(_clip_probs(output / jnp.sum(output, axis=axis, keepdims=True)))
    return -jnp.sum(target * log_p, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits, axis):
    if target.ndim == output.ndim:
        target = jnp.squeeze(target, axis)
    target = one_hot(target, output.shape[axis], axis, output.dtype)
    return categorical_crossentropy(target, output, from_logits, axis)


_ACTIVATIONS = {"relu": relu, "gelu": lambda x: gelu(x, False), "silu": silu}  # for linear
