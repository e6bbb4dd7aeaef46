"""Callback: hooks the training loop calls (Keras signatures).

``fit`` calls, in order: ``on_train_begin``, then per epoch ``on_epoch_begin``,
``on_train_batch_begin``/``on_train_batch_end`` around each step, (validation:
``on_test_begin`` ... ``on_test_end``), ``on_epoch_end(epoch, logs)`` with the epoch's
metrics (validation ones prefixed ``val_``), and ``on_train_end``. ``evaluate`` and
``predict`` call the test/predict hooks. A callback stops training by setting
``self.model.stop_training = True``; one that restores progress (BackupAndRestore) sets
``self.model._initial_epoch`` in ``on_train_begin``.
"""


class Callback:
    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class CallbackList(Callback):
    """Calls every callback in order; what ``fit``/``evaluate``/``predict`` talk to."""

    def __init__(self, callbacks=None, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        callback.set_params(self.params)

    def set_model(self, model):
        super().set_model(model)
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for c in self.callbacks:
            c.set_params(params)


def _fan_out(name):
    def method(self, *args, **kwargs):
        for c in self.callbacks:
            getattr(c, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in [n for n in vars(Callback) if n.startswith("on_")]:
    setattr(CallbackList, _name, _fan_out(_name))


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"]`` is a list per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
