"""Spatial resampling of channels-last inputs: UpSampling, ZeroPadding, Cropping (1D, 2D)."""
from zoo import ops
from zoo.layers.convolution.base import check_data_format, normalize_tuple
from zoo.layers.layer import Layer


def _pairs(padding, n, name):
    """int | n ints | n pairs -> n (before, after) pairs."""
    if isinstance(padding, int):
        return ((padding, padding),) * n
    padding = tuple(padding)
    if n == 1 and len(padding) == 2 and all(isinstance(p, int) for p in padding):
        return (tuple(padding),)
    if len(padding) != n:
        raise ValueError(f"{name} must be an int, {n} ints or {n} pairs, got {padding!r}.")
    return tuple((p, p) if isinstance(p, int) else tuple(int(v) for v in p) for p in padding)


class UpSampling1D(Layer):
    """Repeat each step ``size`` times: (batch, steps, c) -> (batch, steps * size, c)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.built = True

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Scale height and width by ``size``: "nearest" repeats pixels, else ``ops.resize``."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        if interpolation not in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5",
                                 "area"):
            raise ValueError(f"UpSampling2D: unknown interpolation {interpolation!r}.")
        self.interpolation = interpolation
        self.built = True

    def call(self, inputs):
        if self.interpolation == "nearest":
            x = inputs
            if self.size[0] != 1:
                x = ops.repeat(x, self.size[0], axis=1)
            if self.size[1] != 1:
                x = ops.repeat(x, self.size[1], axis=2)
            return x
        height, width = inputs.shape[1], inputs.shape[2]
        resize = getattr(ops, "resize", None) or ops.image.resize
        return resize(inputs, (height * self.size[0], width * self.size[1]),
                      interpolation=self.interpolation)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "data_format": self.data_format, "interpolation": self.interpolation}


class _ZeroPadding(Layer):
    rank = None

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, self.rank, "padding")
        self.data_format = check_data_format(data_format, type(self).__name__)
        self._pad_width = ((0, 0),) + self.padding + ((0, 0),)
        self.built = True

    def call(self, inputs):
        return ops.pad(inputs, self._pad_width)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding],
                "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Zeros before/after the steps axis: padding is an int or a (before, after) pair."""
    rank = 1

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding[0])}


class ZeroPadding2D(_ZeroPadding):
    """Zeros around height and width: int, (h, w) or ((top, bottom), (left, right))."""
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping")
        self.data_format = check_data_format(data_format, type(self).__name__)
        self._key = (slice(None),) + tuple(slice(a, -b if b else None)
                                           for a, b in self.cropping) + (slice(None),)
        self.built = True

    def call(self, inputs):
        return ops.get_item(inputs, self._key)

    def get_config(self):
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping],
                "data_format": self.data_format}


class Cropping1D(_Cropping):
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)

    def get_config(self):
        return {**super().get_config(), "cropping": list(self.cropping[0])}


class Cropping2D(_Cropping):
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
