"""``zoo.config``: the active backend and the process-wide settings."""
from zoo.backend.common.acceleration import (  # noqa: F401
    TorchAcceleration,
    set_torch_acceleration,
    torch_acceleration,
)
from zoo.backend.common.config import backend, epsilon, floatx, set_floatx, zoo_home  # noqa: F401
from zoo.layers.dtype_policy import global_policy as dtype_policy  # noqa: F401
from zoo.layers.dtype_policy import set_dtype_policy  # noqa: F401


def set_random_seed(seed):
    """Seed every source of randomness zoo uses (initializers, zoo.random, NumPy, Python)."""
    import random

    import numpy as np

    from zoo.layers import initializers

    random.seed(seed)
    np.random.seed(seed)
    initializers.reseed(seed)
    try:
        from zoo.random import set_random_seed as _seed_ops
    except ImportError:
        return
    _seed_ops(seed)
