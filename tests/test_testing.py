"""tests/testing.py: to_numpy, assert_close and flatten on nested outputs of any backend."""
import numpy as np
import pytest

from tests.testing import assert_close, flatten, to_numpy
from zoo import ops


def test_to_numpy_keeps_the_structure():
    x = {"a": ops.convert_to_tensor(np.ones((2, 3), "float32")),
         "b": [ops.convert_to_tensor(np.arange(3)), (np.zeros(1), 2.5)]}
    got = to_numpy(x)
    assert isinstance(got["a"], np.ndarray) and got["a"].shape == (2, 3)
    assert isinstance(got["b"], list) and isinstance(got["b"][1], tuple)
    assert got["b"][0].tolist() == [0, 1, 2] and float(got["b"][1][1]) == 2.5


def test_assert_close_compares_leaves_within_tolerance():
    want = {"x": np.ones((2, 2), "float32"), "y": [np.zeros(3), np.arange(2.0)]}
    got = {"x": ops.convert_to_tensor(want["x"] + 5e-6), "y": (np.zeros(3), np.arange(2.0))}
    assert_close(got, want)
    with pytest.raises(AssertionError, match=r"\[x\]"):
        assert_close(got, want, atol=1e-7, rtol=0)


@pytest.mark.parametrize("got, match", [
    ({"x": np.ones(2)}, "keys"),
    ({"x": np.ones(2), "y": np.ones(3)}, r"\[y\]: shape"),
    (np.ones(2), "want a dict"),
])
def test_assert_close_names_what_differs(got, match):
    with pytest.raises(AssertionError, match=match):
        assert_close(got, {"x": np.ones(2), "y": np.ones(2)}, msg="outputs")


def test_assert_close_on_sequences():
    assert_close([np.ones(2), (np.zeros(1),)], (np.ones(2), [np.zeros(1)]))
    assert_close(ops.convert_to_tensor(np.eye(2)), [[1, 0], [0, 1]])  # a list as an array
    with pytest.raises(AssertionError, match="length 1 != 2"):
        assert_close([np.ones(2)], [np.ones(2), np.ones(2)])
    with pytest.raises(AssertionError, match=r"\[1\]"):
        assert_close([np.ones(2), np.ones(2)], [np.ones(2), np.zeros(2)])


def test_flatten_names_every_leaf():
    flat = flatten({"boxes": np.zeros((1, 4)), "levels": [np.ones(2), np.ones(3)]})
    assert sorted(flat) == ["boxes", "levels/0", "levels/1"]
    assert list(flatten(ops.convert_to_tensor(np.ones(2)))) == ["output"]
