"""PyTorch training steps: autograd, eager by default; with ``jit_compile=True`` one traced
graph per batch signature, compiled by inductor (zoo/backend/torch/capture.py)."""
import warnings

import torch

from zoo.backend.common.eager_trainer import EagerTrainer, unpack
from zoo.backend.torch.capture import CompiledCall


class BackendTrainer(EagerTrainer):
    def _resolve_jit_compile(self, jit_compile):
        return False if jit_compile == "auto" else bool(jit_compile)

    def train_step(self, data):
        x, y, sample_weight = unpack(data)
        loss, grads, y_pred = self._loss_and_grads(x, y, sample_weight)
        return self._apply_and_log(grads, self.trainable_variables, loss, y, y_pred,
                                   sample_weight)

    def _apply_and_log(self, grads, variables, loss, y, y_pred, sample_weight):
        with torch.no_grad():
            self.optimizer.apply(grads, variables)
        return self._update_metrics(loss, y, y_pred.detach() if torch.is_tensor(y_pred)
                                    else y_pred, sample_weight, lazy=True)

    def _loss_and_grads(self, x, y, sample_weight):
        """The forward pass, the loss and its gradients (``torch.autograd.grad``, of the
        scaled loss under loss scaling): the eager train step, and what the compiled one
        traces."""
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        scale = getattr(self.optimizer, "scale_loss", None)
        values = [v.value for v in self.trainable_variables]
        grads = torch.autograd.grad(scale(loss) if scale else loss, values, allow_unused=True)
        return loss.detach(), list(grads), y_pred

    def _compiled_train_step(self):
        """``jit_compile=True``: forward, loss and backward as one traced graph per batch
        signature, compiled by inductor (zoo/backend/torch/capture.py); the optimizer
        update (one fused kernel per variable group) and the metrics run after it."""
        self.optimizer.build(self.trainable_variables)  # its variables exist before tracing
        compiled = CompiledCall(
            self, self._loss_and_grads, "train_step",
            variables=lambda: self.variables + list(self.optimizer.variables),
            differentiate=lambda: self.trainable_variables)

        def step(data):
            x, y, sample_weight = unpack(data)
            loss, grads, y_pred = compiled(x, y, sample_weight)
            return self._apply_and_log(grads, self.trainable_variables, loss, y, y_pred,
                                       sample_weight)  # as train_step does

        step.compiled = compiled
        return step

    def _compiles(self, step):
        """``jit_compile=True`` compiles zoo's own ``step``; one a subclass overrides (a
        custom ``train_step`` that calls ``backward()`` and the optimizer itself) cannot
        be traced as a pure function, so it runs eagerly, with a warning."""
        if not self.jit_compile:
            return False
        if getattr(type(self), step) is getattr(BackendTrainer, step):
            return True
        warnings.warn(f"{self.name}: jit_compile=True compiles zoo's own {step} on torch; "
                      f"the overridden {type(self).__name__}.{step} runs eagerly.",
                      stacklevel=3)
        return False

    def make_train_function(self):
        if self._train_fn is None:
            self._train_fn = self._compiled_train_step() if self._compiles("train_step") \
                else self.train_step
        return self._train_fn

    def _loss_and_predictions(self, x, y, sample_weight):
        y_pred = self(x, training=False)
        return self.compute_loss(x, y, y_pred, sample_weight), y_pred

    def make_test_function(self):
        """Eager under ``no_grad``; with ``jit_compile=True`` the forward pass and the
        loss run as one compiled graph per batch signature, the metrics after it."""
        if self._test_fn is None:
            compiled = CompiledCall(self, self._loss_and_predictions, "evaluate") \
                if self._compiles("test_step") else None

            def test_function(data):
                with torch.no_grad():
                    if compiled is None:
                        return self.test_step(data)
                    x, y, sample_weight = unpack(data)
                    loss, y_pred = compiled(x, y, sample_weight)
                    return self._update_metrics(loss, y, y_pred, sample_weight)

            test_function.compiled = compiled
            self._test_fn = test_function
        return self._test_fn

    def make_generate_function(self, fn, static_argnums=(), library_kernels=False):
        """``fn(*args)`` run eagerly under ``torch.inference_mode`` (no autograd graph):
        each generation step is the model call and a few tensor ops, no host syncs
        beyond the loop's stop test."""
        def run(*args):
            with torch.inference_mode():
                return fn(*args)

        run.compile_count = lambda: 0
        return run

    def make_predict_function(self):
        """Eager under ``no_grad``; with ``compile(jit_compile=True)``, one traced and
        inductor-compiled graph per input signature (zoo/backend/torch/capture.py)."""
        if getattr(self, "_predict_fn", None) is None:
            compiled = CompiledCall(self, self.predict_step, "predict") \
                if getattr(self, "jit_compile", False) else None
            step = compiled or self.predict_step

            def predict_function(data):
                with torch.no_grad():
                    return step(data)

            predict_function.compiled = compiled

            self._predict_fn = predict_function
        return self._predict_fn
