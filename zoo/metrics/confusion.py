"""Confusion-matrix metrics: ``Precision``, ``Recall``, ``FBetaScore`` / ``F1Score``.

A prediction is positive at threshold t when ``y_pred > t``; a label is positive when it is
non-zero. Counts are weighted by ``sample_weight`` (broadcast to ``y_pred``).
"""
from zoo import ops
from zoo.losses.loss import divide_no_nan, match_ranks, shape_of, to_float, weights_like
from zoo.metrics.metric import Metric

_COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, class_id=None,
                     top_k=None, which=_COUNTS, name="metric"):
    """{count name: (len(thresholds),) tensor} over every element of y_true / y_pred."""
    y_pred = to_float(y_pred)
    y_true, y_pred = match_ranks(ops.convert_to_tensor(y_true), y_pred, name)
    labels = ops.cast(ops.not_equal(y_true, 0), ops.dtype(y_pred))
    if top_k is not None:  # only each row's k highest scores can be positive
        kth = ops.min(ops.top_k(y_pred, int(top_k))[0], axis=-1, keepdims=True)
        y_pred = ops.where(ops.greater_equal(y_pred, kth), y_pred,
                           ops.full_like(y_pred, -float("inf")))
    weights = ops.ones_like(y_pred)
    if sample_weight is not None:
        weights = ops.multiply(weights_like(sample_weight, y_pred, ops.dtype(y_pred)), weights)
    if class_id is not None:
        labels, y_pred, weights = (ops.take(x, int(class_id), axis=-1)
                                   for x in (labels, y_pred, weights))
    labels, y_pred, weights = (ops.reshape(x, (1, -1)) for x in (labels, y_pred, weights))
    cuts = ops.reshape(ops.convert_to_tensor(list(thresholds), ops.dtype(y_pred)), (-1, 1))
    predicted = ops.cast(ops.greater(y_pred, cuts), ops.dtype(y_pred))  # (thresholds, n)
    not_predicted, negatives = 1.0 - predicted, 1.0 - labels
    parts = {"true_positives": (predicted, labels), "false_positives": (predicted, negatives),
             "true_negatives": (not_predicted, negatives),
             "false_negatives": (not_predicted, labels)}
    return {key: ops.sum(ops.multiply(ops.multiply(parts[key][0], parts[key][1]), weights),
                         axis=1) for key in which}


class _ThresholdMetric(Metric):
    _counts = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self._single = thresholds is None or isinstance(thresholds, (int, float))
        if thresholds is None:
            values = [0.5]
        else:
            values = [float(thresholds)] if self._single else [float(t) for t in thresholds]
        if not values or any(not 0.0 <= t <= 1.0 for t in values):
            raise ValueError(f"{type(self).__name__}: thresholds must be in [0, 1], got "
                             f"{thresholds!r}.")
        self.thresholds = values
        self.top_k, self.class_id = top_k, class_id
        for key in self._counts:
            setattr(self, key, self.add_variable((len(values),), "zeros", name=key))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  self.class_id, self.top_k, self._counts, self.name)
        for key, delta in counts.items():
            getattr(self, key).assign_add(ops.cast(delta, self.dtype))

    def _finish(self, values):
        return values[0] if self._single else values

    def get_config(self):
        return dict(super().get_config(), thresholds=self.init_thresholds, top_k=self.top_k,
                    class_id=self.class_id)


class Precision(_ThresholdMetric):
    """tp / (tp + fp), at 0.5 or at each of ``thresholds``."""
    _counts = ("true_positives", "false_positives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision",
                 dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        tp = self.true_positives.value
        return self._finish(divide_no_nan(tp, ops.add(tp, self.false_positives.value)))


class Recall(_ThresholdMetric):
    """tp / (tp + fn), at 0.5 or at each of ``thresholds``."""
    _counts = ("true_positives", "false_negatives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        tp = self.true_positives.value
        return self._finish(divide_no_nan(tp, ops.add(tp, self.false_negatives.value)))


class FBetaScore(Metric):
    """F-beta over (batch, classes) one-hot / multi-label targets.

    ``threshold=None``: each row's highest score is the predicted class; otherwise scores
    above ``threshold`` are positive. ``average``: None (one score per class), "micro"
    (counts pooled over classes), "macro" (mean over classes) or "weighted" (mean weighted
    by each class's number of true instances). Per-class state is created on the first
    ``update_state`` (or ``build``), from the number of classes.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be None, 'micro', 'macro' "
                             f"or 'weighted', got {average!r}.")
        if beta <= 0:
            raise ValueError(f"{type(self).__name__}: beta must be > 0, got {beta!r}.")
        super().__init__(name, dtype)
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self.built = False

    def build(self, y_true_shape=None, y_pred_shape=None):
        if self.built:
            return
        num_classes = (y_pred_shape or y_true_shape or (None,))[-1]
        if num_classes is None:
            raise ValueError(f"{self.name}: the number of classes (last dim of y_pred) must "
                             "be known to build the metric.")
        shape = () if self.average == "micro" else (int(num_classes),)
        for key in ("true_positives", "false_positives", "false_negatives",
                    "intermediate_weights"):
            setattr(self, key, self.add_variable(shape, "zeros", name=key))
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_float(y_pred, self.dtype)
        y_true = to_float(y_true, self.dtype)
        if len(shape_of(y_pred)) != 2 or len(shape_of(y_true)) != 2:
            raise ValueError(f"{self.name}: expects (batch, classes) y_true and y_pred, got "
                             f"{shape_of(y_true)} and {shape_of(y_pred)}.")
        y_true, y_pred = match_ranks(y_true, y_pred, self.name)
        self.build(shape_of(y_true), shape_of(y_pred))
        if self.threshold is None:
            top = ops.max(y_pred, axis=-1, keepdims=True)
            positive = ops.logical_and(ops.greater_equal(y_pred, top),
                                       ops.greater(ops.abs(y_pred), 1e-9))
        else:
            positive = ops.greater(y_pred, self.threshold)
        y_pred = ops.cast(positive, self.dtype)
        weights = ops.ones_like(y_pred)
        if sample_weight is not None:
            weights = ops.multiply(weights_like(sample_weight, y_pred, self.dtype), weights)
        axis = None if self.average == "micro" else 0

        def total(x):
            return ops.sum(ops.multiply(x, weights), axis=axis)

        self.true_positives.assign_add(total(ops.multiply(y_pred, y_true)))
        self.false_positives.assign_add(total(ops.multiply(y_pred, 1.0 - y_true)))
        self.false_negatives.assign_add(total(ops.multiply(1.0 - y_pred, y_true)))
        self.intermediate_weights.assign_add(total(y_true))

    def result(self):
        if not self.built:
            raise ValueError(f"{self.name}: no data yet (update_state builds the metric).")
        tp = self.true_positives.value
        precision = divide_no_nan(tp, ops.add(tp, self.false_positives.value))
        recall = divide_no_nan(tp, ops.add(tp, self.false_negatives.value))
        b2 = self.beta ** 2
        score = ops.multiply(divide_no_nan(ops.multiply(precision, recall),
                                           ops.add(ops.multiply(precision, b2), recall)),
                             1.0 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights.value
            return divide_no_nan(ops.sum(ops.multiply(score, weights)), ops.sum(weights))
        if self.average == "macro":
            return ops.mean(score)
        return score

    def reset_state(self):
        if self.built:
            super().reset_state()

    def get_config(self):
        return dict(super().get_config(), average=self.average, beta=self.beta,
                    threshold=self.threshold)


class F1Score(FBetaScore):
    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
