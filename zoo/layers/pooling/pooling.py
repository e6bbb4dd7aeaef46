"""Max and average pooling over windows of channels-last inputs.

``strides`` defaults to ``pool_size``. With "same" padding, max pooling ignores the padding
and average pooling averages only the in-bounds elements (TensorFlow/Keras semantics).
"""
from zoo import ops
from zoo.layers.convolution.base import check_data_format, normalize_padding, normalize_tuple
from zoo.layers.layer import Layer


class BasePooling(Layer):
    rank = None
    default_pool_size = 2
    op_name = None

    def __init__(self, pool_size=None, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        pool_size = self.default_pool_size if pool_size is None else pool_size
        self.pool_size = normalize_tuple(pool_size, n, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, n, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self._pool = getattr(ops, self.op_name)
        self.built = True

    def call(self, inputs):
        return self._pool(inputs, self.pool_size, strides=self.strides, padding=self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


def _pooling(name, rank, op_name):
    doc = f"{'Max' if op_name == 'max_pool' else 'Average'} pooling over {rank}D windows."
    return type(name, (BasePooling,), {"rank": rank, "op_name": op_name, "__doc__": doc,
                                        "__module__": __name__})


MaxPooling1D = _pooling("MaxPooling1D", 1, "max_pool")
MaxPooling2D = _pooling("MaxPooling2D", 2, "max_pool")
MaxPooling3D = _pooling("MaxPooling3D", 3, "max_pool")
AveragePooling1D = _pooling("AveragePooling1D", 1, "average_pool")
AveragePooling2D = _pooling("AveragePooling2D", 2, "average_pool")
AveragePooling3D = _pooling("AveragePooling3D", 3, "average_pool")
