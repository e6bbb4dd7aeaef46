"""The universal training loop: compile / fit / evaluate / predict on every backend.

The loops here are backend-neutral; the steps are not. Each backend's ``trainer.py``
supplies ``train_step`` / ``test_step`` / ``predict_step`` and ``make_*_function``:

* JAX: one ``jax.jit``-compiled pure step over the state tuple (trainable, non-trainable,
  optimizer, metrics values), buffers donated; the state is written back to the variables
  at the end of each epoch (and before callbacks that need it);
* torch: autograd, eager (``jit_compile=True``: one traced graph per batch shape, compiled
  by inductor);
* TensorFlow: ``tf.GradientTape`` under ``tf.function`` (XLA when ``jit_compile=True``);
* NumPy: evaluate / predict only.

A model overrides ``train_step`` to customise training (see examples/).
"""
from collections.abc import Mapping

import numpy as np

from zoo import backend
from zoo.engine.callbacks.callback import CallbackList, History
from zoo.engine.callbacks.progbar_logger import ProgbarLogger
from zoo.engine.data_adapter import DataHandler, unpack
from zoo.layers.structures import flatten, map_structure


def _concat(batches):
    first = batches[0]
    if isinstance(first, dict):
        return {k: _concat([b[k] for b in batches]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concat([b[i] for b in batches]) for i in range(len(first)))
    return np.concatenate([backend.core.convert_to_numpy(b) for b in batches], axis=0)


def _logs_to_floats(logs):
    return {k: float(np.asarray(backend.core.convert_to_numpy(v))) for k, v in logs.items()}


class MetricLogs(Mapping):
    """A step's logs whose values (metric results) are computed when first read, so an
    eager step that nothing inspects pays no extra ops. Read them before the next step."""

    def __init__(self, metrics):
        self._metrics = metrics
        self._values = None

    def _compute(self):
        if self._values is None:
            self._values = {m.name: m.result() for m in self._metrics}
        return self._values

    def __getitem__(self, key):
        return self._compute()[key]

    def __iter__(self):
        return iter([m.name for m in self._metrics])

    def __len__(self):
        return len(self._metrics)


class Trainer(backend.trainer.BackendTrainer):
    compiled = False
    optimizer = None
    stop_training = False

    # -- compile --------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                jit_compile="auto", run_eagerly=False):
        from zoo import losses as zoo_losses
        from zoo import metrics as zoo_metrics
        from zoo import optimizers as zoo_optimizers

        self.optimizer = zoo_optimizers.get(optimizer)
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
                self.optimizer, zoo_optimizers.LossScaleOptimizer):
            # float16 gradients underflow without it (Keras does the same)
            self.optimizer = zoo_optimizers.LossScaleOptimizer(self.optimizer)
        self.loss = _resolve_loss(loss, zoo_losses)
        self.loss_weights = loss_weights
        self._loss_tracker = zoo_metrics.Mean(name="loss")
        self._compile_metrics = [_resolve_metric(m, self.loss, zoo_metrics)
                                 for m in flatten(metrics or [])]
        self.jit_compile = self._resolve_jit_compile(jit_compile) and not run_eagerly
        self._jit_compile_asked = jit_compile
        self.run_eagerly = run_eagerly
        self.compiled = True
        self.stop_training = False
        self._metrics_built = False
        self._reset_step_functions()

    @property
    def metrics(self):
        """The loss tracker first, then the compiled metrics (Keras order)."""
        if not self.compiled:
            return []
        return [self._loss_tracker] + list(self._compile_metrics)

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of ``y`` and ``y_pred`` (override for custom objectives)."""
        if self.loss is None:
            raise ValueError(f"Model {self.name!r} was compiled without a loss; pass "
                             f"loss= to compile() or override compute_loss().")
        if isinstance(self.loss, dict):
            weights = self.loss_weights or {}
            total = 0.0
            for key, loss_fn in self.loss.items():
                value = loss_fn(y[key], y_pred[key], sample_weight)
                total = total + value * weights.get(key, 1.0)
            return total
        return self.loss(y, y_pred, sample_weight)

    def _check_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"Call model.compile(...) before model.{what}().")

    def _update_metrics(self, loss, y, y_pred, sample_weight=None, lazy=False):
        """Stateful metric update (torch, TensorFlow, NumPy); returns the logs. ``lazy``
        (eager torch) defers computing the results until something reads them."""
        self._loss_tracker.update_state(loss)
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred, sample_weight=sample_weight)
        if lazy:
            return MetricLogs(self.metrics)
        return {m.name: m.result() for m in self.metrics}

    # -- fit ------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        self._check_compiled("fit")
        self._check_can_train()
        data = DataHandler(x, y, sample_weight, batch_size, steps_per_epoch, shuffle=shuffle)
        if validation_split and validation_data is None:
            validation_data = data.split_validation(validation_split)
        val_data = None
        if validation_data is not None:
            vx, vy, vsw = unpack(tuple(validation_data)) if isinstance(
                validation_data, (tuple, list)) else (validation_data, None, None)
            val_data = DataHandler(vx, vy, vsw, validation_batch_size or batch_size,
                                   validation_steps)
        verbose = 1 if verbose == "auto" else verbose
        history = History()
        callback_list = self._callbacks(callbacks, verbose, history, epochs=epochs,
                                        steps=data.num_batches)
        self.stop_training = False
        self._initial_epoch = initial_epoch
        self._ensure_built(data)
        train_function = self.make_train_function()
        self._initial_step = 0
        callback_list.on_train_begin()
        logs = {}
        for epoch in range(self._initial_epoch, epochs):
            self._reset_metrics()
            callback_list.on_epoch_begin(epoch)
            self._begin_epoch()
            step_logs = {}
            try:
                for step, batch in data.batches(epoch):
                    if step < self._initial_step:  # resuming mid-epoch (BackupAndRestore)
                        continue
                    callback_list.on_train_batch_begin(step)
                    step_logs = train_function(batch)
                    callback_list.on_train_batch_end(step, step_logs)
                    if self.stop_training:
                        break
            finally:  # on JAX the variables hold donated buffers until the state is written
                self._end_epoch()
                self._initial_step = 0
            logs = _logs_to_floats(step_logs) if step_logs else {}
            if val_data is not None and (epoch + 1) % validation_freq == 0:
                self._in_fit = True
                try:
                    val_logs = self.evaluate(val_data, verbose=0, return_dict=True,
                                             callbacks=callback_list, _reset=True)
                finally:
                    self._in_fit = False
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        return history

    def _callbacks(self, callbacks, verbose, history=None, **params):
        if isinstance(callbacks, CallbackList):
            return callbacks
        items = list(callbacks or [])
        if verbose and not any(isinstance(c, ProgbarLogger) for c in items):
            items.append(ProgbarLogger(verbose))
        if history is not None:
            items.append(history)
        return CallbackList(items, model=self, verbose=verbose, **params)

    def _ensure_built(self, data):
        """Build model, optimizer and metrics from the first batch before any step is traced."""
        metrics_ready = getattr(self, "_metrics_built", False) or not self.compiled
        if self.built and metrics_ready and (self.optimizer is None or self.optimizer.built):
            return
        for _, batch in data.batches(0):
            x, y, _ = unpack(batch)
            if not self.built:
                self._symbolic_build(x)
            if not metrics_ready and y is not None:
                self._build_metrics(x, y)
            break
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def _build_metrics(self, x, y):
        """Metrics whose state depends on shapes (F1Score) create it now, not while traced."""
        y_pred = self._symbolic_without_node(_specs_like(x))
        for metric in self._compile_metrics:
            metric.build(tuple(y.shape) if hasattr(y, "shape") else None,
                         tuple(y_pred.shape) if hasattr(y_pred, "shape") else None)
        self._metrics_built = True

    def _symbolic_build(self, x):
        """Build the model's variables from the first batch (shapes with the batch dim
        unknown, dtypes as given: integer ids stay integers)."""
        self.build(_specs_like(x))
        self._assign_variable_paths()

    def _reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    # -- evaluate / predict ------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, _reset=True):
        self._check_compiled("evaluate")
        data = x if isinstance(x, DataHandler) else DataHandler(x, y, sample_weight, batch_size,
                                                                 steps)
        verbose = 1 if verbose == "auto" else verbose
        callback_list = self._callbacks(callbacks, verbose, steps=data.num_batches)
        self._ensure_built(data)
        test_function = self.make_test_function()
        if _reset:
            self._reset_metrics()
        self._begin_test()
        callback_list.on_test_begin()
        logs = {}
        for step, batch in data.batches(0):
            callback_list.on_test_batch_begin(step)
            logs = test_function(batch)
            callback_list.on_test_batch_end(step, logs)
        logs = _logs_to_floats(logs) if logs else {}
        self._end_test()
        callback_list.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        data = DataHandler(x, None, None, batch_size, steps)
        verbose = 1 if verbose == "auto" else verbose
        callback_list = self._callbacks(callbacks, verbose, steps=data.num_batches)
        self._ensure_built(data)
        predict_function = self.make_predict_function()
        callback_list.on_predict_begin()
        outputs = []
        for step, batch in data.batches(0):
            callback_list.on_predict_batch_begin(step)
            x_batch, _, _ = unpack(batch)
            outputs.append(map_structure(backend.core.convert_to_numpy, predict_function(x_batch)))
            callback_list.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict() got no data.")
        return _concat(outputs)

    # -- single batches ------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("train_on_batch")
        self._check_can_train()
        data = DataHandler(x, y, sample_weight, batch_size=len(flatten(
            map_structure(lambda a: np.asarray(a), x))[0]))
        self._ensure_built(data)
        train_function = self.make_train_function()
        self._reset_metrics()
        self._begin_epoch()
        logs = {}
        for _, batch in data.batches(0):
            logs = train_function(batch)
        self._end_epoch()
        return self._format_batch_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("test_on_batch")
        logs = self.evaluate(x, y, batch_size=len(flatten(map_structure(np.asarray, x))[0]),
                             sample_weight=sample_weight, verbose=0, return_dict=True)
        return self._format_batch_logs(logs, return_dict)

    def predict_on_batch(self, x):
        data = DataHandler(x, batch_size=len(flatten(map_structure(np.asarray, x))[0]))
        self._ensure_built(data)
        predict_function = self.make_predict_function()
        for _, batch in data.batches(0):
            return map_structure(backend.core.convert_to_numpy, predict_function(batch))

    def _format_batch_logs(self, logs, return_dict):
        logs = _logs_to_floats(logs) if logs else {}
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values


def _specs_like(x):
    """SymbolicTensors shaped like the batch ``x`` with an unknown batch dimension."""
    from zoo.backend.common.symbolic import SymbolicTensor

    return map_structure(lambda t: SymbolicTensor((None,) + tuple(t.shape[1:]),
                                                  backend.core.dtype_of(t)), x)


def _resolve_loss(loss, zoo_losses):
    if loss is None:
        return None
    if isinstance(loss, dict):
        return {k: zoo_losses.get(v) for k, v in loss.items()}
    return zoo_losses.get(loss)


def _resolve_metric(metric, loss, zoo_metrics):
    if isinstance(metric, str) and metric in ("accuracy", "acc"):
        return zoo_metrics.resolve_accuracy(loss)
    return zoo_metrics.get(metric)
