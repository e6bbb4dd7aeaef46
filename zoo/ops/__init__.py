"""``zoo.ops``: backend-neutral ops. Each dispatches to the active backend on tensors and
follows its shape rule on symbolic inputs (see ``operation.py``)."""
from zoo.ops.core import *  # noqa: F401,F403
from zoo.ops.numpy import *  # noqa: F401,F403
