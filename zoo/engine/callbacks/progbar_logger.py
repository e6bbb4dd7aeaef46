"""ProgbarLogger: the callback behind ``verbose=1`` (bar) and ``verbose=2`` (line per epoch)."""
from zoo.engine.callbacks.callback import Callback
from zoo.engine.progbar import Progbar


class ProgbarLogger(Callback):
    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            epochs = self.params.get("epochs")
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        self.bar = Progbar(self.params.get("steps"), verbose=self.verbose)
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self.bar is not None:
            self.bar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.update(self._seen, logs, finalize=True)

    def on_test_begin(self, logs=None):
        if self.model is not None and getattr(self.model, "_in_fit", False):
            return
        self.bar = Progbar(self.params.get("steps"), verbose=self.verbose)
        self._seen = 0

    def on_test_batch_end(self, batch, logs=None):
        if self.model is not None and getattr(self.model, "_in_fit", False):
            return
        self._seen = batch + 1
        self.bar.update(batch + 1, logs)

    def on_test_end(self, logs=None):
        if self.model is not None and getattr(self.model, "_in_fit", False):
            return
        self.bar.update(self._seen, logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self.bar = Progbar(self.params.get("steps"), verbose=self.verbose)
        self._seen = 0

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self.bar.update(batch + 1)

    def on_predict_end(self, logs=None):
        self.bar.update(self._seen, finalize=True)
