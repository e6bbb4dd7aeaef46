"""JAX training steps: one jitted pure function over the state tuple.

``state = (trainable, non_trainable, optimizer, metrics)`` values. ``train_step(state,
data) -> (logs, state)`` is the seed's custom-model signature; fit jits it once (buffers of
the state donated) and writes the state back into the variables at the end of each epoch.
"""
import jax


def _unpack(data):
    from zoo.engine.data_adapter import unpack

    return unpack(data)


class BackendTrainer:
    _jax_state = None

    def _resolve_jit_compile(self, jit_compile):
        return True if jit_compile == "auto" else bool(jit_compile)

    def _check_can_train(self):
        pass

    def _reset_step_functions(self):
        self._train_fn = self._test_fn = self._predict_fn = None

    # -- the stateless building blocks (the seed's custom model overrides these) ------------
    def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x, y,
                                 training=False, sample_weight=None):
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=training)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return loss, (y_pred, non_trainable_variables)

    def _stateless_metrics(self, metrics_variables, loss, y, y_pred, sample_weight):
        logs, new_values, start = {}, [], 0
        for metric in self.metrics:
            n = len(metric.variables)
            values = metrics_variables[start:start + n]
            start += n
            if metric is self._loss_tracker:
                values = metric.stateless_update_state(values, loss)
            else:
                values = metric.stateless_update_state(values, y, y_pred,
                                                       sample_weight=sample_weight)
            logs[metric.name] = metric.stateless_result(values)
            new_values += list(values)
        return logs, new_values

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_values, metrics_values = state
        x, y, sample_weight = _unpack(data)
        extra = {} if sample_weight is None else {"sample_weight": sample_weight}
        scale = getattr(self.optimizer, "stateless_scale_loss", None)  # LossScaleOptimizer

        def scaled_loss(trainable, non_trainable):
            loss, aux = self.compute_loss_and_updates(trainable, non_trainable, x, y,
                                                      training=True, **extra)
            return (scale(optimizer_values, loss) if scale else loss), (loss, aux)

        (_, (loss, (y_pred, non_trainable))), grads = jax.value_and_grad(
            scaled_loss, has_aux=True)(trainable, non_trainable)
        trainable, optimizer_values = self.optimizer.stateless_apply(
            optimizer_values, grads, trainable)
        logs, metrics_values = self._stateless_metrics(metrics_values, loss, y, y_pred,
                                                       sample_weight)
        return logs, (trainable, non_trainable, optimizer_values, metrics_values)

    def test_step(self, state, data):
        trainable, non_trainable, metrics_values = state
        x, y, sample_weight = _unpack(data)
        extra = {} if sample_weight is None else {"sample_weight": sample_weight}
        loss, (y_pred, non_trainable) = self.compute_loss_and_updates(
            trainable, non_trainable, x, y, training=False, **extra)
        logs, metrics_values = self._stateless_metrics(metrics_values, loss, y, y_pred,
                                                       sample_weight)
        return logs, (trainable, non_trainable, metrics_values)

    def predict_step(self, state, data):
        trainable, non_trainable = state
        x, _, _ = _unpack(data)
        outputs, _ = self.stateless_call(trainable, non_trainable, x, training=False)
        return outputs

    def _logs_from_state(self, logs, metrics_values):
        """A custom train_step may return one metric's value (the seed's example does):
        then the logs are every metric's result, read from the metrics state."""
        if isinstance(logs, dict):
            return logs
        out, start = {}, 0
        for metric in self.metrics:
            n = len(metric.variables)
            out[metric.name] = metric.stateless_result(metrics_values[start:start + n])
            start += n
        return out

    # -- state <-> variables -----------------------------------------------------------
    def _collect_state(self):
        return ([v.value for v in self.trainable_variables],
                [v.value for v in self.non_trainable_variables],
                [v.value for v in self.optimizer.variables] if self.optimizer else [],
                [v.value for m in self.metrics for v in m.variables])

    def _write_state(self, state):
        trainable, non_trainable, optimizer_values, metrics_values = state
        pairs = list(zip(self.trainable_variables, trainable))
        pairs += list(zip(self.non_trainable_variables, non_trainable))
        if self.optimizer:
            pairs += list(zip(self.optimizer.variables, optimizer_values))
        pairs += list(zip([v for m in self.metrics for v in m.variables], metrics_values))
        for variable, value in pairs:
            variable._direct_assign(value)

    def _sync_variables(self):
        """Mid-epoch: copy the live jitted state into the variables (copies, because the
        next step donates the state's buffers)."""
        if self._jax_state is not None:
            self._write_state(jax.tree_util.tree_map(lambda a: a.copy(), self._jax_state))

    # -- zoo.distribution: the state on the mesh, batches split over its batch axis --------
    def _active_distribution(self):
        """The distribution in effect (a scope's or the process's), else the one this
        model's variables were created under, else None."""
        from zoo.backend.common import global_state

        active = global_state.distribution()
        if active is None:
            active = next((v._distribution for v in self.variables
                           if v._distribution is not None), None)
        return active

    def _place_state(self, state, active):
        """Every state value on ``active``'s mesh: variables keep their layout, the rest
        (metrics, optimizer counters made outside the scope) replicated."""
        if active is None:
            return state
        from zoo.backend.jax import distribution

        mesh = active.device_mesh
        return jax.tree_util.tree_map(
            lambda v: distribution.place(v, distribution.mesh_sharding_of(v, mesh)), state)

    @staticmethod
    def _place_batch(data, active):
        if active is None:
            return data
        from zoo.backend.jax import distribution

        return distribution.place_batch(data, active)

    def _jit_step(self, step, active, state_index=None, donate=False):
        """``jax.jit(step)``; under distribution ``active``, the state that ``step`` returns
        (at ``state_index`` of its outputs) keeps the input state's shardings, so the next
        call neither copies it nor compiles again."""
        if not getattr(self, "jit_compile", True):
            return step
        donate_argnums = 0 if donate else ()
        if active is None:
            return jax.jit(step, donate_argnums=donate_argnums)
        compiled = {}

        def run(state, data):
            if "fn" not in compiled:
                from jax.sharding import NamedSharding, PartitionSpec

                shardings = jax.tree_util.tree_map(lambda v: v.sharding, state)
                mesh = active.device_mesh.backend_mesh
                out = [NamedSharding(mesh, PartitionSpec())] * 2
                out[state_index] = shardings
                compiled["fn"] = jax.jit(step, donate_argnums=donate_argnums,
                                         out_shardings=tuple(out))
            return compiled["fn"](state, data)

        run._cache_size = lambda: compiled["fn"]._cache_size() if compiled else 0
        return run

    def _begin_epoch(self):
        self._jax_state = self._place_state(self._collect_state(), self._active_distribution())

    def _end_epoch(self):
        if self._jax_state is not None:
            self._write_state(self._jax_state)
            self._jax_state = None

    def _begin_test(self):
        trainable, non_trainable, _, metrics_values = self._collect_state()
        self._jax_test_state = self._place_state((trainable, non_trainable, metrics_values),
                                                 self._active_distribution())

    def _end_test(self):
        trainable, non_trainable, metrics_values = self._jax_test_state
        for variable, value in zip([v for m in self.metrics for v in m.variables], metrics_values):
            variable._direct_assign(value)
        self._jax_test_state = None

    # -- compiled functions ----------------------------------------------------------------
    def make_train_function(self):
        if self._train_fn is None:
            active = self._active_distribution()  # looked up once, not per step
            step = self._jit_step(self.train_step, active, state_index=1, donate=True)
            self._jitted_train_step = step

            def train_function(data):
                logs, self._jax_state = step(self._jax_state, self._place_batch(data, active))
                return self._logs_from_state(logs, self._jax_state[3])

            self._train_fn = train_function
        return self._train_fn

    def _train_step_cache_size(self):
        """How many shapes the jitted train step was compiled for (tests check retracing)."""
        return self._jitted_train_step._cache_size()

    def make_test_function(self):
        if self._test_fn is None:
            active = self._active_distribution()
            step = self._jit_step(self.test_step, active, state_index=1)

            def test_function(data):
                logs, self._jax_test_state = step(self._jax_test_state,
                                                  self._place_batch(data, active))
                return self._logs_from_state(logs, self._jax_test_state[2])

            self._test_fn = test_function
        return self._test_fn

    def make_generate_function(self, fn, static_argnums=(), library_kernels=False):
        """``fn(*args)`` (an inference loop over this model) as one ``jax.jit``-compiled
        pure function of the model's variable values: compiled once per input shape (and
        value of the static arguments), the weights passed in, never baked in."""
        from zoo.backend.common.stateless_scope import StatelessScope

        current = {}

        def pure(values, *args):
            with StatelessScope(list(zip(current["variables"], values))):
                return fn(*args)

        jitted = jax.jit(pure, static_argnums=tuple(i + 1 for i in static_argnums))

        def run(*args):
            current["variables"] = variables = self.variables
            return jitted([v.value for v in variables], *args)

        run.compiled = jitted
        run.compile_count = jitted._cache_size
        return run

    def make_predict_function(self):
        if getattr(self, "_predict_fn", None) is None:
            step = jax.jit(self.predict_step) if getattr(self, "jit_compile", True) \
                else self.predict_step
            active = self._active_distribution()

            def predict_function(data):
                state = ([v.value for v in self.trainable_variables],
                         [v.value for v in self.non_trainable_variables])
                return step(self._place_state(state, active), self._place_batch(data, active))

            self._predict_fn = predict_function
        return self._predict_fn
