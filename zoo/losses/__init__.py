"""``zoo.losses``: loss classes, loss functions, ``get``, ``serialize`` / ``deserialize``.

    zoo.losses.get("mse")                      # -> MeanSquaredError()  (always a Loss)
    zoo.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)
    zoo.losses.mean_squared_error(y_true, y_pred)  # per-sample losses
"""
import types

from zoo.losses.functions import (  # noqa: F401
    ALIASES,
    FUNCTIONS,
    MAE,
    MSE,
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)
from zoo.losses.loss import REDUCTIONS, Loss, LossFunctionWrapper  # noqa: F401
from zoo.losses.losses import (  # noqa: F401
    BY_FUNCTION,
    CLASSES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

ALL = dict(CLASSES, Loss=Loss, LossFunctionWrapper=LossFunctionWrapper)


def _known():
    return sorted(set(FUNCTIONS) | set(ALIASES) | set(CLASSES))


def get_function(identifier):
    """A loss function by name ("mse", "huber", ...), or a serialized function."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        name = ALIASES.get(identifier, identifier)
        if name in FUNCTIONS:
            return FUNCTIONS[name]
        raise ValueError(f"Unknown loss function {identifier!r}. Known: {', '.join(_known())}.")
    from zoo.saving.serialization import deserialize

    return deserialize(identifier)


def serialize_function(fn):
    if FUNCTIONS.get(getattr(fn, "__name__", None)) is fn:
        return fn.__name__
    from zoo.saving.serialization import serialize

    return serialize(fn)


def serialize(loss):
    """A Loss -> ``{"class_name", "config"}``; a built-in loss function -> its name."""
    if isinstance(loss, types.FunctionType):
        return serialize_function(loss)
    name = type(loss).__name__
    if ALL.get(name) is type(loss):
        return {"class_name": name, "config": loss.get_config()}
    from zoo.saving.serialization import serialize as serialize_object

    return serialize_object(loss)


def deserialize(config, custom_objects=None, safe_mode=True):
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and config.get("class_name") in ALL:
        return ALL[config["class_name"]].from_config(config.get("config", {}))
    from zoo.saving.serialization import deserialize as deserialize_object

    obj = deserialize_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    return obj if isinstance(obj, Loss) else LossFunctionWrapper(obj)


def get(identifier):
    """A Loss from a name ("mse", "mean_squared_error", "MeanSquaredError",
    "sparse_categorical_crossentropy", ...), a config dict, a Loss, a Loss class or a
    function ``fn(y_true, y_pred)`` (wrapped in a LossFunctionWrapper). None -> None."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        name = ALIASES.get(identifier, identifier)
        if name in BY_FUNCTION:
            return BY_FUNCTION[name]()
        if name in CLASSES:
            return CLASSES[name]()
        raise ValueError(f"Unknown loss {identifier!r}. Known: {', '.join(_known())}.")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = BY_FUNCTION.get(getattr(identifier, "__name__", None))
        if cls is not None and FUNCTIONS.get(identifier.__name__) is identifier:
            return cls()
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Cannot interpret {identifier!r} as a loss.")
