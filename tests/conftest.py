import os

import numpy as np
import pytest

# 8 virtual CPU devices for the zoo.distribution tests (read by JAX when it starts; the
# other tests run on the first device as before). TensorFlow's XLA reads XLA_FLAGS too:
# only the JAX run gets it.
if os.environ.get("ZOO_BACKEND", "jax").strip().lower() == "jax" \
        and "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_force_host_platform_device_count=8").strip()

import zoo  # noqa: E402

BACKEND = zoo.config.backend()


def pytest_report_header(config):
    return f"zoo backend: {BACKEND}"


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    yield


def requires_gradients():
    return pytest.mark.skipif(BACKEND == "numpy", reason="the numpy backend has no autodiff")


os.environ.setdefault("ZOO_HOME", os.path.join(os.path.dirname(__file__), ".zoo_home"))
