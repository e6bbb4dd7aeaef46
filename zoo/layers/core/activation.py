"""Activation, Softmax and Identity: layers with no variables."""
from zoo import ops
from zoo.layers import activations
from zoo.layers.layer import Layer


class Activation(Layer):
    """Applies ``activation`` (a name such as "relu", or a zoo.ops function)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._activation_id = activation
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        if self.activation is None:
            return inputs
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(),
                "activation": activations.serialize(self._activation_id)}


class Softmax(Layer):
    """Softmax over ``axis``; ``call(inputs, mask)`` gives masked-out (False) entries ~0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = ops.where(ops.cast(mask, "bool"), inputs, _large_negative(ops.dtype(inputs)))
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self):
        axis = list(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        return {**super().get_config(), "axis": axis}


def _large_negative(dtype):
    """A logit that softmax turns into ~0 without overflowing ``dtype``."""
    return -3e4 if dtype == "float16" else -1e9


class Identity(Layer):
    """Returns its inputs unchanged."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs):
        return inputs
