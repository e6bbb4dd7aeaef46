"""StatelessScope: read variables from a mapping and collect assignments instead of applying them.

This is what makes ``Layer.stateless_call`` a pure function: inside the scope,
``variable.value`` returns the value the caller passed in and ``variable.assign(x)`` records
``x`` in the scope; nothing global is touched, so the call can run under ``jax.jit`` or
``jax.grad``.
"""
from zoo.backend.common import global_state


class StatelessScope(global_state.Scope):
    _scope_name = "stateless_scope"

    def __init__(self, state_mapping=(), collect_updates=True):
        self._values = {}
        for variable, value in state_mapping:
            self._values[id(variable)] = value
        self._updates = {}
        self._variables = {}
        self.collect_updates = collect_updates

    def get_current_value(self, variable):
        key = id(variable)
        if key in self._updates:
            return self._updates[key]
        return self._values.get(key)

    def add_update(self, variable, value):
        self._updates[id(variable)] = value
        self._variables[id(variable)] = variable

    def updated_value(self, variable, default):
        return self._updates.get(id(variable), default)


def get_stateless_scope():
    return global_state.get("stateless_scope")


def in_stateless_scope():
    return global_state.get("stateless_scope") is not None
