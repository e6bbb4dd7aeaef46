"""DepthwiseConv1D / DepthwiseConv2D: one filter bank per input channel, channels-last.

The kernel is ``(*kernel_size, in_channels, depth_multiplier)`` (Keras' layout); output
channel ``c * depth_multiplier + m`` comes from input channel ``c``. It runs as a grouped
convolution with ``groups = in_channels``.
"""
from zoo import ops
from zoo.layers import activations, initializers
from zoo.layers.convolution.base import check_data_format, normalize_padding, normalize_tuple
from zoo.layers.layer import Layer


class BaseDepthwiseConv(Layer):
    rank = None

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size")
        self.strides = normalize_tuple(strides, n, "strides")
        self.padding = normalize_padding(padding)
        self.depth_multiplier = int(depth_multiplier)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate")
        self._activation_id = activation
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{self.rank + 2} with a known channel dimension, got shape "
                             f"{tuple(input_shape)}.")
        channels = input_shape[-1]
        self.kernel = self.add_weight(self.kernel_size + (channels, self.depth_multiplier),
                                      self.depthwise_initializer, name="kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((channels * self.depth_multiplier,),
                                        self.bias_initializer, name="bias")
        # the grouped-conv kernel: (*kernel_size, 1, channels * depth_multiplier)
        self._grouped_shape = self.kernel_size + (1, channels * self.depth_multiplier)
        self.built = True

    def call(self, inputs):
        kernel = ops.reshape(self.kernel.value, self._grouped_shape)
        x = ops.conv(inputs, kernel, strides=self.strides, padding=self.padding,
                     dilation_rate=self.dilation_rate)
        if self.bias is not None:
            x = ops.add(x, self.bias.value)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding,
                "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "activation": activations.serialize(self._activation_id),
                "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


class DepthwiseConv1D(BaseDepthwiseConv):
    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    rank = 2
