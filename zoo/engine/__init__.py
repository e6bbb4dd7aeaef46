"""Model, Functional, Sequential (training loop: compile/fit/evaluate/predict)."""
from zoo.engine.functional import Functional  # noqa: F401
from zoo.engine.model import Model  # noqa: F401
from zoo.engine.sequential import Sequential  # noqa: F401
