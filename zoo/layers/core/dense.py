"""Dense: ``activation(inputs @ kernel + bias)`` over the last axis."""
from zoo import ops
from zoo.layers import activations, initializers
from zoo.layers.layer import Layer


class Dense(Layer):
    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self._activation_id = activation
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Dense layer '{self.name}': the last input dimension must be "
                             f"known, got shape {input_shape}.")
        self.kernel = self.add_weight((in_dim, self.units), self.kernel_initializer, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias")
        self.built = True

    def call(self, inputs):
        kernel = self.kernel
        if inputs.shape[-1] != kernel.shape[0]:
            raise ValueError(f"Dense layer '{self.name}' expects inputs whose last dimension is "
                             f"{kernel.shape[0]}, got shape {tuple(inputs.shape)}.")
        x = ops.linear(inputs, kernel.value, self.bias.value if self.use_bias else None)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self._activation_id),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}
