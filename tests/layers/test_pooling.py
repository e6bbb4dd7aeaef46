"""Pooling layers against NumPy references."""
import numpy as np
import pytest

from zoo import layers

from tests.layers.helpers import assert_close, run_layer_test

IMAGES = np.random.RandomState(4).randn(2, 5, 6, 3).astype("float32")
SEQ = np.random.RandomState(5).randn(2, 7, 3).astype("float32")


def pool_ref(x, pool, strides, padding, reduce):
    """Channels-last pooling; "same" windows see only in-bounds elements."""
    spatial = x.shape[1:-1]
    if padding == "same":
        out = [-(-s // st) for s, st in zip(spatial, strides)]
        total = [max((o - 1) * st + p - s, 0) for o, st, p, s in zip(out, strides, pool, spatial)]
        before = [t // 2 for t in total]
    else:
        out = [(s - p) // st + 1 for s, p, st in zip(spatial, pool, strides)]
        before = [0] * len(spatial)
    y = np.zeros((x.shape[0], *out, x.shape[-1]), dtype=np.float64)
    for idx in np.ndindex(*out):
        window = tuple(slice(max(i * st - b, 0), min(i * st - b + p, s))
                       for i, st, b, p, s in zip(idx, strides, before, pool, spatial))
        patch = x[(slice(None),) + window]
        axes = tuple(range(1, 1 + len(spatial)))
        y[(slice(None),) + idx] = reduce(patch, axis=axes)
    return y


@pytest.mark.parametrize("cls,reduce", [(layers.MaxPooling2D, np.max),
                                        (layers.AveragePooling2D, np.mean)])
@pytest.mark.parametrize("kwargs,out_shape", [
    ({}, (2, 2, 3, 3)),
    ({"pool_size": 3, "strides": 1}, (2, 3, 4, 3)),
    ({"pool_size": (2, 3), "padding": "same"}, (2, 3, 2, 3)),
    ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 3, 3, 3)),
])
def test_pooling_2d(cls, reduce, kwargs, out_shape):
    layer, out = run_layer_test(cls, kwargs, input_data=IMAGES, expected_output_shape=out_shape)
    want = pool_ref(IMAGES, layer.pool_size, layer.strides, layer.padding, reduce)
    assert_close(out, want, atol=1e-5)


@pytest.mark.parametrize("cls,reduce", [(layers.MaxPooling1D, np.max),
                                        (layers.AveragePooling1D, np.mean)])
def test_pooling_1d(cls, reduce):
    layer, out = run_layer_test(cls, {"pool_size": 3, "strides": 2, "padding": "same"},
                                input_data=SEQ, expected_output_shape=(2, 4, 3))
    assert_close(out, pool_ref(SEQ, (3,), (2,), "same", reduce), atol=1e-5)
    _, out = run_layer_test(cls, {}, input_data=SEQ, expected_output_shape=(2, 3, 3))
    assert_close(out, pool_ref(SEQ, (2,), (2,), "valid", reduce), atol=1e-5)


@pytest.mark.parametrize("cls,reduce,data,axes", [
    (layers.GlobalAveragePooling1D, np.mean, SEQ, (1,)),
    (layers.GlobalMaxPooling1D, np.max, SEQ, (1,)),
    (layers.GlobalAveragePooling2D, np.mean, IMAGES, (1, 2)),
    (layers.GlobalMaxPooling2D, np.max, IMAGES, (1, 2)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls, reduce, data, axes, keepdims):
    want = reduce(data, axis=axes, keepdims=keepdims)
    _, out = run_layer_test(cls, {"keepdims": keepdims}, input_data=data,
                            expected_output_shape=want.shape)
    assert_close(out, want, atol=1e-5)


def test_pooling_config_and_errors():
    layer = layers.MaxPooling2D(pool_size=3)
    assert layer.get_config()["strides"] == [3, 3]
    with pytest.raises(ValueError, match="rank 4"):
        layers.GlobalAveragePooling2D()(SEQ)
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPooling2D(padding="full")
