"""EarlyStopping: stop when a monitored metric has stopped improving."""
import warnings

import numpy as np

from zoo.engine.callbacks.callback import Callback
from zoo.engine.callbacks.callback_utils import (is_improvement, resolve_mode, to_float,
                                                 worst_value)


def _copy_weights(model):
    # A copy, never a view: a backend may hand out arrays sharing the live variables'
    # memory (torch on CPU), which training would then overwrite.
    return [np.array(w, copy=True) for w in model.get_weights()]


class EarlyStopping(Callback):
    """Stop training once ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the log key to watch (e.g. ``"val_loss"``, ``"loss"``, ``"val_accuracy"``).
        min_delta: an epoch counts as an improvement only if it beats the best value by
            more than this.
        patience: how many epochs without improvement to wait before stopping.
        verbose: 1 prints when training stops and when weights are restored.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy/AUC-like names).
        baseline: training stops if the monitor has not beaten this value by the end of
            the patience window.
        restore_best_weights: at the end of training, set the model's weights back to
            those of the best epoch seen (kept as a copy of ``model.get_weights()``).
        start_from_epoch: epochs before this one are a warm-up: not monitored.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = resolve_mode(mode, monitor, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = worst_value(self.mode)
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            warnings.warn(f"EarlyStopping: monitor {self.monitor!r} is not in the logs "
                          f"(available: {sorted(logs)}); skipping this epoch.", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        current = to_float(logs[self.monitor])
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _copy_weights(self.model)  # something to restore, always
            self.best_epoch = epoch
        self.wait += 1
        if is_improvement(self.mode, current, self.best, self.min_delta):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _copy_weights(self.model)
            if self.baseline is None or is_improvement(self.mode, current, self.baseline,
                                                       self.min_delta):
                self.wait = 0
                return
        # No improvement (or none past the baseline) for `patience` epochs: stop.
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.", flush=True)
            self.model.set_weights(self.best_weights)
