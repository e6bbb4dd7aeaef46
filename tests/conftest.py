import os

import numpy as np
import pytest

import zoo

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
