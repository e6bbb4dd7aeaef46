"""nn ops for the torch backend (inputs already converted and promoted by zoo.ops.nn).

Tensors are channels-last in zoo; convolution and pooling permute to torch's
channels-first layout and back, and pad explicitly for TF-style "same" padding.
"""
import math

import torch
import torch.nn.functional as F

from zoo.backend.common import config
from zoo.backend.torch import accel
from zoo.backend.torch.core import to_framework_dtype


def linear(x, kernel, bias, activation=None):
    out = accel.linear(x, kernel, bias)  # a packed copy, or oneDNN, where either applies
    if out is None:
        out = _product(x, kernel, bias)
    if activation is None:
        return out
    # the product is a fresh tensor: without autograd, activate it in place rather than
    # allocate another (BERT-base 8 x 128 forward: about 4% of its time went to the GELU
    # outputs' new pages)
    if torch.is_grad_enabled() and out.requires_grad:
        return _OUT_OF_PLACE[activation](out)
    return _IN_PLACE[activation](out)


def _product(x, kernel, bias):
    if bias is None:
        return torch.matmul(x, kernel)
    if x.ndim == 2:
        return torch.addmm(bias, x, kernel)
    out = torch.addmm(bias, x.reshape(-1, x.shape[-1]), kernel)
    return out.reshape(*x.shape[:-1], kernel.shape[-1])


_OUT_OF_PLACE = {"relu": F.relu, "gelu": F.gelu, "silu": F.silu}
_IN_PLACE = {"relu": torch.relu_, "gelu": torch.ops.aten.gelu_,
             "silu": lambda x: F.silu(x, inplace=True)}


def relu(x):
    return F.relu(x)


def relu6(x):
    return F.relu6(x)


def sigmoid(x):
    return torch.sigmoid(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def silu(x):
    return F.silu(x)


def gelu(x, approximate):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x, alpha):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def leaky_relu(x, negative_slope):
    return F.leaky_relu(x, negative_slope)


def hard_sigmoid(x):
    return F.relu6(x + 3) / 6


def hard_silu(x):
    return x * hard_sigmoid(x)


def log_sigmoid(x):
    return F.logsigmoid(x)


def _move_axes_last(x, axes):
    """Flatten ``axes`` into one trailing axis (for reductions over several axes)."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = x.permute(*rest, *axes)
    return moved.reshape(*moved.shape[:len(rest)], -1), rest, moved.shape


def _apply_over_axes(fn, x, axes):
    if len(axes) == 1:
        return fn(x, axes[0])
    flat, rest, moved_shape = _move_axes_last(x, axes)
    out = fn(flat, -1).reshape(moved_shape)
    inverse = [0] * x.ndim
    for i, a in enumerate(list(rest) + list(axes)):
        inverse[a] = i
    return out.permute(*inverse)


def softmax(x, axis):
    return _apply_over_axes(lambda t, a: torch.softmax(t, dim=a), x, axis)


def log_softmax(x, axis):
    return _apply_over_axes(lambda t, a: torch.log_softmax(t, dim=a), x, axis)


def layer_norm(x, gamma, beta, axes, epsilon):
    trailing = tuple(range(x.ndim - len(axes), x.ndim))
    if axes == trailing and (gamma is None or gamma.ndim == len(axes)) \
            and (beta is None or beta.ndim == len(axes)):
        return F.layer_norm(x, x.shape[-len(axes):], gamma, beta, epsilon)
    mean = torch.mean(x, dim=axes, keepdim=True)
    var = torch.mean(torch.square(x - mean), dim=axes, keepdim=True)
    out = (x - mean) * torch.rsqrt(var + epsilon)
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return out


def moments(x, axes, keepdims):
    var, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=keepdims)
    return mean, var


def one_hot(x, num_classes, axis, dtype):
    classes = torch.arange(num_classes, device=x.device).reshape((-1,) + (1,) * (x.ndim - axis))
    return (x.unsqueeze(axis) == classes).to(to_framework_dtype(dtype))


# -- convolution and pooling ----------------------------------------------------------------

def _same_padding(size, k, stride, dilation):
    """TF "same" padding: (before, after) for one spatial dim."""
    total = max((-(-size // stride) - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _channels_first(x, data_format):
    return x if data_format == "channels_first" else x.movedim(-1, 1)


def _restore(x, data_format):
    return x if data_format == "channels_first" else x.movedim(1, -1)


def _same_pads(x, window, strides, dilation):
    return [_same_padding(s, k, st, d)
            for s, k, st, d in zip(x.shape[2:], window, strides, dilation)]


def _pad(x, pads, value):
    """Pad the spatial dims of a channels-first tensor by (before, after) pairs."""
    return F.pad(x, [p for lo_hi in reversed(pads) for p in lo_hi], value=value)


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias=None,
         activation=None):
    out = _conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias)
    if activation is None:
        return out
    if torch.is_grad_enabled() and out.requires_grad:
        return _OUT_OF_PLACE[activation](out)
    return _IN_PLACE[activation](out)  # a fresh output: activated where it lies


def _conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias):
    n = inputs.ndim - 2
    x = _channels_first(inputs, data_format)
    groups = x.shape[1] // kernel.shape[-2]
    weight = _conv_weight(kernel, n, x.is_contiguous(memory_format=torch.channels_last))
    pad = 0
    if padding != "valid":  # "same" or explicit (before, after) pairs
        pads = padding if isinstance(padding, tuple) else \
            _same_pads(x, kernel.shape[:n], strides, dilation_rate)
        if all(lo == hi for lo, hi in pads):
            pad = tuple(lo for lo, _ in pads)
        else:
            x = _pad(x, pads, 0.0)
    out = _CONV[n](x, weight, bias, stride=strides, padding=pad, dilation=dilation_rate,
                   groups=groups)
    return _restore(out, data_format)


def _conv_weight(kernel, n, channels_last):
    """The (*spatial, in, out) kernel as torch's (out, in, *spatial) weight. oneDNN lays a
    permuted view out again on every call (~5 ms of a YOLOv8n forward at batch 1), so
    outside autograd the laid-out copy stays on the kernel tensor until the kernel changes
    in place (its version) or the layout asked for does."""
    weight = kernel.permute(n + 1, n, *range(n))
    if (torch.is_grad_enabled() and kernel.requires_grad) or \
            type(kernel) not in (torch.Tensor, torch.nn.Parameter) or kernel.is_inference():
        return weight  # training, tracing (fake tensors) or no version counter: no cache
    layout = torch.channels_last if n == 2 and channels_last else torch.contiguous_format
    key = (kernel._version, layout)
    cached = getattr(kernel, "_zoo_conv_weight", None)
    if cached is None or cached[0] != key:
        cached = key, weight.contiguous(memory_format=layout)
        kernel._zoo_conv_weight = cached
    return cached[1]


def max_pool(inputs, pool_size, strides, padding, data_format):
    n = inputs.ndim - 2
    x = _channels_first(inputs, data_format)
    if padding == "same":
        x = _pad(x, _same_pads(x, pool_size, strides, (1,) * n), -math.inf)
    return _restore(_MAX_POOL[n](x, pool_size, strides), data_format)


def average_pool(inputs, pool_size, strides, padding, data_format):
    n = inputs.ndim - 2
    x = _channels_first(inputs, data_format)
    if padding == "valid":
        return _restore(_AVG_POOL[n](x, pool_size, strides), data_format)
    pads = _same_pads(x, pool_size, strides, (1,) * n)
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    # the mean over every cell / the fraction of real cells = the mean over the real cells
    total = _AVG_POOL[n](_pad(x, pads, 0.0), pool_size, strides)
    count = _AVG_POOL[n](_pad(ones, pads, 0.0), pool_size, strides)
    return _restore(total / count, data_format)


# -- attention ------------------------------------------------------------------------------

def _large_negative(dtype):
    return -0.7 * float(torch.finfo(dtype).max)


def _causal_mask(q_len, kv_len, device):
    return torch.ones((q_len, kv_len), dtype=torch.bool, device=device).tril(kv_len - q_len)


def _reference_attention(q, k, v, bias, mask, scale):
    """q (B, N, T, H), k/v (B, N, S, H) with heads already matched."""
    half = q.dtype in (torch.float16, torch.bfloat16)
    compute = torch.float32 if half else q.dtype
    logits = torch.matmul(q.to(compute), k.to(compute).transpose(-1, -2)) * scale
    if bias is not None:
        logits = logits + bias.to(compute)
    if mask is not None:
        logits = logits.masked_fill(~mask, _large_negative(q.dtype))
    probs = torch.softmax(logits, dim=-1).to(v.dtype)
    return torch.matmul(probs, v)


def dot_product_attention(query, key, value, bias, mask, is_causal, scale, fused=True):
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))  # -> (B, N, T, H)
    heads, kv_heads = q.shape[1], k.shape[1]
    q_len, kv_len = q.shape[2], k.shape[2]
    causal_flag = is_causal and q_len == kv_len and bias is None and mask is None
    if is_causal and not causal_flag:
        causal = _causal_mask(q_len, kv_len, q.device)
        mask = causal if mask is None else torch.logical_and(mask, causal)
    if fused:
        attn_mask = bias
        if mask is not None:  # finite large negative: a fully masked row averages the values
            attn_mask = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill(
                ~mask, _large_negative(q.dtype))
            if bias is not None:
                attn_mask = attn_mask + bias
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=causal_flag,
                                             scale=scale, enable_gqa=heads != kv_heads)
    else:
        if heads != kv_heads:
            k = k.repeat_interleave(heads // kv_heads, dim=1)
            v = v.repeat_interleave(heads // kv_heads, dim=1)
        if causal_flag:
            mask = _causal_mask(q_len, kv_len, q.device)
        out = _reference_attention(q, k, v, bias, mask, scale)
    return out.transpose(1, 2)


# -- loss primitives ------------------------------------------------------------------------

def _clip_probs(output):
    eps = config.epsilon()
    return torch.clamp(output, eps, 1 - eps)


def binary_crossentropy(target, output, from_logits):
    if from_logits:
        return F.relu(output) - output * target + torch.log1p(torch.exp(-torch.abs(output)))
    p = _clip_probs(output)
    return -(target * torch.log(p) + (1 - target) * torch.log1p(-p))


def categorical_crossentropy(target, output, from_logits, axis):
    if from_logits:
        log_p = torch.log_softmax(output, dim=axis)
    else:
        log_p = torch.log(_clip_probs(output / torch.sum(output, dim=axis, keepdim=True)))
    return -torch.sum(target * log_p, dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits, axis):
    if target.ndim == output.ndim:
        target = target.squeeze(axis)
    if from_logits:  # one fused kernel (log-softmax + gather), no one-hot tensor
        axis = axis % output.ndim
        classes = output.shape[axis]
        # out-of-range ids (padding) become torch's ignore index: a loss of 0
        target = torch.where((target >= 0) & (target < classes), target, -100).long()
        if axis != 1 or output.ndim == 1:
            output = output.movedim(axis, -1).reshape(-1, classes)
            shape = target.shape
            return F.cross_entropy(output, target.reshape(-1), reduction="none",
                                   ignore_index=-100).reshape(shape)
        return F.cross_entropy(output, target, reduction="none", ignore_index=-100)
    target = one_hot(target, output.shape[axis], axis, output.dtype)
    return categorical_crossentropy(target, output, from_logits, axis)
