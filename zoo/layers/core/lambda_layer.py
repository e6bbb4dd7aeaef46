"""Lambda: wrap a Python function as a layer.

Its config carries the function as marshalled code, so loading a config with a Lambda
requires ``safe_mode=False`` (zoo refuses to run code from a file otherwise). Functions are
rebuilt with ``zoo``, ``ops`` and ``np`` in scope, plus any ``custom_objects``.
"""
import types

import numpy as np

import zoo
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.layer import Layer
from zoo.layers.structures import map_structure
from zoo.saving import serialization


def _is_shape(value):
    return isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int)
                                                     for d in value)


class Lambda(Layer):
    """``Lambda(function, output_shape=None, arguments=None)``: ``function(inputs, **arguments)``.

    ``output_shape`` (optional) is the output shape without the batch dimension, or a
    function of the input shape returning the full output shape; when omitted, the
    function runs on symbolic inputs (it must then use ``zoo.ops``).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda needs a callable, got {function!r}.")
        self.function = function
        self.output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self._serialized = {}  # id(fn) -> its config, when loaded from one (stable round trip)
        self.built = True

    def call(self, inputs, training=None):
        return self.function(inputs, **self.arguments)

    def compute_output_spec(self, inputs, training=None):
        if self.output_shape is None:
            return super().compute_output_spec(inputs)
        input_shapes = map_structure(lambda t: t.shape, inputs)
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        batch = first.shape[0] if isinstance(first, SymbolicTensor) else None
        dtype = first.dtype if isinstance(first, SymbolicTensor) else self.compute_dtype
        if callable(self.output_shape):
            shape = self.output_shape(input_shapes)
        else:
            shape = (batch,) + tuple(self.output_shape)
        if _is_shape(shape):
            return SymbolicTensor(shape, dtype)
        return [SymbolicTensor(s, dtype) for s in shape]

    def get_config(self):
        config = {**super().get_config(), "function": self._serialize(self.function),
                  "arguments": self.arguments}
        if callable(self.output_shape):
            config["output_shape"] = self._serialize(self.output_shape)
        elif self.output_shape is not None:
            config["output_shape"] = list(self.output_shape)
        return config

    def _serialize(self, fn):
        return self._serialized.get(id(fn)) or serialization.serialize_function(fn)

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        scope = {"zoo": zoo, "ops": ops, "np": np, **(custom_objects or {})}
        serialized = {}
        function = _load_function(config["function"], safe_mode, scope)
        serialized[id(function)] = config["function"]
        config["function"] = function
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _load_function(shape, safe_mode, scope)
            serialized[id(config["output_shape"])] = shape
        elif shape is not None:
            config["output_shape"] = tuple(shape)
        layer = cls(**config)
        layer._serialized = serialized
        return layer


def _load_function(config, safe_mode, scope):
    if not (isinstance(config, dict) and config.get("class_name") == "__lambda__"):
        raise ValueError(f"Lambda: not a serialized function: {config!r}")
    fn = serialization.deserialize_function(config, safe_mode=safe_mode)  # refuses in safe_mode
    namespace = dict(fn.__globals__)
    namespace.update(scope)
    return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__)
