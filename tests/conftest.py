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


def pytest_collection_modifyitems(config, items):
    """``backend_independent`` tests (tokenizers, the import graph: nothing that reaches
    zoo.ops) run once per suite run: scripts/run_tests.sh names the backend whose pass runs
    them in ZOO_BACKEND_INDEPENDENT_ON. A plain pytest run (variable unset) runs them."""
    chosen = os.environ.get("ZOO_BACKEND_INDEPENDENT_ON", "").strip()
    if not chosen or chosen == BACKEND:
        return
    skip = pytest.mark.skip(reason=f"backend independent: runs in the {chosen} pass")
    for item in items:
        if "backend_independent" in item.keywords:
            item.add_marker(skip)
