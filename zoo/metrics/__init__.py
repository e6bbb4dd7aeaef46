"""``zoo.metrics``: stateful metrics with a stateless (pure-function) API.

    m = zoo.metrics.get("mae")                 # -> MeanAbsoluteError(name="mae")
    m.update_state(y_true, y_pred); m.result(); m.reset_state()
    values = m.stateless_update_state([v.value for v in m.variables], y_true, y_pred)
    zoo.metrics.resolve_accuracy(loss, y_true_shape, y_pred_shape)  # "accuracy" -> a variant
"""
import types

from zoo.metrics.accuracy import (  # noqa: F401
    FUNCTIONS,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from zoo.metrics.auc import AUC
from zoo.metrics.confusion import F1Score, FBetaScore, Precision, Recall
from zoo.metrics.metric import Metric
from zoo.metrics.reduction import Mean, MeanMetricWrapper, Sum

ALL = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, RootMeanSquaredError, AUC, Precision, Recall, F1Score, FBetaScore,
    Mean, Sum, MeanMetricWrapper)}

# snake-case name -> class; a metric got by name keeps that name (its key in the logs)
_NAMES = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "root_mean_squared_error": RootMeanSquaredError, "rmse": RootMeanSquaredError,
    "auc": AUC, "precision": Precision, "recall": Recall, "f1_score": F1Score,
    "fbeta_score": FBetaScore, "mean": Mean, "sum": Sum,
}
_FUNCTION_ALIASES = {"acc": "accuracy", "mse": "mean_squared_error",
                     "mae": "mean_absolute_error"}


def get_function(identifier):
    """A metric function by name, or a serialized function."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        name = _FUNCTION_ALIASES.get(identifier, identifier)
        if name in FUNCTIONS:
            return FUNCTIONS[name]
        from zoo.losses import get_function as get_loss_function

        return get_loss_function(identifier)
    from zoo.saving.serialization import deserialize as deserialize_object

    return deserialize_object(identifier)


def serialize_function(fn):
    if FUNCTIONS.get(getattr(fn, "__name__", None)) is fn:
        return fn.__name__
    from zoo.losses import serialize_function as serialize_loss_function

    return serialize_loss_function(fn)


def serialize(metric):
    if isinstance(metric, types.FunctionType):
        return serialize_function(metric)
    name = type(metric).__name__
    if ALL.get(name) is type(metric):
        return {"class_name": name, "config": metric.get_config()}
    from zoo.saving.serialization import serialize as serialize_object

    return serialize_object(metric)


def deserialize(config, custom_objects=None, safe_mode=True):
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and config.get("class_name") in ALL:
        return ALL[config["class_name"]].from_config(config.get("config", {}))
    from zoo.saving.serialization import deserialize as deserialize_object

    obj = deserialize_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    return obj if isinstance(obj, Metric) else MeanMetricWrapper(obj)


def get(identifier):
    """A Metric from a name ("mae", "mse", "accuracy", "acc", "sparse_categorical_accuracy",
    "AUC", ...), a config dict, a Metric, a Metric class or a function ``fn(y_true, y_pred)``
    -> per-sample values (wrapped in a MeanMetricWrapper). Plain "accuracy" gives exact-match
    ``Accuracy``; a trainer picks the right variant with ``resolve_accuracy``."""
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _NAMES:
            return _NAMES[identifier](name=identifier)
        if identifier in ALL and identifier != "MeanMetricWrapper":
            return ALL[identifier]()
        raise ValueError(f"Unknown metric {identifier!r}. Known: "
                         f"{', '.join(sorted(set(_NAMES) | set(ALL)))}.")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Cannot interpret {identifier!r} as a metric.")


def _loss_kind(loss):
    from zoo import losses

    for cls, kind in ((losses.BinaryCrossentropy, "binary"),
                      (losses.CategoricalCrossentropy, "categorical"),
                      (losses.SparseCategoricalCrossentropy, "sparse")):
        if isinstance(loss, cls) or (isinstance(loss, type) and issubclass(loss, cls)):
            return kind
    if isinstance(loss, losses.LossFunctionWrapper):
        loss = loss.fn
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", "")
    return {"binary_crossentropy": "binary", "bce": "binary",
            "categorical_crossentropy": "categorical",
            "sparse_categorical_crossentropy": "sparse"}.get(name)


def resolve_accuracy(loss=None, y_true_shape=None, y_pred_shape=None, name="accuracy"):
    """The accuracy a plain "accuracy" / "acc" means here: from the loss when it says
    (binary / categorical / sparse categorical crossentropy), else from the shapes: one
    output unit -> BinaryAccuracy; integer ids (y_true one dim short, or a size-1 last dim
    against several classes) -> SparseCategoricalAccuracy; else CategoricalAccuracy.
    Without either, exact-match Accuracy."""
    kind = _loss_kind(loss) if loss is not None else None
    if kind == "binary":
        return BinaryAccuracy(name=name)
    if kind == "sparse":
        return SparseCategoricalAccuracy(name=name)
    if kind == "categorical":
        return CategoricalAccuracy(name=name)
    if y_pred_shape is None:
        return Accuracy(name=name)
    y_pred_shape = tuple(y_pred_shape)
    if len(y_pred_shape) <= 1 or y_pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if y_true_shape is not None:
        y_true_shape = tuple(y_true_shape)
        if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
            return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)
