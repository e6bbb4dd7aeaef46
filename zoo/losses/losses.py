"""The built-in loss classes: a function from ``functions.py`` plus its settings."""
from zoo import ops
from zoo.losses import functions
from zoo.losses.loss import LossFunctionWrapper

_DEFAULT = "sum_over_batch_size"


class MeanSquaredError(LossFunctionWrapper):
    shape_check = "dense"
    expand_rank_1 = True

    def __init__(self, name="mean_squared_error", reduction=_DEFAULT, dtype=None):
        super().__init__(functions.mean_squared_error, name, reduction, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    shape_check = "dense"
    expand_rank_1 = True

    def __init__(self, name="mean_absolute_error", reduction=_DEFAULT, dtype=None):
        super().__init__(functions.mean_absolute_error, name, reduction, dtype)


class Huber(LossFunctionWrapper):
    shape_check = "dense"
    expand_rank_1 = True

    def __init__(self, delta=1.0, name="huber_loss", reduction=_DEFAULT, dtype=None):
        super().__init__(functions.huber, name, reduction, dtype, delta=float(delta))


class BinaryCrossentropy(LossFunctionWrapper):
    shape_check = "dense"
    expand_rank_1 = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 name="binary_crossentropy", reduction=_DEFAULT, dtype=None):
        super().__init__(functions.binary_crossentropy, name, reduction, dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing),
                         axis=axis)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)


class CategoricalCrossentropy(LossFunctionWrapper):
    shape_check = "dense"
    shape_hint = " (integer class ids need SparseCategoricalCrossentropy)"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 name="categorical_crossentropy", reduction=_DEFAULT, dtype=None):
        super().__init__(functions.categorical_crossentropy, name, reduction, dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing),
                         axis=axis)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self.axis = axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy against integer class ids, for (batch, classes) or sequence outputs
    (batch, seq, vocab). Targets equal to ``ignore_class`` (e.g. -100 or a padding id) are
    left out of the loss and of the "sum_over_batch_size" denominator."""

    shape_check = "sparse"

    def __init__(self, from_logits=False, ignore_class=None, axis=-1,
                 name="sparse_categorical_crossentropy", reduction=_DEFAULT, dtype=None):
        super().__init__(functions.sparse_categorical_crossentropy, name, reduction, dtype,
                         from_logits=bool(from_logits), ignore_class=ignore_class, axis=axis)
        self.from_logits = bool(from_logits)
        self.ignore_class = ignore_class
        self.axis = axis

    def call(self, y_true, y_pred):  # __call__ has checked the ids and the float dtype
        return functions.sparse_crossentropy_checked(y_true, y_pred, self.from_logits,
                                                     self.ignore_class, self.axis)

    def compute_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        return ops.not_equal(y_true, self.ignore_class)


CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy)}
# function name -> class
BY_FUNCTION = {
    "mean_squared_error": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
