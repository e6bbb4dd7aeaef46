from zoo.layers.normalization.batch_normalization import BatchNormalization  # noqa: F401
from zoo.layers.normalization.layer_normalization import LayerNormalization  # noqa: F401
