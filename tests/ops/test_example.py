import numpy as np

from tests.ops.parity import check_op


def test_add_broadcast():
    a = np.random.randn(2, 3).astype("float32")
    b = np.random.randn(3).astype("float32")
    check_op("add", np.add, a, b, expected_dtype="float32")


def test_matmul():
    a = np.random.randn(2, 4, 3).astype("float32")
    b = np.random.randn(3, 5).astype("float32")
    check_op("matmul", np.matmul, a, b)
