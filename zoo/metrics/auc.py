"""``AUC``: area under the ROC or precision-recall curve, from confusion counts at fixed
thresholds.

The thresholds are ``num_thresholds`` evenly spaced points of [0, 1], the end points moved
just outside (-eps and 1 + eps) so that every prediction lies strictly inside. Each update
adds weighted tp / fp / tn / fn counts per threshold; ``result`` sums the area between
consecutive thresholds:

* "interpolation": trapezoids for ROC; for PR, precision integrated exactly over recall
  assuming true positives grow linearly with predicted positives between two thresholds
  (Davis & Goadrich, 2006), which avoids the optimism of linear PR interpolation;
* "minoring" / "majoring": rectangles at the lower / higher of the two heights.

Multi-class or multi-label inputs are flattened: every (sample, class) entry is one binary
prediction.
"""
from zoo import ops
from zoo.backend.common import config
from zoo.losses.loss import divide_no_nan
from zoo.metrics.confusion import confusion_counts
from zoo.metrics.metric import Metric

_CURVES = ("ROC", "PR")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def auc_thresholds(num_thresholds):
    eps = config.epsilon()
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - eps] + inner + [1.0 + eps]


class AUC(Metric):
    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 thresholds=None, from_logits=False, name="auc", dtype=None):
        curve = str(curve).upper()
        if curve not in _CURVES:
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}.")
        if summation_method not in _SUMMATIONS:
            raise ValueError(f"AUC: summation_method must be one of {_SUMMATIONS}, got "
                             f"{summation_method!r}.")
        super().__init__(name, dtype)
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.thresholds = [0.0 - config.epsilon()] + inner + [1.0 + config.epsilon()]
            num_thresholds = len(self.thresholds)
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}.")
            self.thresholds = auc_thresholds(num_thresholds)
        self.num_thresholds = num_thresholds
        self.curve, self.summation_method = curve, summation_method
        self._init_thresholds = None if thresholds is None else list(thresholds)
        self.from_logits = bool(from_logits)
        for key in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, key, self.add_variable((num_thresholds,), "zeros", name=key))

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = ops.sigmoid(y_pred)
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  name=self.name)
        for key, delta in counts.items():
            getattr(self, key).assign_add(ops.cast(delta, self.dtype))

    def _interpolated_pr(self, tp, fp, fn):
        # Between thresholds i and i+1, tp = slope * p + intercept with p = tp + fp the
        # predicted positives; integrate precision = tp / p over recall = tp / positives.
        p = ops.add(tp, fp)
        d_tp = ops.subtract(tp[:-1], tp[1:])
        d_p = ops.subtract(p[:-1], p[1:])
        slope = divide_no_nan(d_tp, ops.maximum(d_p, 0.0))
        intercept = ops.subtract(tp[1:], ops.multiply(slope, p[1:]))
        both = ops.logical_and(ops.greater(p[:-1], 0.0), ops.greater(p[1:], 0.0))
        ratio = ops.where(both, divide_no_nan(p[:-1], ops.where(both, p[1:], 1.0)), 1.0)
        positives = ops.maximum(ops.add(tp[1:], fn[1:]), 0.0)
        area = divide_no_nan(ops.multiply(slope, ops.add(d_tp, ops.multiply(
            intercept, ops.log(ratio)))), positives)
        return ops.sum(area)

    def result(self):
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr(tp, fp, fn)
        recall = divide_no_nan(tp, ops.add(tp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, ops.add(fp, tn)), recall
        else:
            x, y = recall, divide_no_nan(tp, ops.add(tp, fp))
        if self.summation_method == "interpolation":
            heights = ops.multiply(ops.add(y[:-1], y[1:]), 0.5)
        elif self.summation_method == "minoring":
            heights = ops.minimum(y[:-1], y[1:])
        else:
            heights = ops.maximum(y[:-1], y[1:])
        return ops.sum(ops.multiply(ops.subtract(x[:-1], x[1:]), heights))

    def get_config(self):
        return dict(super().get_config(), num_thresholds=self.num_thresholds,
                    curve=self.curve, summation_method=self.summation_method,
                    thresholds=self._init_thresholds, from_logits=self.from_logits)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("thresholds") is not None:
            config.pop("num_thresholds", None)
        return cls(**config)
