"""OptaxOptimizer: drive zoo training with an optax ``GradientTransformation``.

    opt = zoo.optimizers.OptaxOptimizer(optax.adamw(1e-3))
    opt = zoo.optimizers.OptaxOptimizer(optax.scale_by_adam(), learning_rate=schedule)

The transformation is duck-typed (``init(params)``, ``update(grads, state, params)``; params
and grads are lists in the order of the trainable variables), so zoo imports neither optax
nor jax. Its state pytree (namedtuples, tuples, dicts) is flattened with
``zoo.backend.common.tree`` into zoo Variables: array leaves become non-trainable variables
named ``optax_state_<j>``, anything else is kept as a constant. ``stateless_apply`` rebuilds
the state from values, so the whole step is pure under jax.jit.

Without ``learning_rate`` the transformation's updates are added to the parameters as they
are (``params + updates``, optax's convention: include the learning rate in the
transformation). With ``learning_rate`` (a float, which callbacks may change, or a schedule)
the transformation gives descent directions and the step is ``params - lr * updates``.
Clipping, gradient accumulation and ``loss_scale_factor`` from the base class apply before
the transformation; use optax for weight decay. A ``None`` gradient counts as zeros.
"""
from zoo import ops
from zoo.backend.common import tree
from zoo.optimizers.base import Optimizer
from zoo.saving import serialization


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")


@serialization.register_builtin
class OptaxOptimizer(Optimizer):
    _default_name = "optax"

    def __init__(self, transformation, learning_rate=None, name=None, **kwargs):
        if not (callable(getattr(transformation, "init", None))
                and callable(getattr(transformation, "update", None))):
            raise TypeError("OptaxOptimizer needs an optax.GradientTransformation (an object "
                            f"with init(params) and update(grads, state, params)), got "
                            f"{transformation!r}.")
        if kwargs.get("weight_decay"):
            raise ValueError("OptaxOptimizer: put weight decay in the optax transformation "
                             "(optax.adamw, optax.add_decayed_weights).")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.transformation = transformation

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        state = self.transformation.init([v.value for v in self._trainable_variables])
        leaves, self._state_def = tree.flatten(state)
        self._state_slots = []  # a Variable for an array leaf, else the constant itself
        for leaf in leaves:
            if _is_array(leaf):
                slot = self._new_variable(leaf, f"optax_state_{len(self._state_slots)}",
                                          ops.dtype(leaf), tuple(leaf.shape))
            else:
                slot = _Constant(leaf)
            self._state_slots.append(slot)

    def _read_state(self):
        leaves = [s.value for s in self._state_slots]
        return tree.unflatten(self._state_def, leaves)

    def _write_state(self, state):
        leaves, treedef = tree.flatten(state)
        if treedef != self._state_def:
            raise ValueError("OptaxOptimizer: the transformation's update returned a state of "
                             "another structure than its init.")
        for slot, leaf in zip(self._state_slots, leaves):
            if not isinstance(slot, _Constant):
                slot.assign(leaf)

    def _update_variables(self, grads, variables, learning_rate):
        params = self._trainable_variables
        given = {id(v): g for g, v in zip(grads, variables)}
        values = [v.value for v in params]
        full = [given[id(v)] if id(v) in given else ops.zeros_like(x)
                for v, x in zip(params, values)]
        updates, new_state = self.transformation.update(full, self._read_state(), values)
        self._write_state(new_state)
        for v, x, u in zip(params, values, updates):
            if learning_rate is not None:
                u = ops.multiply(u, ops.negative(ops.cast(learning_rate, ops.dtype(u))))
            v.assign(ops.add(x, ops.cast(u, v.dtype)))

    def get_config(self):
        return {**super().get_config(), "transformation": repr(self.transformation)}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        raise ValueError("An OptaxOptimizer cannot be rebuilt from its config (an optax "
                         "transformation is code): create OptaxOptimizer(transformation) again.")


class _Constant:
    """A non-array leaf of the optax state, carried through unchanged."""

    def __init__(self, value):
        self.value = value
