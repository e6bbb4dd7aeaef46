from zoo.layers.regularization.dropout import Dropout  # noqa: F401
