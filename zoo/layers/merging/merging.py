"""Merge layers: combine a list of tensors elementwise (Add, ...) or along an axis (Concatenate).

Elementwise merges need shapes that broadcast together; the lowercase functions
(``zoo.layers.add([a, b])``) build the layer and call it once.
"""
from zoo import ops
from zoo.layers.layer import Layer
from zoo.ops import shape_rules


def _shape_list(layer, input_shape):
    if not isinstance(input_shape, (list, tuple)) or not input_shape or \
            not all(isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"{type(layer).__name__} '{layer.name}' must be called on a list of "
                         f"tensors, got input shape {input_shape}.")
    return [tuple(s) for s in input_shape]


class Merge(Layer):
    """Base class of the elementwise merges: ``_merge(a, b)`` folded over the inputs."""
    num_inputs = None  # exact count when fixed (Subtract: 2)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, input_shape):
        shapes = _shape_list(self, input_shape)
        if self.num_inputs is not None and len(shapes) != self.num_inputs:
            raise ValueError(f"{type(self).__name__} '{self.name}' takes exactly "
                             f"{self.num_inputs} inputs, got {len(shapes)}.")
        try:
            shape_rules.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"{type(self).__name__} '{self.name}': input shapes "
                             f"{', '.join(map(str, shapes))} do not broadcast together.") from None
        self.built = True

    def call(self, inputs):
        x = inputs[0]
        for y in inputs[1:]:
            x = self._merge(x, y)
        return x

    @staticmethod
    def _merge(a, b):
        raise NotImplementedError


class Add(Merge):
    _merge = staticmethod(ops.add)


class Subtract(Merge):
    num_inputs = 2
    _merge = staticmethod(ops.subtract)


class Multiply(Merge):
    _merge = staticmethod(ops.multiply)


class Maximum(Merge):
    @staticmethod
    def _merge(a, b):
        return ops.maximum(a, b)


class Minimum(Merge):
    @staticmethod
    def _merge(a, b):
        return ops.minimum(a, b)


class Average(Merge):
    _merge = staticmethod(ops.add)

    def call(self, inputs):
        return ops.divide(super().call(inputs), float(len(inputs)))


class Concatenate(Layer):
    """Join tensors along ``axis``; every other dimension must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape):
        shapes = _shape_list(self, input_shape)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"Concatenate '{self.name}' (axis={self.axis}) needs inputs of "
                             f"one rank, got shapes {', '.join(map(str, shapes))}.")
        axis = self.axis % rank
        for i in range(rank):
            dims = {s[i] for s in shapes if s[i] is not None}
            if i != axis and len(dims) > 1:
                raise ValueError(f"Concatenate '{self.name}' (axis={self.axis}): inputs must "
                                 f"match on every other axis, got shapes "
                                 f"{', '.join(map(str, shapes))}.")
        self.built = True

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
