"""ModelCheckpoint: save the model (or its weights) every epoch / every N batches."""
import os
import warnings

from zoo.engine.callbacks.callback import Callback
from zoo.engine.callbacks.callback_utils import (is_improvement, logs_to_floats, resolve_mode,
                                                 sync_variables, to_float, worst_value)

_WEIGHTS_SUFFIX = ".weights.h5"
_MODEL_SUFFIX = ".zoo"


class ModelCheckpoint(Callback):
    """Save the model during training.

    Args:
        filepath: where to save; may contain ``{epoch}`` (1-based, e.g. ``{epoch:02d}``),
            ``{batch}`` (1-based, with an integer ``save_freq``) and log keys
            (``{val_loss:.2f}``). Must end with ``.weights.h5`` when
            ``save_weights_only`` (saved with ``model.save_weights``), else with ``.zoo``
            (saved with ``model.save``). Saves are atomic; missing directories are created.
        monitor: the log key compared when ``save_best_only``.
        verbose: 1 prints a line per save (and per non-improvement when best-only).
        save_best_only: save only when ``monitor`` improves on the best value so far; a
            missing monitor warns and skips the save.
        save_weights_only: weights only, or the whole model.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy/AUC-like names).
        save_freq: ``"epoch"``, or an integer: save every that many batches.
        initial_value_threshold: the best value to beat at the start (best-only).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = resolve_mode(mode, monitor, "ModelCheckpoint")
        if save_freq != "epoch" and not (isinstance(save_freq, int)
                                         and not isinstance(save_freq, bool) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive "
                             f"integer (a number of batches); got {save_freq!r}.")
        self.save_freq = save_freq
        suffix = _WEIGHTS_SUFFIX if save_weights_only else _MODEL_SUFFIX
        if not self.filepath.endswith(suffix):
            what = "save_weights_only=True" if save_weights_only else "save_weights_only=False"
            raise ValueError(f"ModelCheckpoint: with {what} the filepath must end with "
                             f"{suffix!r}; got {self.filepath!r}.")
        self.initial_value_threshold = initial_value_threshold
        self.best = worst_value(self.mode) if initial_value_threshold is None \
            else float(initial_value_threshold)
        self._current_epoch = 0
        self._batches_since_save = 0
        self.last_saved = None

    def on_train_begin(self, logs=None):
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._maybe_save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._maybe_save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs):
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names "
                           f"{error.args[0]!r}, which is not in the logs (available: epoch"
                           f"{', batch' if batch is not None else ''}, "
                           f"{', '.join(sorted(logs)) or 'no log keys'}).") from None

    def _maybe_save(self, epoch, batch, logs):
        logs = logs_to_floats(logs)
        where = f"Epoch {epoch + 1}" + (f", batch {batch + 1}" if batch is not None else "")
        if self.save_best_only:
            if self.monitor not in logs:
                warnings.warn(f"ModelCheckpoint: can save the best model only with "
                              f"{self.monitor!r} in the logs (available: {sorted(logs)}); "
                              f"skipping.", stacklevel=3)
                return
            current = to_float(logs[self.monitor])
            if not is_improvement(self.mode, current, self.best):
                if self.verbose:
                    print(f"{where}: {self.monitor} did not improve from {self.best:.5f}",
                          flush=True)
                return
            path = self._file_path(epoch, batch, logs)
            if self.verbose:
                print(f"{where}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}", flush=True)
            self.best = current
        else:
            path = self._file_path(epoch, batch, logs)
            if self.verbose:
                print(f"{where}: saving model to {path}", flush=True)
        self._save(path, mid_epoch=batch is not None)

    def _save(self, path, mid_epoch):
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        if mid_epoch:
            sync_variables(self.model)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.last_saved = path
