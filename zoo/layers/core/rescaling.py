"""Rescaling: ``inputs * scale + offset`` in the compute dtype (e.g. uint8 pixels -> [0, 1])."""
import numpy as np

from zoo import ops
from zoo.layers.layer import Layer


def _plain(value):
    """A JSON-able copy of a scalar or array-like ``scale``/``offset``."""
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


class Rescaling(Layer):
    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _plain(scale)
        self.offset = _plain(offset)
        self.built = True

    @staticmethod
    def _constant(value, dtype):
        if isinstance(value, list):  # per-channel values
            return ops.convert_to_tensor(np.asarray(value, dtype="float32"), dtype)
        return value

    def call(self, inputs):
        dtype = self.compute_dtype
        if ops.dtype(inputs) != dtype:
            inputs = ops.cast(inputs, dtype)
        x = ops.multiply(inputs, self._constant(self.scale, dtype))
        if self.offset != 0:
            x = ops.add(x, self._constant(self.offset, dtype))
        return x

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
