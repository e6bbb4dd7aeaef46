"""CSP-Darknet building blocks (YOLOv8's Conv, Bottleneck, C2f, SPPF), written from the
architecture description as functions that wire zoo layers onto (symbolic) NHWC tensors.

Every conv is ``conv (no bias) -> BatchNormalization -> SiLU``; a k x k conv pads k // 2 on
every side (torch's symmetric padding, also for stride 2, which Keras' "same" would pad
(0, 1)). With ``fused=True`` the blocks are built for inference with each BatchNorm folded
into its conv (``fold_batch_norm``): conv with a bias -> SiLU. Layer names are ``{prefix}_conv`` / ``{prefix}_bn`` so a caller can map weights by
name; ``conv_bn_pairs(model)`` finds each (Conv2D, BatchNormalization) pair again.

    conv_bn_act(x, filters, k, s)     (B, H, W, C) -> (B, H/s, W/s, filters)
    bottleneck(x, filters, shortcut)  two 3x3 convs (+ x when shortcut and channels match)
    c2f(x, filters, n, shortcut)      1x1 conv to 2c, split, n bottlenecks on the last half,
                                      concat the (2 + n) halves, 1x1 conv to filters; c = filters/2
    sppf(x, filters, pool_size=5)     1x1 conv to C/2, three chained stride-1 max pools,
                                      concat the four, 1x1 conv to filters
"""
import numpy as np

from zoo import ops
from zoo.layers.convolution.conv import Conv2D
from zoo.layers.core.activation import Activation
from zoo.layers.merging import Add, Concatenate
from zoo.layers.normalization import BatchNormalization
from zoo.layers.layer import Layer
from zoo.layers.pooling import MaxPooling2D

# ultralytics' BatchNorm2d(eps=1e-3, momentum=0.03) in Keras terms (momentum = 1 - 0.03)
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.97


class ChannelSplit(Layer):
    """(B, H, W, C) -> ``num_splits`` equal (B, H, W, C / num_splits) pieces, in order."""

    def __init__(self, num_splits=2, **kwargs):
        super().__init__(**kwargs)
        self.num_splits = int(num_splits)
        self.built = True

    def call(self, inputs):
        return list(ops.split(inputs, self.num_splits, axis=-1))

    def get_config(self):
        return {**super().get_config(), "num_splits": self.num_splits}


def conv_bn_act(x, filters, kernel_size=1, strides=1, prefix="conv", dtype=None, fused=False):
    """conv(k, s, pad k//2, no bias) -> BN(eps 1e-3) -> SiLU; ``fused``: conv with a bias
    (the BatchNorm folded into it, see ``fold_batch_norm``) -> SiLU."""
    if fused:  # one call: conv + bias + SiLU
        return Conv2D(filters, kernel_size, strides=strides, padding=kernel_size // 2,
                      activation="silu", name=f"{prefix}_conv", dtype=dtype)(x)
    x = Conv2D(filters, kernel_size, strides=strides, padding=kernel_size // 2,
               use_bias=False, name=f"{prefix}_conv", dtype=dtype)(x)
    x = BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{prefix}_bn",
                           dtype=dtype)(x)
    return Activation("silu", name=f"{prefix}_act", dtype=dtype)(x)


def bottleneck(x, filters, shortcut=True, prefix="bottleneck", dtype=None, fused=False):
    """Two 3x3 conv blocks; adds the input when ``shortcut`` and channels match."""
    y = conv_bn_act(x, filters, 3, prefix=f"{prefix}_cv1", dtype=dtype, fused=fused)
    y = conv_bn_act(y, filters, 3, prefix=f"{prefix}_cv2", dtype=dtype, fused=fused)
    if shortcut and x.shape[-1] == filters:
        y = Add(name=f"{prefix}_add", dtype=dtype)([x, y])
    return y


def c2f(x, filters, num_blocks=1, shortcut=False, prefix="c2f", dtype=None, fused=False):
    """CSP with two convs and ``num_blocks`` bottlenecks (hidden c = filters // 2)."""
    hidden = filters // 2
    y = conv_bn_act(x, 2 * hidden, 1, prefix=f"{prefix}_cv1", dtype=dtype, fused=fused)
    halves = list(ChannelSplit(2, name=f"{prefix}_split", dtype=dtype)(y))
    for i in range(num_blocks):
        halves.append(bottleneck(halves[-1], hidden, shortcut, prefix=f"{prefix}_m_{i}",
                                 dtype=dtype, fused=fused))
    y = Concatenate(axis=-1, name=f"{prefix}_concat", dtype=dtype)(halves)
    return conv_bn_act(y, filters, 1, prefix=f"{prefix}_cv2", dtype=dtype, fused=fused)


def sppf(x, filters, pool_size=5, prefix="sppf", dtype=None, fused=False):
    """Spatial pyramid pooling (fast): pools of 5, 9, 13 as three chained 5x5 pools."""
    hidden = x.shape[-1] // 2
    y = conv_bn_act(x, hidden, 1, prefix=f"{prefix}_cv1", dtype=dtype, fused=fused)
    pooled = [y]
    for i in range(3):
        pooled.append(MaxPooling2D(pool_size, strides=1, padding="same",
                                   name=f"{prefix}_pool_{i}", dtype=dtype)(pooled[-1]))
    y = Concatenate(axis=-1, name=f"{prefix}_concat", dtype=dtype)(pooled)
    return conv_bn_act(y, filters, 1, prefix=f"{prefix}_cv2", dtype=dtype, fused=fused)


def fold_batch_norm(kernel, gamma, beta, mean, variance, epsilon=BN_EPSILON):
    """A conv kernel (..., out) followed by inference-mode BatchNorm -> the (kernel, bias)
    of one conv computing the same: kernel * s, beta - mean * s with
    s = gamma / sqrt(variance + epsilon). NumPy, in float64."""
    scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(variance, np.float64) + epsilon)
    folded = np.asarray(kernel, np.float64) * scale
    return folded, np.asarray(beta, np.float64) - np.asarray(mean, np.float64) * scale


def conv_bn_pairs(model):
    """{prefix: (Conv2D, BatchNormalization)} for every block made by ``conv_bn_act``."""
    found = {}
    for layer in model._flatten_layers(include_self=False):
        found[layer.name] = layer
    pairs = {}
    for name, layer in found.items():
        if name.endswith("_conv") and isinstance(layer, Conv2D):
            bn = found.get(name[:-5] + "_bn")
            if isinstance(bn, BatchNormalization):
                pairs[name[:-5]] = (layer, bn)
    return pairs
