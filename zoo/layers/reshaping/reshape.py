"""Flatten, Reshape, Permute, RepeatVector: rearrange everything but the batch axis."""
import math

from zoo import ops
from zoo.layers.layer import Layer


def static_size(shape):
    """Product of the dims, or None if any is unknown."""
    if any(d is None for d in shape):
        return None
    return math.prod(shape)


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: data_format={data_format!r} is not supported "
                             f"(zoo is channels-last).")
        self.data_format = data_format

    def build(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"Flatten '{self.name}' needs inputs with a batch axis.")
        self._size = static_size(input_shape[1:])
        self.built = True

    def call(self, inputs):
        size = self._size
        if size is None:  # a non-batch dim unknown at build time
            size = static_size(tuple(inputs.shape[1:]))
        if size is None:
            return ops.reshape(inputs, (ops.shape(inputs)[0], -1))
        return ops.reshape(inputs, (-1, size))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape); one entry of target_shape may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(1 for d in self.target_shape if d == -1) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape, got {self.target_shape}.")

    def build(self, input_shape):
        self._resolved = self._resolve(tuple(input_shape[1:]))
        self.built = True

    def _resolve(self, in_shape):
        target = self.target_shape
        size = static_size(in_shape)
        if size is None:
            return target if -1 not in target else None
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if known == 0 or size % known:
                raise ValueError(f"Reshape '{self.name}': cannot reshape {in_shape} (per example) "
                                 f"into {target}.")
            return tuple(size // known if d == -1 else d for d in target)
        if known != size:
            raise ValueError(f"Reshape '{self.name}': cannot reshape {in_shape} (per example, "
                             f"{size} values) into {target} ({known} values).")
        return target

    def call(self, inputs):
        target = self._resolved
        if target is None:
            return ops.reshape(inputs, (ops.shape(inputs)[0],) + self.target_shape)
        return ops.reshape(inputs, (-1,) + target)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permute the non-batch axes; ``dims`` is 1-indexed, e.g. (2, 1) swaps axes 1 and 2."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(self.dims)}, "
                             f"got {self.dims}.")
        self._perm = (0,) + self.dims
        self.built = True

    def call(self, inputs):
        return ops.transpose(inputs, self._perm)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)
        self.built = True

    def call(self, inputs):
        if len(inputs.shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects inputs of rank 2, got shape "
                             f"{tuple(inputs.shape)}.")
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}
