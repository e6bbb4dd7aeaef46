import os as _os
from importlib import metadata as _metadata


def _convolutions_off_ynnpack():
    """XLA:CPU (jaxlib 0.10-0.11) hands convolutions to YNNPACK, whose kernels ran YOLOv8n's
    3 x 3 convolutions slower than XLA's own (its 640 px forward: 71 -> 60 ms on a 2-core
    Xeon). Only the convolutions leave it: with all of YNNPACK off, Whisper's batch-8
    encoder products ran 30% slower. XLA reads XLA_FLAGS when jax opens its CPU backend,
    after this import; a ynn setting of the user's own wins, and other jaxlib versions
    (where the flag may mean something else, or abort) are left alone."""
    flag = "--xla_cpu_experimental_ynn_fusion_type"
    flags = _os.environ.get("XLA_FLAGS", "")
    try:
        version = tuple(int(p) for p in _metadata.version("jaxlib").split(".")[:2])
    except (ValueError, _metadata.PackageNotFoundError):
        return
    if flag not in flags and (0, 10) <= version < (0, 12):
        _os.environ["XLA_FLAGS"] = f"{flags} {flag}=-individual_convolution".strip()


_convolutions_off_ynnpack()

import jax as _jax  # noqa: E402

# zoo's dtype set includes int64 (and float64 for references): JAX drops 64-bit types
# unless this flag is on. zoo always passes explicit dtypes, so defaults stay 32-bit.
_jax.config.update("jax_enable_x64", True)
