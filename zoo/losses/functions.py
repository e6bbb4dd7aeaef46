"""Loss functions: ``fn(y_true, y_pred, ...)`` -> per-sample losses (the last axis reduced).

They compute in float32 for half-precision or integer predictions, accept a ``y_true`` whose
rank differs from ``y_pred``'s by a trailing size-1 dim, and raise a ValueError naming both
shapes when the shapes can't be matched.
"""
from zoo import ops
from zoo.losses.loss import match_ranks, shape_of, sparse_labels, to_float


def _prepare(y_true, y_pred, name, hint=""):
    y_pred = to_float(y_pred)
    y_true = to_float(y_true, ops.dtype(y_pred))
    return match_ranks(y_true, y_pred, name, hint)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """0.5 e^2 where |e| <= delta, else delta (|e| - delta / 2); mean over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred, "huber")
    error = ops.abs(ops.subtract(y_pred, y_true))
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.multiply(ops.subtract(error, 0.5 * delta), delta)
    return ops.mean(ops.where(ops.less_equal(error, delta), quadratic, linear), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over ``axis`` of the elementwise binary crossentropy; smoothed targets are
    ``y (1 - s) + s / 2``."""
    y_true, y_pred = _prepare(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def _num_classes(y_pred, axis, dtype):
    n = shape_of(y_pred)[axis]
    return float(n) if n is not None else ops.cast(ops.shape(y_pred)[axis], dtype)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y log p) over ``axis`` for one-hot (or soft) targets; smoothed targets are
    ``y (1 - s) + s / num_classes``."""
    y_true, y_pred = _prepare(y_true, y_pred, "categorical_crossentropy",
                              " (integer class ids need sparse_categorical_crossentropy)")
    if label_smoothing:
        n = _num_classes(y_pred, axis, ops.dtype(y_pred))
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         ops.divide(label_smoothing, n))
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Crossentropy against integer class ids. Positions whose id is ``ignore_class`` get a
    loss of 0 (the ``SparseCategoricalCrossentropy`` loss also leaves them out of its mean)."""
    y_pred = to_float(y_pred)
    y_true = sparse_labels(ops.convert_to_tensor(y_true), y_pred,
                           "sparse_categorical_crossentropy", axis)
    return sparse_crossentropy_checked(y_true, y_pred, from_logits, ignore_class, axis)


def sparse_crossentropy_checked(y_true, y_pred, from_logits, ignore_class, axis):
    """The crossentropy of already checked int32 ids and float predictions."""
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                                   axis=axis)
    valid = ops.not_equal(y_true, ignore_class)
    y_true = ops.where(valid, y_true, ops.zeros_like(y_true))
    losses = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                                 axis=axis)
    return ops.where(valid, losses, ops.zeros_like(losses))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

FUNCTIONS = {fn.__name__: fn for fn in (
    mean_squared_error, mean_absolute_error, huber, binary_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy)}
ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
           "bce": "binary_crossentropy", "huber_loss": "huber"}
