"""``zoo.ops``: backend-neutral ops. Each dispatches to the active backend on tensors and
follows its shape rule on symbolic inputs (see ``operation.py``).

The public names are exactly the declared ops (``operation.OPS``) plus the conversion
helpers, so module-level imports of the op files (``backend``, ``rules``, ...) don't leak.
"""
from zoo.ops import array, audio, control_flow, core, detection, image, math, nn, numpy  # noqa: F401  (declare the ops)
from zoo.ops.core import convert_to_numpy, convert_to_tensor, dtype, is_tensor, shape  # noqa: F401
from zoo.ops.nn import swish  # noqa: F401
from zoo.ops.array import ndim  # noqa: F401
from zoo.ops.operation import OPS as _OPS

globals().update(_OPS)
__all__ = sorted(set(_OPS) | {"convert_to_numpy", "convert_to_tensor", "dtype", "is_tensor",
                              "shape", "swish", "ndim"})
