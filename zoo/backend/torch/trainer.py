"""PyTorch training steps: autograd, eager by default, ``torch.compile`` when asked."""
import torch

from zoo.backend.common.eager_trainer import EagerTrainer, unpack
from zoo.backend.torch.capture import CompiledCall


class BackendTrainer(EagerTrainer):
    def _resolve_jit_compile(self, jit_compile):
        return False if jit_compile == "auto" else bool(jit_compile)

    def train_step(self, data):
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        variables = self.trainable_variables
        for v in variables:
            v.value.grad = None
        self._backward(loss)
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            self.optimizer.apply(grads, variables)
        return self._update_metrics(loss.detach(), y, y_pred.detach() if torch.is_tensor(y_pred)
                                    else y_pred, sample_weight, lazy=True)

    def _backward(self, loss):
        scale = getattr(self.optimizer, "scale_loss", None)
        (scale(loss) if scale else loss).backward()

    def make_train_function(self):
        if self._train_fn is None:
            step = torch.compile(self.train_step) if self.jit_compile else self.train_step
            self._train_fn = step
        return self._train_fn

    def make_test_function(self):
        if self._test_fn is None:
            def test_function(data):
                with torch.no_grad():
                    return self.test_step(data)

            self._test_fn = test_function
        return self._test_fn

    def make_generate_function(self, fn, static_argnums=()):
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
            step = self.predict_step
            if getattr(self, "jit_compile", False):
                step = CompiledCall(self, self.predict_step, "predict")

            def predict_function(data):
                with torch.no_grad():
                    return step(data)

            predict_function.step = step

            self._predict_fn = predict_function
        return self._predict_fn
