"""The ``Metric`` base class: state in non-trainable variables, a stateful and a stateless API.

A metric writes its update rule once, with ``variable.assign(...)``:

    class Total(Metric):
        def __init__(self, name="total", dtype=None):
            super().__init__(name, dtype)
            self.total = self.add_variable((), "zeros", name="total")

        def update_state(self, values, sample_weight=None):
            self.total.assign_add(zoo.ops.sum(values))

        def result(self):
            return self.total.value

``stateless_update_state(values, *args)`` runs that same rule inside a StatelessScope that
maps ``self.variables`` to ``values`` and returns the new values instead of assigning them,
so it is a pure function (``jax.jit``, ``tf.function``). Update rules must not branch in
Python on tensor values.
"""
from zoo import backend, ops
from zoo.backend.common import config, dtypes
from zoo.backend.common.stateless_scope import StatelessScope
from zoo.layers import initializers
from zoo.losses.loss import snake_case, to_float


class Metric:
    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self._dtype = None if dtype is None else dtypes.standardize_dtype(dtype)
        self._variables = []
        self._initializers = []

    @property
    def dtype(self):
        return self._dtype or config.floatx()

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A non-trainable state variable; ``reset_state`` gives it back its initial value."""
        init = initializers.get(initializer)
        variable = backend.Variable(init, shape=tuple(shape), dtype=dtype or self.dtype,
                                    trainable=False, autocast=False,
                                    name=name or f"variable_{len(self._variables)}")
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        self._initializers.append(init)
        return variable

    @property
    def variables(self):
        """The state variables, in the fixed order the stateless API uses."""
        return list(self._variables)

    def build(self, y_true_shape=None, y_pred_shape=None):
        """Create state that depends on the data's shapes (e.g. F1Score's per-class counts).
        Metrics whose state is known up front need not do anything."""

    # -- stateful API ----------------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self):
        for variable, init in zip(self._variables, self._initializers):
            variable.assign(init(variable.shape, variable.dtype))

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    # -- stateless API ---------------------------------------------------------------------
    def _mapping(self, metric_variables, where):
        variables = self.variables
        if len(metric_variables) != len(variables):
            raise ValueError(
                f"{self.name}.{where}: expected {len(variables)} metric variable values "
                f"(one per entry of metric.variables), got {len(metric_variables)}."
                + ("" if variables else " Build the metric first (metric.build(y_true_shape, "
                   "y_pred_shape) or one update_state call)."))
        return list(zip(variables, metric_variables))

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """``update_state`` as a pure function: returns the new variable values."""
        mapping = self._mapping(metric_variables, "stateless_update_state")
        count = len(self._variables)
        with StatelessScope(mapping) as scope:
            self.update_state(*args, **kwargs)
        if len(self._variables) != count:
            raise RuntimeError(f"{self.name}: update_state created variables inside "
                               "stateless_update_state; build the metric first.")
        return [scope.updated_value(v, value) for v, value in mapping]

    def stateless_result(self, metric_variables):
        with StatelessScope(self._mapping(metric_variables, "stateless_result")):
            return self.result()

    def stateless_reset_state(self):
        """The initial variable values (what ``reset_state`` would assign)."""
        with StatelessScope() as scope:
            self.reset_state()
        return [scope.updated_value(v, v.value) for v in self._variables]

    # -- config ----------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "dtype": self._dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def as_float(x, dtype):
    return to_float(x, dtype)
