"""What the stateful trainers (torch, TensorFlow, NumPy) share: test/predict steps that
update metrics in place, and no state to carry between steps (variables are always current).
JAX's trainer differs: its steps are pure functions of a state tuple."""


def unpack(data):
    from zoo.engine.data_adapter import unpack as unpack_batch

    return unpack_batch(data)


class EagerTrainer:
    def _check_can_train(self):
        pass

    def _reset_step_functions(self):
        self._train_fn = self._test_fn = self._predict_fn = None

    def test_step(self, data):
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return self._update_metrics(loss, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack(data)
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
