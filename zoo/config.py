"""``zoo.config``: the active backend and the process-wide settings."""
from zoo.backend.common.config import backend, epsilon, floatx, set_floatx, zoo_home  # noqa: F401
