"""TerminateOnNaN: stop training after the first batch whose loss is NaN or infinite."""
import math

from zoo.engine.callbacks.callback import Callback
from zoo.engine.callbacks.callback_utils import to_float


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when ``logs["loss"]`` is NaN/inf; fit ends cleanly.

    The epoch in progress is closed as usual (``on_epoch_end``, ``on_train_end``), so
    ``fit`` returns its History.
    """

    def __init__(self):
        super().__init__()
        self.stopped_batch = None

    def on_train_begin(self, logs=None):
        self.stopped_batch = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        if not math.isfinite(to_float(loss)):
            self.stopped_batch = batch
            print(f"Batch {batch}: invalid loss ({to_float(loss)}), terminating training.",
                  flush=True)
            self.model.stop_training = True
