"""Running reductions: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (a function metric)."""
from zoo import ops
from zoo.losses.loss import divide_no_nan, shape_of, weights_like
from zoo.metrics.metric import Metric, as_float


def samplewise(values, sample_weight, dtype):
    """(values, weights) of one shape: values averaged down to the sample weight's rank
    (to one value per sample when there is none), weights broadcast to them."""
    values = as_float(values, dtype)
    rank = len(shape_of(values))
    if sample_weight is None:
        if rank > 1:
            values = ops.mean(values, axis=tuple(range(1, rank)))
        return values, ops.ones_like(values)
    weight = as_float(sample_weight, dtype)
    while len(shape_of(weight)) > rank and shape_of(weight)[-1] == 1:
        weight = ops.squeeze(weight, -1)
    wrank = len(shape_of(weight))
    if rank > wrank:
        values = ops.mean(values, axis=tuple(range(wrank, rank)))
    weight = weights_like(weight, values, dtype)
    return values, ops.multiply(weight, ops.ones_like(values))


class Sum(Metric):
    """The (weighted) sum of everything seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values = as_float(values, self.dtype)
        if sample_weight is not None:
            values = ops.multiply(values, weights_like(sample_weight, values, self.dtype))
        self.total.assign_add(ops.sum(values))

    def result(self):
        value = self.total.value
        return ops.add(value, ops.zeros_like(value))  # a copy, not the live variable


class Mean(Metric):
    """The (weighted) mean of per-sample values: a (batch, ...) tensor counts as ``batch``
    samples, each the mean of its row."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values, sample_weight=None):
        if sample_weight is None:
            values = as_float(values, self.dtype)
            if not shape_of(values):  # one scalar (the loss tracker's case): 2 adds
                self.total.assign_add(values)
                self.count.assign_add(1.0)
                return
        values, weights = samplewise(values, sample_weight, self.dtype)
        self.total.assign_add(ops.sum(ops.multiply(values, weights)))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return divide_no_nan(self.total.value, self.count.value)


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` (per-sample values)."""

    expand_rank_1 = True  # False where the last axis holds classes

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        if self.expand_rank_1 and len(shape_of(y_pred)) == 1:
            # (batch,) inputs: one value per sample, not one per batch
            y_pred = ops.expand_dims(y_pred, -1)
            if len(shape_of(y_true)) == 1:
                y_true = ops.expand_dims(y_true, -1)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            from zoo.metrics import serialize_function

            config["fn"] = serialize_function(self._fn)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper:
            from zoo.metrics import get_function

            config["fn"] = get_function(config["fn"])
        return cls(**config)
