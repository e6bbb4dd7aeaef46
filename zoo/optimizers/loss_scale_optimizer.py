"""Dynamic loss scaling for float16 training.

    loss = optimizer.scale_loss(loss)          # loss * scale
    optimizer.apply(grads, variables)           # grads / scale, then the inner step

When every gradient is finite the inner optimizer steps and a counter grows; after
``dynamic_growth_steps`` good steps in a row the scale doubles. A non-finite gradient skips
the inner step entirely (its ``iterations`` do not advance), halves the scale and resets the
counter. All of it is value selection (``ops.cond`` / ``ops.where``), so ``stateless_apply``
traces under jax.jit and tf.function.
"""
from zoo import ops
from zoo.optimizers.base import Optimizer
from zoo.saving import serialization

_DELEGATED = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
              "gradient_accumulation_steps", "loss_scale_factor")


@serialization.register_builtin
class LossScaleOptimizer(Optimizer):
    _default_name = "loss_scale_optimizer"

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"inner_optimizer must be a zoo Optimizer, got {inner_optimizer!r}.")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer: unexpected arguments {sorted(kwargs)}; set "
                             "them on the inner optimizer.")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.name = name or self._default_name
        self.built = False
        self._variables = []
        self.step_counter = self._new_variable(0, "step_counter", "int64")
        self.dynamic_scale = self._new_variable(self.initial_scale, "dynamic_scale", "float32")

    def build(self, variables):
        if self.built:
            return
        self.inner_optimizer.build(variables)
        self.built = True

    @property
    def variables(self):
        return self.inner_optimizer.variables + list(self._variables)

    @property
    def _trainable_variables(self):
        return self.inner_optimizer._trainable_variables

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    def __getattr__(self, name):
        # read-only hyperparameters of the inner optimizer (gradient_accumulation_steps, ...)
        if name in _DELEGATED:
            return getattr(self.inner_optimizer, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _get_variable_index(self, variable):
        return self.inner_optimizer._get_variable_index(variable)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        self.inner_optimizer.exclude_from_weight_decay(var_list=var_list, var_names=var_names)

    def scale_loss(self, loss):
        loss = ops.convert_to_tensor(loss)
        return ops.multiply(loss, ops.cast(self.dynamic_scale.value, ops.dtype(loss)))

    def _apply(self, grads, variables):
        scale = self.dynamic_scale.value
        finite = None
        for g in grads:
            ok = ops.all(ops.isfinite(g))
            finite = ok if finite is None else ops.logical_and(finite, ok)
        unscaled = [ops.cast(ops.divide(ops.cast(g, "float32"), scale), g.dtype) for g in grads]
        inner = self.inner_optimizer
        self._gated(finite, lambda: inner._apply(unscaled, variables),
                    inner.variables + list(variables))
        counter = self.step_counter.value
        grow = ops.logical_and(finite, ops.greater_equal(counter, self.dynamic_growth_steps - 1))
        new_scale = ops.where(finite, ops.where(grow, ops.multiply(scale, 2.0), scale),
                              ops.divide(scale, 2.0))
        new_counter = ops.where(ops.logical_and(finite, ops.logical_not(grow)),
                                ops.add(counter, 1), ops.zeros_like(counter))
        self.dynamic_scale.assign(new_scale)
        self.step_counter.assign(new_counter)

    def get_config(self):
        return {"name": self.name, "inner_optimizer": serialization.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        config["inner_optimizer"] = serialization.deserialize(
            config["inner_optimizer"], custom_objects, safe_mode=safe_mode)
        return cls(**config)
