"""zoo: a declarative model zoo on a multi-backend engine (JAX, PyTorch, TensorFlow, NumPy)."""
__version__ = "0.1.0"

from zoo import backend  # noqa: F401  (selects the framework once, from ZOO_BACKEND)
from zoo import config  # noqa: F401
from zoo import ops  # noqa: F401
from zoo import random  # noqa: F401
from zoo import layers  # noqa: F401
from zoo import losses, metrics, optimizers  # noqa: F401
from zoo import saving  # noqa: F401
from zoo.engine import Functional, Model, Sequential  # noqa: F401
from zoo.engine import callbacks  # noqa: F401
from zoo.layers import Input, Layer  # noqa: F401

Variable = backend.Variable
from zoo import models  # noqa: E402,F401
from zoo import hub  # noqa: E402,F401
from zoo import presets  # noqa: E402,F401  (zoo.presets.list())
from zoo.pipelines import pipeline  # noqa: E402,F401
