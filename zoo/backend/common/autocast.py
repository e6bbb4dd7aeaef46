"""AutocastScope: while a mixed-precision layer runs, float variables read as its compute dtype."""
from zoo.backend.common import global_state


class AutocastScope(global_state.Scope):
    _scope_name = "autocast_scope"

    def __init__(self, dtype):
        self.dtype = dtype


def get_autocast_scope():
    return global_state.get("autocast_scope")
