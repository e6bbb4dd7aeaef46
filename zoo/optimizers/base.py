"""Optimizer base: state as zoo Variables, one update rule for stateful and stateless use.

A subclass writes ``build(variables)`` (creating its slots with
``add_variable_from_reference``) and ``update_step(gradient, variable, learning_rate)``,
which reads ``.value`` and calls ``.assign`` in zoo.ops. The same code then serves:

* ``apply(grads, variables)`` / ``apply_gradients(zip(grads, variables))``: in place
  (torch eager, tf / tf.function, numpy);
* ``stateless_apply(optimizer_values, grads, trainable_values)``: the update run inside a
  ``StatelessScope``, a pure function for jax.jit / jax.grad. Steps that may not happen
  (gradient accumulation, loss-scale skipping) go through ``_gated``, an ``ops.cond``.

The update count used for bias correction and schedules is ``iterations //
gradient_accumulation_steps`` (``iterations`` counts ``apply`` calls), so N accumulated
micro-steps equal one step with the mean gradient for every optimizer.
"""
import contextlib
import re

from zoo import backend, ops
from zoo.backend.common.stateless_scope import StatelessScope, get_stateless_scope
from zoo.backend.common.variables import Variable as BaseVariable
from zoo.optimizers import clipping, schedules
from zoo.saving import serialization


class Optimizer:
    _default_name = "optimizer"

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, gradient_accumulation_steps=None, loss_scale_factor=None,
                 name=None, use_ema=False):
        if use_ema:
            raise NotImplementedError("zoo optimizers do not implement use_ema.")
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Set at most one of clipnorm, clipvalue and global_clipnorm.")
        if gradient_accumulation_steps is not None and (
                int(gradient_accumulation_steps) != gradient_accumulation_steps
                or gradient_accumulation_steps < 1):
            raise ValueError("gradient_accumulation_steps must be a positive integer, got "
                             f"{gradient_accumulation_steps!r}.")
        self.name = name or self._default_name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        steps = gradient_accumulation_steps
        self.gradient_accumulation_steps = int(steps) if steps and steps > 1 else None
        self.loss_scale_factor = loss_scale_factor
        self.built = False
        self._variables, self._trainable_variables, self._index = [], [], {}
        self._exclude_ids, self._exclude_names = set(), []
        self._iterations = self._new_variable(0, "iterations", "int64")
        self._learning_rate = None
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        elif learning_rate is not None:
            self._learning_rate = self._new_variable(float(learning_rate), "learning_rate",
                                                     "float32")

    # -- state ------------------------------------------------------------------------
    def _new_variable(self, initializer, name, dtype, shape=None):
        variable = backend.Variable(initializer, shape=shape, dtype=dtype, trainable=False,
                                    name=name)
        variable.path = f"{self.name}/{name}"
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference, slot, shape=None, dtype=None):
        """A zeros variable for ``reference``'s ``slot`` (its shape and dtype by default),
        named ``<slot>_<index of reference>``."""
        index = self._get_variable_index(reference)
        shape = reference.shape if shape is None else tuple(shape)
        # a sharded variable's slots are sharded like it (zoo.distribution)
        scope = reference._distribution.scope() if reference._distribution is not None \
            else contextlib.nullcontext()
        with scope:
            variable = self._new_variable(lambda shape, dtype: ops.zeros(shape, dtype=dtype),
                                          f"{slot}_{index}", dtype or reference.dtype, shape)
        variable._layout_reference = reference
        return variable

    def build(self, variables):
        """Record the trainable variables (their order defines ``stateless_apply``'s) and
        create the optimizer's state. Subclasses call ``super().build`` first."""
        if self.built:
            return
        self._trainable_variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self._accumulators = []
        self.built = True
        if self.gradient_accumulation_steps:
            self._accumulators = [self.add_variable_from_reference(v, "gradient_accumulator")
                                  for v in self._trainable_variables]

    def _get_variable_index(self, variable):
        try:
            return self._index[id(variable)]
        except KeyError:
            raise ValueError(f"{self.name}: unknown variable {variable!r}; the optimizer was "
                             "built for other variables.") from None

    @property
    def variables(self):
        return list(self._variables)

    @property
    def iterations(self):
        return self._iterations

    @property
    def learning_rate(self):
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        is_schedule = isinstance(value, schedules.LearningRateSchedule) or callable(value)
        if isinstance(self._learning_rate, BaseVariable):
            if is_schedule:
                raise TypeError(f"{self.name} was created with a float learning rate; it "
                                "cannot switch to a schedule.")
            self._learning_rate.assign(ops.cast(value, "float32"))
        elif not is_schedule:
            raise TypeError(f"{self.name} was created with a learning-rate schedule; it "
                            "cannot switch to a fixed value.")
        else:
            self._learning_rate = value

    def _update_count(self):
        """The 0-based index of the update being applied (iterations // accumulation)."""
        step = self._iterations.value
        if self.gradient_accumulation_steps:
            step = ops.floor_divide(step, self.gradient_accumulation_steps)
        return step

    def _current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, BaseVariable):
            return lr.value
        if isinstance(lr, schedules.LearningRateSchedule):
            return ops.cast(lr(self._update_count()), "float32")
        if callable(lr):
            return ops.cast(lr(), "float32")
        return None

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Skip weight decay for these variables, or for any whose path matches one of the
        ``var_names`` (substrings or regular expressions, e.g. ``"bias"``, ``"layer_norm"``)."""
        self._exclude_ids.update(id(v) for v in var_list or ())
        self._exclude_names.extend(var_names or ())

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        path = getattr(variable, "path", variable.name)
        return not any(name in path or re.search(name, path) for name in self._exclude_names)

    # -- applying gradients -------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*list(grads_and_vars))
        self.apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` (default: those the optimizer was built for) in
        place from ``grads`` (a ``None`` gradient leaves its variable alone)."""
        grads, variables = self._prepare(grads, trainable_variables)
        if variables:
            self._apply(grads, variables)

    def _prepare(self, grads, trainable_variables):
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{self.name}: pass trainable_variables or call build() first.")
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            self.build(variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(variables)} "
                             "variables.")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        for _, v in pairs:
            self._get_variable_index(v)
        core = backend.core
        return ([g if core.is_tensor(g) and core.dtype_of(g) == v.dtype else ops.cast(g, v.dtype)
                 for g, v in pairs], [v for _, v in pairs])

    def _apply(self, grads, variables):
        if self.loss_scale_factor is not None:
            grads = [ops.divide(g, self.loss_scale_factor) for g in grads]
        steps = self.gradient_accumulation_steps
        if steps:
            is_update = ops.equal(ops.mod(ops.add(self._iterations.value, 1), steps), 0)
            accumulators = [self._accumulators[self._get_variable_index(v)] for v in variables]
            sums = [ops.add(a.value, g) for a, g in zip(accumulators, grads)]
            for a, s in zip(accumulators, sums):
                a.assign(ops.where(is_update, ops.zeros_like(s), s))
            means = [ops.divide(s, float(steps)) for s in sums]
            self._gated(is_update, lambda: self._update(means, variables),
                        [v for v in self._variables if v not in accumulators] + variables)
        else:
            self._update(grads, variables)
        self._iterations.assign(ops.add(self._iterations.value, 1))

    def _update(self, grads, variables):
        grads = self._clip_gradients(grads)
        lr = self._current_learning_rate()
        self._apply_weight_decay(variables, lr)
        self._update_variables(grads, variables, lr)

    def _multi_tensor_ok(self, variables):
        """True when the backend can update all variables at once (torch eager, stateful,
        one float32 dtype): see zoo/backend/torch/optimizers.py."""
        if not backend.optimizers.SUPPORTS_MULTI_TENSOR or get_stateless_scope() is not None:
            return False
        return all(v.dtype == "float32" for v in variables)

    def _host_scalars(self, learning_rate):
        """(learning rate, 1-based update count) as Python numbers, for multi-tensor paths."""
        lr = float(ops.convert_to_numpy(learning_rate))
        return lr, int(ops.convert_to_numpy(self._update_count())) + 1

    def _update_variables(self, grads, variables, learning_rate):
        for g, v in zip(grads, variables):
            self.update_step(g, v, ops.cast(learning_rate, v.dtype))

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    def _apply_weight_decay(self, variables, learning_rate):
        if not self.weight_decay:
            return
        for v in variables:
            if self._use_weight_decay(v):
                rate = ops.cast(ops.multiply(learning_rate, self.weight_decay), v.dtype)
                v.assign(ops.subtract(v.value, ops.multiply(v.value, rate)))

    def _clip_gradients(self, grads):
        return clipping.clip_gradients(grads, self.clipnorm, self.global_clipnorm,
                                       self.clipvalue)

    def _gated(self, pred, fn, candidates):
        """Run ``fn`` (which assigns variables among ``candidates``) only where ``pred``
        holds, as an ``ops.cond`` over values so it traces under jit / tf.function."""
        candidates = list({id(v): v for v in candidates}.values())
        old = [ops.cast(v.value, v.dtype) for v in candidates]
        ids = {id(v) for v in candidates}
        # everything else fn might read keeps its current (possibly stateless) value
        others = [(v, v.value) for v in self.variables + list(self._trainable_variables)
                  if id(v) not in ids]
        touched = []

        def run():
            with StatelessScope(list(zip(candidates, old)) + others) as scope:
                fn()
            touched[:] = [i for i, v in enumerate(candidates)
                          if scope.updated_value(v, None) is not None]
            return [scope.updated_value(v, x) for v, x in zip(candidates, old)]

        new = ops.cond(pred, run, lambda: list(old))
        for i in touched:
            candidates[i].assign(new[i])

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Pure update: ``(new_trainable_values, new_optimizer_values)`` from values given in
        the order of ``optimizer.variables`` and of the variables the optimizer was built for."""
        if not self.built:
            raise ValueError(f"{self.name}: call optimizer.build(trainable_variables) before "
                             "stateless_apply.")
        own, params = self.variables, self._trainable_variables
        optimizer_variables, trainable_variables = list(optimizer_variables), list(trainable_variables)
        if len(optimizer_variables) != len(own) or len(trainable_variables) != len(params):
            raise ValueError(
                f"{self.name}.stateless_apply: expected {len(own)} optimizer and {len(params)} "
                f"trainable values, got {len(optimizer_variables)} and {len(trainable_variables)}.")
        mapping = list(zip(own, optimizer_variables)) + list(zip(params, trainable_variables))
        with StatelessScope(mapping) as scope:
            self.apply(grads)
        return ([scope.updated_value(v, x) for v, x in zip(params, trainable_variables)],
                [scope.updated_value(v, x) for v, x in zip(own, optimizer_variables)])

    def scale_loss(self, loss):
        if self.loss_scale_factor is None:
            return loss
        return ops.multiply(loss, self.loss_scale_factor)

    def stateless_scale_loss(self, optimizer_variables, loss):
        """``scale_loss`` reading the scale from values (for a jitted JAX train step)."""
        with StatelessScope(list(zip(self.variables, optimizer_variables))):
            return self.scale_loss(loss)

    # -- config ---------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, BaseVariable):
            lr = float(ops.convert_to_numpy(lr.value))
        elif lr is not None:
            lr = serialization.serialize(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue,
                "gradient_accumulation_steps": self.gradient_accumulation_steps,
                "loss_scale_factor": self.loss_scale_factor}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = serialization.deserialize(
                config["learning_rate"], custom_objects, safe_mode=safe_mode)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

