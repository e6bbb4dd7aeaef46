"""Global pooling: the mean or max over every spatial axis of channels-last inputs.

(batch, *spatial, channels) -> (batch, channels), or (batch, 1, ..., 1, channels) with
``keepdims=True``.
"""
from zoo import ops
from zoo.layers.convolution.base import check_data_format
from zoo.layers.layer import Layer


class BaseGlobalPooling(Layer):
    rank = None
    op_name = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self._axes = tuple(range(1, self.rank + 1))
        self._reduce = getattr(ops, self.op_name)
        self.built = True

    def call(self, inputs):
        if len(inputs.shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{self.rank + 2}, got shape {tuple(inputs.shape)}.")
        return self._reduce(inputs, axis=self._axes, keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


def _global(name, rank, op_name):
    kind = "Mean" if op_name == "mean" else "Max"
    return type(name, (BaseGlobalPooling,), {
        "rank": rank, "op_name": op_name, "__module__": __name__,
        "__doc__": f"{kind} over the {rank} spatial axes."})


GlobalAveragePooling1D = _global("GlobalAveragePooling1D", 1, "mean")
GlobalAveragePooling2D = _global("GlobalAveragePooling2D", 2, "mean")
GlobalAveragePooling3D = _global("GlobalAveragePooling3D", 3, "mean")
GlobalMaxPooling1D = _global("GlobalMaxPooling1D", 1, "max")
GlobalMaxPooling2D = _global("GlobalMaxPooling2D", 2, "max")
GlobalMaxPooling3D = _global("GlobalMaxPooling3D", 3, "max")
