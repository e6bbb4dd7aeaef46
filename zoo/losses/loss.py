"""The ``Loss`` base class, its reductions, and the shape helpers losses and metrics share.

    loss = zoo.losses.MeanSquaredError()
    loss(y_true, y_pred, sample_weight=None)    # a scalar (the reduction of `call`)
    loss.call(y_true, y_pred)                   # per-sample losses

Reductions: "sum_over_batch_size" (weighted sum / number of loss elements; elements a loss
masks out, such as ``ignore_class`` tokens, are left out of both), "mean" (the same),
"mean_with_sample_weight" (weighted sum / sum of weights), "sum", and "none" / None (the
weighted per-sample losses). Losses are computed in float32 (float64 if asked), even for
half-precision predictions.
"""
import re

from zoo import backend, ops
from zoo.backend.common import config, dtypes
from zoo.ops.shape_rules import shape_of

REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none", None)


def snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def default_float():
    return "float64" if config.floatx() == "float64" else "float32"


def to_float(x, dtype=None):
    """``x`` as a tensor of ``dtype``; by default half precision and integers become float32."""
    if backend.core.is_tensor(x):  # the hot path: no op dispatch
        current = backend.core.dtype_of(x)
    else:
        x = ops.convert_to_tensor(x)
        current = ops.dtype(x)
    if dtype is None:
        dtype = current if current in ("float32", "float64") else "float32"
    return x if current == dtype else ops.cast(x, dtype)


def _compatible(a, b):
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def incompatible(name, y_true_shape, y_pred_shape, hint=""):
    return ValueError(f"{name}: y_true shape {tuple(y_true_shape)} and y_pred shape "
                      f"{tuple(y_pred_shape)} are incompatible{hint}.")


def match_ranks(y_true, y_pred, name, hint=""):
    """Squeeze or expand a trailing size-1 dim of ``y_true`` so its rank is ``y_pred``'s,
    then require equal shapes (``None`` dims match anything). ``hint`` ends the error when
    ``y_true`` has one dim fewer (class ids given to a loss that wants one-hot targets)."""
    st, sp = shape_of(y_true), shape_of(y_pred)
    if len(st) == len(sp) + 1 and st[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    elif len(sp) == len(st) + 1 and sp[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    if not _compatible(shape_of(y_true), sp):
        raise incompatible(name, st, sp, hint if len(st) + 1 == len(sp) else "")
    return y_true, y_pred


def sparse_labels(y_true, y_pred, name, axis=-1):
    """Integer class ids matching ``y_pred`` without its class ``axis`` (a size-1 class axis
    on ``y_true`` is squeezed); returned as int32."""
    st, sp = shape_of(y_true), shape_of(y_pred)
    axis = axis % len(sp) if sp else 0
    expected = sp[:axis] + sp[axis + 1:]
    if len(st) == len(sp) and st[axis] == 1:
        y_true = ops.squeeze(y_true, axis)
    if not sp or not _compatible(shape_of(y_true), expected):
        raise incompatible(name, st, sp, f" (expected integer class ids of shape {expected})")
    if (backend.core.dtype_of(y_true) if backend.core.is_tensor(y_true)
            else ops.dtype(y_true)) != "int32":
        y_true = ops.cast(y_true, "int32")
    return y_true


def divide_no_nan(x, y):
    """x / y, and 0 where y == 0."""
    nonzero = ops.not_equal(y, 0)
    return ops.where(nonzero, ops.divide(x, ops.where(nonzero, y, ops.ones_like(y))),
                     ops.zeros_like(x))


def weights_like(sample_weight, values, dtype):
    """``sample_weight`` cast to ``dtype`` with the rank of ``values`` (trailing size-1 dims
    squeezed, or trailing dims added: a (batch,) weight weighs every step of a sequence)."""
    weight = to_float(sample_weight, dtype)
    rank = len(shape_of(values))
    while len(shape_of(weight)) > rank and shape_of(weight)[-1] == 1:
        weight = ops.squeeze(weight, -1)
    if len(shape_of(weight)) > rank:
        raise ValueError(f"sample_weight of shape {shape_of(sample_weight)} has more dims "
                         f"than the values it weighs, of shape {shape_of(values)}.")
    while len(shape_of(weight)) < rank:
        weight = ops.expand_dims(weight, -1)
    return weight


def reduce_weighted(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    if sample_weight is None and mask is None and reduction in ("sum_over_batch_size", "mean") \
            and shape_of(values) and all(isinstance(d, int) and d for d in shape_of(values)):
        return ops.mean(values)  # the common case: one op, one backward node
    dtype = ops.dtype(values)
    weights = None if sample_weight is None else weights_like(sample_weight, values, dtype)
    if mask is not None:
        mask = ops.cast(mask, dtype)
        weights = mask if weights is None else ops.multiply(weights, mask)
    if weights is not None:
        values = ops.multiply(values, weights)
    if reduction in (None, "none") or not shape_of(values):
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        count = ops.sum(ops.multiply(weights, ops.ones_like(values)))
    elif mask is not None:
        count = ops.sum(mask)
    else:  # the common case: the count is static, no division guard needed
        size = 1
        for d in shape_of(values):
            if not isinstance(d, int):
                return divide_no_nan(total, ops.sum(ops.ones_like(values)))
            size *= d
        return ops.divide(total, float(size)) if size else ops.multiply(total, 0.0)
    return divide_no_nan(total, count)


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` -> per-sample losses."""

    shape_check = None  # None, "dense" (same shape) or "sparse" (class ids)
    shape_hint = ""  # appended to the shape-mismatch error
    expand_rank_1 = False  # (batch,) inputs -> (batch, 1): one loss per sample

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Unknown reduction {reduction!r}; expected one of "
                             f"{', '.join(map(str, REDUCTIONS))}.")
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction
        self._dtype = None if dtype is None else dtypes.standardize_dtype(dtype)

    @property
    def dtype(self):
        return self._dtype or default_float()

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = to_float(y_pred, self.dtype)
        if not backend.core.is_tensor(y_true):
            y_true = ops.convert_to_tensor(y_true)
        name = type(self).__name__
        if self.shape_check == "dense":
            if self.expand_rank_1 and len(shape_of(y_pred)) == 1 \
                    and len(shape_of(y_true)) == 1:
                y_true, y_pred = ops.expand_dims(y_true, -1), ops.expand_dims(y_pred, -1)
            y_true, y_pred = match_ranks(y_true, y_pred, name, self.shape_hint)
        elif self.shape_check == "sparse":
            y_true = sparse_labels(y_true, y_pred, name, getattr(self, "axis", -1))
        values = to_float(self.call(y_true, y_pred), self.dtype)
        mask = self.compute_mask(y_true, y_pred)
        return reduce_weighted(values, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def compute_mask(self, y_true, y_pred):
        """A boolean tensor shaped like ``call``'s output (False: left out), or None."""

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": self._dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """A loss from a function ``fn(y_true, y_pred, **kwargs)`` -> per-sample losses."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", None), reduction, dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:
            from zoo.losses import serialize_function

            config["fn"] = serialize_function(self.fn)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is LossFunctionWrapper:
            from zoo.losses import get_function

            config["fn"] = get_function(config["fn"])
        return cls(**config)
