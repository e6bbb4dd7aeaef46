"""NumPy: inference only. evaluate / predict run eagerly; fit raises a clear error."""
from zoo.backend.common.eager_trainer import EagerTrainer


class BackendTrainer(EagerTrainer):
    def _resolve_jit_compile(self, jit_compile):
        return False

    def _check_can_train(self):
        raise NotImplementedError(
            "The numpy backend runs inference only (no autodiff): fit / train_on_batch need "
            "ZOO_BACKEND=jax, torch or tensorflow. evaluate() and predict() work here."
        )

    def train_step(self, data):
        self._check_can_train()

    def make_train_function(self):
        self._check_can_train()

    def make_test_function(self):
        return self.test_step

    def make_predict_function(self):
        return self.predict_step

    def make_generate_function(self, fn, static_argnums=(), library_kernels=False):
        """NumPy runs ``fn`` as it is (eagerly)."""
        def run(*args):
            return fn(*args)

        run.compile_count = lambda: 0
        return run
