"""NumPy: inference only. evaluate / predict run eagerly; fit raises a clear error."""


def _unpack(data):
    from zoo.engine.data_adapter import unpack

    return unpack(data)


class BackendTrainer:
    def _resolve_jit_compile(self, jit_compile):
        return False

    def _check_can_train(self):
        raise NotImplementedError(
            "The numpy backend runs inference only (no autodiff): fit / train_on_batch need "
            "ZOO_BACKEND=jax, torch or tensorflow. evaluate() and predict() work here."
        )

    def _reset_step_functions(self):
        self._train_fn = self._test_fn = self._predict_fn = None

    def train_step(self, data):
        self._check_can_train()

    def test_step(self, data):
        x, y, sample_weight = _unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return self._update_metrics(loss, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = _unpack(data)
        return self(x, training=False)

    def _sync_variables(self):
        """Variables are always current on this backend."""

    def _begin_epoch(self):
        pass

    def _end_epoch(self):
        pass

    def _begin_test(self):
        pass

    def _end_test(self):
        pass

    def make_train_function(self):
        self._check_can_train()

    def make_test_function(self):
        return self.test_step

    def make_predict_function(self):
        return self.predict_step
