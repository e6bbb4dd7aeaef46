"""Dense: ``activation(inputs @ kernel + bias)`` over the last axis.

``enable_lora(rank)`` freezes the kernel and adds ``lora_kernel_a`` (in, rank) and
``lora_kernel_b`` (rank, units): the output becomes
``activation(inputs @ kernel + bias + (inputs @ a) @ b * alpha / rank)``.
"""
from zoo import ops
from zoo.layers import activations, initializers
from zoo.layers.core import lora
from zoo.layers.layer import Layer


class Dense(lora.LoraMixin, Layer):
    _lora_target = "kernel"
    _lora_names = ("lora_kernel_a", "lora_kernel_b")

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", lora_rank=None,
                 lora_alpha=None, **kwargs):
        super().__init__(**kwargs)
        lora.init_lora(self, lora_rank, lora_alpha)
        self.units = int(units)
        self._activation_id = activation
        self.activation = activations.get(activation)
        self._linear_activation = activation if isinstance(activation, str) \
            and activation in ops.nn.LINEAR_ACTIVATIONS else None
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Dense layer '{self.name}': the last input dimension must be "
                             f"known, got shape {input_shape}.")
        self.kernel = self.add_weight((in_dim, self.units), self.kernel_initializer, name="kernel")
        self.kernel.set_product_layout(1)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias")
        self.built = True
        self._enable_lora_from_config()

    def call(self, inputs):
        kernel = self.kernel
        if inputs.shape[-1] != kernel.shape[0]:
            raise ValueError(f"Dense layer '{self.name}' expects inputs whose last dimension is "
                             f"{kernel.shape[0]}, got shape {tuple(inputs.shape)}.")
        # the op applies a named activation itself, unless LoRA's term comes before it
        fused = None if self.lora_rank else self._linear_activation
        x = ops.linear(inputs, kernel.value, self.bias.value if self.use_bias else None,
                       activation=fused)
        if self.lora_rank:
            low = ops.matmul(ops.matmul(inputs, self._lora_a.value), self._lora_b.value)
            x = ops.add(x, ops.multiply(low, self._lora_scale))
        if self.activation is not None and fused is None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self._activation_id),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **self._lora_config()}

    # -- LoRA (zoo/layers/core/lora.py) --------------------------------------------------
    def _lora_shapes(self, rank):
        return (self.kernel.shape[0], rank), (rank, self.units)

    def _lora_delta(self, a, b):
        return ops.matmul(a, b)
