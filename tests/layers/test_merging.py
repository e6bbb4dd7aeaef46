"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""
import numpy as np
import pytest

import zoo
from zoo import layers

from tests.layers.helpers import assert_close, run_layer_test

A = np.random.RandomState(8).randn(2, 3, 4).astype("float32")
B = np.random.RandomState(9).randn(2, 3, 4).astype("float32")
C = np.random.RandomState(10).randn(2, 3, 4).astype("float32")


@pytest.mark.parametrize("cls,reference", [
    (layers.Add, lambda xs: xs[0] + xs[1] + xs[2]),
    (layers.Multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (layers.Average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
    (layers.Maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (layers.Minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
])
def test_elementwise_merge(cls, reference):
    _, out = run_layer_test(cls, {}, input_data=[A, B, C], expected_output_shape=(2, 3, 4))
    assert_close(out, reference([A, B, C]), atol=1e-5)


def test_subtract():
    _, out = run_layer_test(layers.Subtract, {}, input_data=[A, B],
                            expected_output_shape=(2, 3, 4))
    assert_close(out, A - B)
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([A, B, C])


def test_add_broadcasts_and_rejects_mismatch():
    assert_close(layers.Add()([A, B[:, :1]]), A + B[:, :1])
    with pytest.raises(ValueError, match="broadcast"):
        layers.Add()([A, A[:, :, :3]])
    with pytest.raises(ValueError, match="list of tensors"):
        layers.Add()(A)


@pytest.mark.parametrize("axis,out_shape", [(-1, (2, 3, 12)), (1, (2, 9, 4))])
def test_concatenate(axis, out_shape):
    _, out = run_layer_test(layers.Concatenate, {"axis": axis}, input_data=[A, B, C],
                            expected_output_shape=out_shape)
    assert_close(out, np.concatenate([A, B, C], axis=axis))


def test_concatenate_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        layers.Concatenate(axis=1)([A, A[:, :, :2]])


def test_functional_helpers():
    a, b = zoo.Input((4,)), zoo.Input((4,))
    model = zoo.Model([a, b], layers.concatenate([layers.add([a, b]), layers.subtract([a, b])]))
    x, y = A[:, 0], B[:, 0]
    assert_close(model([x, y]), np.concatenate([x + y, x - y], axis=-1))
