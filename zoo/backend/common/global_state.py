"""Thread-local scopes shared by the engine (stateless scope, autocast, symbolic tracing)."""
import threading

_STATE = threading.local()


def get(name, default=None):
    return getattr(_STATE, name, default)


def set(name, value):  # noqa: A001 - mirrors get()
    setattr(_STATE, name, value)


class Scope:
    """A context manager that installs itself as the global ``name`` and restores the outer one."""

    _scope_name = None

    def __enter__(self):
        self._outer = get(self._scope_name)
        set(self._scope_name, self)
        return self

    def __exit__(self, *exc):
        set(self._scope_name, self._outer)
        return False


# The distribution (zoo.distribution) new variables and fit use: a scope's, else the one
# set for the whole process by set_distribution.
_PROCESS_DISTRIBUTION = [None]


def distribution():
    scoped = get("distribution_scope")
    return scoped if scoped is not None else _PROCESS_DISTRIBUTION[0]


def set_process_distribution(value):
    _PROCESS_DISTRIBUTION[0] = value
