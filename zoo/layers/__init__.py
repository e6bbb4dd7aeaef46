"""``zoo.layers``: the Layer base and the core layers (Keras signatures and defaults)."""
from zoo.layers.core.dense import Dense  # noqa: F401
from zoo.layers.dtype_policy import DTypePolicy  # noqa: F401
from zoo.layers.input_layer import Input, InputLayer  # noqa: F401
from zoo.layers.layer import Layer  # noqa: F401
from zoo.layers.op_layer import OpLayer  # noqa: F401
