"""Flatten, Reshape, Permute, RepeatVector, UpSampling, ZeroPadding, Cropping."""
import numpy as np
import pytest

import zoo
from zoo import layers

from tests.layers.helpers import assert_close, run_layer_test

IMAGES = np.random.RandomState(6).randn(2, 3, 4, 2).astype("float32")
SEQ = np.random.RandomState(7).randn(2, 5, 3).astype("float32")


def test_flatten():
    _, out = run_layer_test(layers.Flatten, {}, input_data=IMAGES, expected_output_shape=(2, 24))
    assert_close(out, IMAGES.reshape(2, 24))


@pytest.mark.parametrize("target,out_shape", [((4, 6), (2, 4, 6)), ((-1, 3), (2, 8, 3)),
                                              ((24,), (2, 24))])
def test_reshape(target, out_shape):
    _, out = run_layer_test(layers.Reshape, {"target_shape": target}, input_data=IMAGES,
                            expected_output_shape=out_shape)
    assert_close(out, IMAGES.reshape(out_shape))


def test_reshape_errors():
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5, 5))(IMAGES)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


def test_reshape_symbolic_batch_unknown():
    inputs = zoo.Input((3, 4, 2))
    out = layers.Reshape((-1, 2))(inputs)
    assert out.shape == (None, 12, 2)


def test_permute():
    _, out = run_layer_test(layers.Permute, {"dims": (3, 1, 2)}, input_data=IMAGES,
                            expected_output_shape=(2, 2, 3, 4))
    assert_close(out, IMAGES.transpose(0, 3, 1, 2))
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((0, 1))


def test_repeat_vector():
    x = SEQ[:, 0]
    _, out = run_layer_test(layers.RepeatVector, {"n": 4}, input_data=x,
                            expected_output_shape=(2, 4, 3))
    assert_close(out, np.repeat(x[:, None], 4, axis=1))


def test_upsampling():
    _, out = run_layer_test(layers.UpSampling2D, {"size": (2, 3)}, input_data=IMAGES,
                            expected_output_shape=(2, 6, 12, 2))
    assert_close(out, IMAGES.repeat(2, axis=1).repeat(3, axis=2))
    _, out = run_layer_test(layers.UpSampling1D, {"size": 2}, input_data=SEQ,
                            expected_output_shape=(2, 10, 3))
    assert_close(out, SEQ.repeat(2, axis=1))


def _linear_matrix(size_in, size_out):
    """Half-pixel-center linear interpolation weights (size_out, size_in)."""
    m = np.zeros((size_out, size_in))
    for i in range(size_out):
        src = min(max((i + 0.5) * size_in / size_out - 0.5, 0), size_in - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, size_in - 1)
        m[i, lo] += 1 - (src - lo)
        m[i, hi] += src - lo
    return m


def test_upsampling_bilinear():
    _, out = run_layer_test(layers.UpSampling2D, {"interpolation": "bilinear"},
                            input_data=IMAGES, expected_output_shape=(2, 6, 8, 2))
    want = np.einsum("oh,bhwc,pw->bopc", _linear_matrix(3, 6), IMAGES, _linear_matrix(4, 8))
    assert_close(out, want, atol=1e-5)


@pytest.mark.parametrize("padding,pads", [(1, ((1, 1), (1, 1))), ((1, 2), ((1, 1), (2, 2))),
                                          (((0, 1), (2, 3)), ((0, 1), (2, 3)))])
def test_zero_padding_2d(padding, pads):
    want = np.pad(IMAGES, ((0, 0),) + pads + ((0, 0),))
    _, out = run_layer_test(layers.ZeroPadding2D, {"padding": padding}, input_data=IMAGES,
                            expected_output_shape=want.shape)
    assert_close(out, want)


def test_zero_padding_1d():
    _, out = run_layer_test(layers.ZeroPadding1D, {"padding": (2, 1)}, input_data=SEQ,
                            expected_output_shape=(2, 8, 3))
    assert_close(out, np.pad(SEQ, ((0, 0), (2, 1), (0, 0))))
    assert layers.ZeroPadding1D().get_config()["padding"] == [1, 1]


def test_cropping():
    _, out = run_layer_test(layers.Cropping2D, {"cropping": ((1, 0), (1, 2))},
                            input_data=IMAGES, expected_output_shape=(2, 2, 1, 2))
    assert_close(out, IMAGES[:, 1:, 1:2])
    _, out = run_layer_test(layers.Cropping1D, {"cropping": (1, 2)}, input_data=SEQ,
                            expected_output_shape=(2, 2, 3))
    assert_close(out, SEQ[:, 1:3])
