"""``zoo.Input``: the symbolic placeholder a functional model starts from."""
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.layer import Layer


class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, batch_shape=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input needs `shape` (without the batch dimension).")
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(batch_shape)
        self._input_dtype = dtype or self.dtype_policy.compute_dtype
        self.built = True
        from zoo.engine.node import Node

        tensor = SymbolicTensor(self.batch_shape, self._input_dtype, name=self.name)
        Node(self, (), {}, tensor)
        self.output = tensor

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self._input_dtype,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A symbolic input of ``shape`` (no batch dimension) for the functional API."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape).output
