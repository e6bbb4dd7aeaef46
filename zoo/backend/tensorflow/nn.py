"""nn ops for the tensorflow backend (inputs already converted and promoted by zoo.ops.nn)."""
import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla
from tensorflow.python.ops import control_flow_util

from zoo.backend.common import config
from zoo.backend.tensorflow.numpy import matmul


@tf.custom_gradient
def _fence(x):
    return xla.optimization_barrier(x)[0], lambda dy: dy


def _in_xla(tensor):
    """True for a graph tensor built inside an XLA (jit_compile) function."""
    return not tf.executing_eagerly() \
        and control_flow_util.GraphOrParentsInXlaContext(tensor.graph)


def _unfused_kernel(kernel):
    """Inside XLA, a kernel reshaped from a variable of another rank (EinsumDense's
    (in, heads, head_dim) kernels) is fenced off from its matmul. Otherwise XLA:CPU fuses
    the reshape into a loop-emitted matrix-vector product, 2.3x slower than its GEMV."""
    op = getattr(kernel, "op", None) if not tf.executing_eagerly() else None  # graph only
    if op is None or op.type != "Reshape" or not _in_xla(kernel):
        return kernel
    return _fence(kernel)


def linear(x, kernel, bias, activation=None):
    y = matmul(x, _unfused_kernel(kernel))  # broadcasts the kernel over the batch dims
    if bias is not None:
        if _in_xla(y):
            # the same for the bias: fused into its product, XLA:CPU loop-emits the GEMV
            # (OPT-125m batch-1 decode layers 23 -> 17 ms/token)
            y = _fence(y)
        y = tf.nn.bias_add(y, bias)
    return y if activation is None else _ACTIVATIONS[activation](y)


def relu(x):
    return tf.nn.relu(x)


def relu6(x):
    return tf.nn.relu6(x)


def sigmoid(x):
    return tf.sigmoid(x)


def softplus(x):
    return tf.math.softplus(x)


def softsign(x):
    return tf.nn.softsign(x)


def silu(x):
    return tf.nn.silu(x)


def gelu(x, approximate):
    return tf.nn.gelu(x, approximate=approximate)


def elu(x, alpha):
    return tf.where(x > 0, x, alpha * tf.math.expm1(tf.minimum(x, 0)))


def selu(x):
    return tf.nn.selu(x)


def leaky_relu(x, negative_slope):
    return tf.nn.leaky_relu(x, alpha=negative_slope)


def hard_sigmoid(x):
    return tf.nn.relu6(x + 3) / 6


def hard_silu(x):
    return x * hard_sigmoid(x)


def log_sigmoid(x):
    return tf.math.log_sigmoid(x)


def softmax(x, axis):
    if len(axis) == 1:
        return tf.nn.softmax(x, axis=axis[0])
    e = tf.exp(x - tf.stop_gradient(tf.reduce_max(x, axis=axis, keepdims=True)))
    return e / tf.reduce_sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    if len(axis) == 1:
        return tf.nn.log_softmax(x, axis=axis[0])
    shifted = x - tf.stop_gradient(tf.reduce_max(x, axis=axis, keepdims=True))
    return shifted - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=axis, keepdims=True))


def layer_norm(x, gamma, beta, axes, epsilon):
    mean, var = tf.nn.moments(x, axes=list(axes), keepdims=True)
    out = (x - mean) * tf.math.rsqrt(var + tf.cast(epsilon, x.dtype))
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return out


def moments(x, axes, keepdims):
    mean = tf.reduce_mean(x, axis=axes, keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), axis=axes, keepdims=keepdims)
    return (mean if keepdims else tf.squeeze(mean, axis=axes)), var


def one_hot(x, num_classes, axis, dtype):
    if x.dtype not in (tf.uint8, tf.int32, tf.int64):
        x = tf.cast(x, tf.int64)
    return tf.one_hot(x, num_classes, axis=axis, dtype=dtype)


# -- convolution and pooling ----------------------------------------------------------------

def _channels_last(x, data_format):
    if data_format == "channels_last":
        return x
    return tf.transpose(x, [0, *range(2, x.shape.rank), 1])


def _restore(x, data_format):
    if data_format == "channels_last":
        return x
    return tf.transpose(x, [0, x.shape.rank - 1, *range(1, x.shape.rank - 1)])


def _dilate_kernel(kernel, dilation):
    """Insert (d - 1) zeros between kernel taps: TF refuses strides > 1 with dilation > 1."""
    for axis, d in enumerate(dilation):
        if d == 1:
            continue
        k = kernel.shape[axis]
        stacked = tf.stack([kernel] + [tf.zeros_like(kernel)] * (d - 1), axis=axis + 1)
        shape = tf.concat([tf.shape(kernel)[:axis], [k * d], tf.shape(kernel)[axis + 1:]], 0)
        kernel = tf.reshape(stacked, shape)
        kernel = tf.gather(kernel, tf.range((k - 1) * d + 1), axis=axis)
    return kernel


def conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias=None,
         activation=None):
    out = _conv(inputs, kernel, strides, padding, data_format, dilation_rate)
    if bias is not None:
        out = out + (bias if data_format == "channels_last" else
                     tf.reshape(bias, (-1,) + (1,) * (inputs.shape.rank - 2)))
    return out if activation is None else _ACTIVATIONS[activation](out)


def _conv(inputs, kernel, strides, padding, data_format, dilation_rate):
    x = _channels_last(inputs, data_format)
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation_rate):
        kernel = _dilate_kernel(kernel, dilation_rate)
        dilation_rate = (1,) * len(dilation_rate)
    groups = x.shape[-1] // kernel.shape[-2]
    if isinstance(padding, tuple):  # explicit (before, after) pairs
        explicit = [[0, 0], *map(list, padding), [0, 0]]
        if len(padding) == 2 and groups == 1:
            out = tf.nn.conv2d(x, kernel, strides=list(strides), padding=explicit,
                               dilations=list(dilation_rate))
            return _restore(out, data_format)
        x, padding = tf.pad(x, explicit), "valid"
    if groups > 1:
        # TF has no CPU gradient for grouped convolutions: run the groups one by one.
        xs = tf.split(x, groups, axis=-1)
        ks = tf.split(kernel, groups, axis=-1)
        out = tf.concat([tf.nn.convolution(xg, kg, strides=list(strides), padding=padding.upper(),
                                           dilations=list(dilation_rate))
                         for xg, kg in zip(xs, ks)], axis=-1)
    else:
        out = tf.nn.convolution(x, kernel, strides=list(strides), padding=padding.upper(),
                                dilations=list(dilation_rate))
    return _restore(out, data_format)


def max_pool(inputs, pool_size, strides, padding, data_format):
    x = _channels_last(inputs, data_format)
    out = tf.nn.max_pool(x, list(pool_size), list(strides), padding.upper())
    return _restore(out, data_format)


def average_pool(inputs, pool_size, strides, padding, data_format):
    x = _channels_last(inputs, data_format)
    out = tf.nn.avg_pool(x, list(pool_size), list(strides), padding.upper())
    return _restore(out, data_format)


# -- attention ------------------------------------------------------------------------------

def _large_negative(dtype):
    return -0.7 * dtype.max


# Under XLA, long attention (an encoder's 1500 x 1500) runs one (batch, head) at a time: a
# while loop whose (T, S) scores stay in cache, where the whole-batch einsum streams a
# (B, N, T, S) tensor through memory (as jax's backend does; see _mapped_attention).
MAPPED_ATTENTION_MIN = 256 * 256


def _maps_heads(query, key, bias, mask):
    b, t, n = query.shape[:3]
    s = key.shape[1]
    key_mask = mask is None or (mask.shape.rank == 4 and mask.shape[2] == 1)
    return bias is None and key_mask and None not in (b, t, n, s) and b * n > 1 \
        and t * s >= MAPPED_ATTENTION_MIN and _in_xla(query)


def _mapped_attention(query, key, value, mask, is_causal, scale, compute):
    """query (B, T, N, H), key/value (B, S, N, H*) with heads matched, ``mask`` None or a
    key mask (B or 1, N or 1, 1, S) -> (B, T, N, Hv), one head per loop step."""
    b, t, n, h = query.shape
    s, hv = key.shape[1], value.shape[-1]

    def heads_first(x, length, width):
        return tf.reshape(tf.transpose(x, (0, 2, 1, 3)), (b * n, length, width))

    elems = (heads_first(tf.cast(query, compute), t, h), heads_first(tf.cast(key, compute), s, h),
             heads_first(value, s, hv))
    if mask is not None:
        elems += (tf.reshape(tf.broadcast_to(mask[:, :, 0], (b, n, s)), (b * n, s)),)
    causal = tf.linalg.band_part(tf.ones((t, s), tf.bool), -1, s - t) if is_causal else None
    negative = tf.cast(_large_negative(query.dtype), compute)

    def one(arrays):  # (T, H), (S, H), (S, Hv)[, (S,)] -> (T, Hv)
        logits = tf.matmul(arrays[0], arrays[1], transpose_b=True) * tf.cast(scale, compute)
        if mask is not None:
            logits = tf.where(arrays[3][None, :], logits, negative)
        if causal is not None:
            logits = tf.where(causal, logits, negative)
        return tf.matmul(tf.cast(tf.nn.softmax(logits, axis=-1), value.dtype), arrays[2])

    out = tf.map_fn(one, elems, fn_output_signature=tf.TensorSpec((t, hv), value.dtype))
    return tf.transpose(tf.reshape(out, (b, n, t, hv)), (0, 2, 1, 3))


def dot_product_attention(query, key, value, bias, mask, is_causal, scale, fused=True):
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads != kv_heads:
        key = tf.repeat(key, heads // kv_heads, axis=2)
        value = tf.repeat(value, heads // kv_heads, axis=2)
    compute = tf.float32 if query.dtype in (tf.float16, tf.bfloat16) else query.dtype
    if _maps_heads(query, key, bias, mask):
        return _mapped_attention(query, key, value, mask, is_causal, scale, compute)
    logits = tf.einsum("btnh,bsnh->bnts", tf.cast(query, compute), tf.cast(key, compute))
    logits = logits * tf.cast(scale, compute)
    if bias is not None:
        logits = logits + tf.cast(bias, compute)
    if is_causal:
        q_len, kv_len = tf.shape(query)[1], tf.shape(key)[1]
        causal = tf.linalg.band_part(tf.ones(tf.stack([q_len, kv_len]), tf.bool),
                                     -1, kv_len - q_len)
        mask = causal if mask is None else tf.logical_and(mask, causal)
    if mask is not None:
        logits = tf.where(mask, logits, tf.cast(_large_negative(query.dtype), compute))
    probs = tf.cast(tf.nn.softmax(logits, axis=-1), value.dtype)
    return tf.einsum("bnts,bsnh->btnh", probs, value)


# -- loss primitives ------------------------------------------------------------------------

def _clip_probs(output):
    eps = config.epsilon()
    return tf.clip_by_value(output, eps, 1 - eps)


def binary_crossentropy(target, output, from_logits):
    if from_logits:
        return tf.nn.relu(output) - output * target + tf.math.log1p(tf.exp(-tf.abs(output)))
    p = _clip_probs(output)
    return -(target * tf.math.log(p) + (1 - target) * tf.math.log1p(-p))


def categorical_crossentropy(target, output, from_logits, axis):
    if from_logits:
        log_p = tf.nn.log_softmax(output, axis=axis)
    else:
        log_p = tf.math.log(_clip_probs(output / tf.reduce_sum(output, axis=axis, keepdims=True)))
    return -tf.reduce_sum(target * log_p, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits, axis):
    if target.shape.rank == output.shape.rank:
        target = tf.squeeze(target, axis)
    target = one_hot(target, output.shape[axis], axis, output.dtype)
    return categorical_crossentropy(target, output, from_logits, axis)


_ACTIVATIONS = {"relu": relu, "gelu": lambda x: gelu(x, False), "silu": silu}  # for linear
