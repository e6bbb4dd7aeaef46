"""Accuracy and regression metrics: per-sample functions and their running means."""
from zoo import ops
from zoo.losses import functions as loss_functions
from zoo.losses.loss import match_ranks, sparse_labels, to_float
from zoo.metrics.reduction import MeanMetricWrapper


def _as_float32(x):
    return ops.cast(x, "float32")


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred = match_ranks(ops.convert_to_tensor(y_true), y_pred, "accuracy")
    return _as_float32(ops.equal(y_true, y_pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of (y_pred > threshold) == y_true."""
    y_pred = to_float(y_pred)
    y_true, y_pred = match_ranks(to_float(y_true, ops.dtype(y_pred)), y_pred,
                                 "binary_accuracy")
    predicted = ops.cast(ops.greater(y_pred, threshold), ops.dtype(y_true))
    return ops.mean(_as_float32(ops.equal(y_true, predicted)), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """argmax(y_true) == argmax(y_pred) over the last axis (one-hot targets)."""
    y_pred = to_float(y_pred)
    y_true, y_pred = match_ranks(ops.convert_to_tensor(y_true), y_pred,
                                 "categorical_accuracy",
                                 " (integer class ids need sparse_categorical_accuracy)")
    return _as_float32(ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    """y_true == argmax(y_pred) for integer class ids."""
    y_pred = to_float(y_pred)
    labels = sparse_labels(ops.convert_to_tensor(y_true), y_pred, "sparse_categorical_accuracy")
    return _as_float32(ops.equal(labels, ops.argmax(y_pred, axis=-1)))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where fewer than ``k`` classes score strictly higher than the true class (ties
    at the boundary count as in the top k)."""
    y_pred = to_float(y_pred)
    labels = sparse_labels(ops.convert_to_tensor(y_true), y_pred,
                           "sparse_top_k_categorical_accuracy")
    target = ops.take_along_axis(y_pred, ops.expand_dims(labels, -1), axis=-1)
    higher = ops.sum(ops.cast(ops.greater(y_pred, target), "int32"), axis=-1)
    return _as_float32(ops.less(higher, k))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = to_float(y_pred)
    y_true, y_pred = match_ranks(ops.convert_to_tensor(y_true), y_pred,
                                 "top_k_categorical_accuracy")
    return sparse_top_k_categorical_accuracy(ops.argmax(y_true, axis=-1), y_pred, k)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=float(threshold))
        self.threshold = float(threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    expand_rank_1 = False

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    expand_rank_1 = False

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    expand_rank_1 = False

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=int(k))
        self.k = int(k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    expand_rank_1 = False

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=int(k))
        self.k = int(k)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(loss_functions.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(loss_functions.mean_absolute_error, name, dtype)


class RootMeanSquaredError(MeanMetricWrapper):
    """sqrt of the running mean squared error."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(loss_functions.mean_squared_error, name, dtype)

    def result(self):
        return ops.sqrt(super().result())


FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    loss_functions.mean_squared_error, loss_functions.mean_absolute_error)}
