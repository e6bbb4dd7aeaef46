"""LearningRateScheduler: set the optimizer's learning rate at the start of every epoch."""
import inspect

import numpy as np

from zoo.engine.callbacks.callback import Callback
from zoo.engine.callbacks.callback_utils import to_float


def _is_schedule(value):
    try:
        from zoo.optimizers.schedules import LearningRateSchedule
    except ImportError:
        LearningRateSchedule = ()
    if LearningRateSchedule and isinstance(value, LearningRateSchedule):
        return True
    return callable(value) and hasattr(value, "get_config")


def _is_variable(value):
    from zoo import backend

    return isinstance(value, backend.Variable)


class LearningRateScheduler(Callback):
    """At each epoch begin, ``lr = schedule(epoch, lr)`` is assigned to the optimizer.

    ``schedule`` takes the epoch index (0-based) and the current learning rate (a float)
    and returns the new learning rate (a float); a one-argument ``schedule(epoch)`` is
    accepted too. The optimizer's ``learning_rate`` must be a variable (a float given to
    the optimizer); an optimizer driven by a ``LearningRateSchedule`` cannot be scheduled
    a second time and raises a TypeError. The epoch's logs get a ``learning_rate`` entry.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable "
                            f"(epoch, lr) -> lr; got {schedule!r}.")
        self.schedule = schedule
        self.verbose = verbose

    def _optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            raise ValueError("LearningRateScheduler: the model's optimizer has no "
                             "`learning_rate` attribute (was the model compiled?).")
        return optimizer

    def _schedule_error(self, optimizer, schedule):
        return TypeError(
            f"LearningRateScheduler cannot set the learning rate of "
            f"{type(optimizer).__name__}: its learning rate is the schedule "
            f"{type(schedule).__name__}. Give the optimizer a float learning rate to use "
            f"LearningRateScheduler, or use the schedule alone.")

    def _read_lr(self):
        optimizer = self._optimizer()
        underlying = getattr(optimizer, "_learning_rate", None)  # zoo optimizers keep it here
        if underlying is not None and not _is_variable(underlying) and _is_schedule(underlying):
            raise self._schedule_error(optimizer, underlying)
        lr = optimizer.learning_rate
        if _is_variable(lr):
            return to_float(lr.value)
        if _is_schedule(lr):
            raise self._schedule_error(optimizer, lr)
        return to_float(lr)

    def _write_lr(self, value):
        optimizer = self._optimizer()
        lr = optimizer.learning_rate
        if _is_variable(lr):
            lr.assign(np.asarray(value, dtype=lr.dtype))
            return
        try:
            optimizer.learning_rate = value  # the optimizer's setter assigns its variable
        except TypeError as error:
            raise self._schedule_error(optimizer, getattr(optimizer, "_learning_rate", lr)) \
                from error

    def _call_schedule(self, epoch, lr):
        try:
            inspect.signature(self.schedule).bind(epoch, lr)
        except TypeError:  # a one-argument schedule(epoch)
            return self.schedule(epoch)
        except ValueError:  # no signature available (some builtins): try the Keras form
            pass
        return self.schedule(epoch, lr)

    def on_epoch_begin(self, epoch, logs=None):
        current = self._read_lr()
        new = self._call_schedule(epoch, current)
        try:
            new = to_float(new)
        except (TypeError, ValueError):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, {current}) returned "
                             f"{new!r}; it must return a float.") from None
        if not np.isfinite(new):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, {current}) returned "
                             f"the invalid learning rate {new}.")
        self._write_lr(new)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.",
                  flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self._read_lr()
