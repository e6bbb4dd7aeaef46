"""Helpers the built-in callbacks share: reading logs, monitor direction, fresh variables."""
import numpy as np

# Metric names where bigger is better (``mode="auto"`` picks "max" for these).
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "fmeasure", "iou")


def to_float(value):
    """A log value (Python number, NumPy or backend tensor) as a Python float."""
    if isinstance(value, (int, float, np.number, np.ndarray)):
        return float(np.asarray(value))
    from zoo import ops

    return float(np.asarray(ops.convert_to_numpy(value)))


def logs_to_floats(logs):
    """Logs with every numeric value as a float (values that are not numbers are kept)."""
    out = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = to_float(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


def resolve_mode(mode, monitor, owner):
    """``"min"`` or ``"max"``; ``"auto"`` is "max" for accuracy/AUC-like names, else "min"."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max'; got {mode!r}.")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if any(hint in name.lower() for hint in _HIGHER_IS_BETTER) else "min"


def is_improvement(mode, current, reference, min_delta=0.0):
    """Whether ``current`` beats ``reference`` by more than ``min_delta``."""
    if mode == "min":
        return current + abs(min_delta) < reference
    return current - abs(min_delta) > reference


def worst_value(mode):
    return np.inf if mode == "min" else -np.inf


def sync_variables(model):
    """Make the model's and optimizer's variables current in the middle of an epoch.

    Between epochs every backend keeps its variables current. Inside an epoch the JAX
    trainer keeps the live values in its jitted state (written back at epoch end), so a
    callback that saves mid-epoch calls this first. The values are copied into fresh
    buffers: the jitted step donates its state, which must not alias the variables.
    """
    model._sync_variables()
