"""Conv1D / Conv2D / Conv3D: ``activation(conv(inputs, kernel) + bias)``, channels-last.

The kernel is ``(*kernel_size, in_channels // groups, filters)``; ``groups > 1`` splits the
channels into independent groups. Conv1D also accepts ``padding="causal"`` (left padding so
output t sees only inputs <= t). Besides "valid" and "same", ``padding`` may be explicit zero
padding as torch's ``Conv2d`` takes it: an int, one int per spatial dim, or (before, after)
pairs (``Conv2D(64, 3, strides=2, padding=1)`` pads one pixel on every side).
"""
from zoo import ops
from zoo.layers import activations, initializers
from zoo.layers.convolution.base import check_data_format, normalize_conv_padding, normalize_tuple
from zoo.layers.layer import Layer


class BaseConv(Layer):
    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size")
        self.strides = normalize_tuple(strides, n, "strides")
        allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
        self.padding = normalize_conv_padding(padding, n, allowed)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate")
        self.groups = int(groups)
        if self.filters <= 0 or self.groups <= 0 or self.filters % self.groups:
            raise ValueError(f"{type(self).__name__}: filters ({self.filters}) must be a "
                             f"positive multiple of groups ({self.groups}).")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{type(self).__name__}: strides > 1 with dilation_rate > 1 is "
                             f"not supported.")
        self._activation_id = activation
        self.activation = activations.get(activation)
        # a named activation the conv op applies itself (with the bias, in one call)
        self._conv_activation = activation if isinstance(activation, str) \
            and activation in ops.nn.LINEAR_ACTIVATIONS else None
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{self.rank + 2} (batch, *spatial, channels), got shape "
                             f"{tuple(input_shape)}.")
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel dimension "
                             f"must be known and divisible by groups={self.groups}, got "
                             f"shape {tuple(input_shape)}.")
        self.kernel = self.add_weight(
            self.kernel_size + (channels // self.groups, self.filters), self.kernel_initializer,
            name="kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias")
        self._conv_padding = "valid" if self.padding == "causal" else self.padding
        self._causal_pad = None
        if self.padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            self._causal_pad = ((0, 0), (left, 0), (0, 0))
        self.built = True

    def call(self, inputs):
        if self._causal_pad is not None:
            inputs = ops.pad(inputs, self._causal_pad)
        x = ops.conv(inputs, self.kernel.value, strides=self.strides,
                     padding=self._conv_padding, dilation_rate=self.dilation_rate,
                     bias=None if self.bias is None else self.bias.value,
                     activation=self._conv_activation)
        if self.activation is not None and self._conv_activation is None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding if isinstance(self.padding, str)
                else [list(p) for p in self.padding], "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self._activation_id),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


class Conv1D(BaseConv):
    rank = 1


class Conv2D(BaseConv):
    rank = 2


class Conv3D(BaseConv):
    rank = 3
