"""resize against per-pixel NumPy references of the documented conventions."""
import numpy as np
import pytest

import zoo
from zoo import ops

from tests.ops.parity import check_op

BACKEND = zoo.config.backend()


def _bilinear_1d(in_size, out_size):
    """(out, in) weights: half-pixel centers, source clamped to the image (torch's rule)."""
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        src = max((i + 0.5) * in_size / out_size - 0.5, 0.0)
        lo = min(int(np.floor(src)), in_size - 1)
        hi = min(lo + 1, in_size - 1)
        frac = src - lo if lo < in_size - 1 else 0.0
        w[i, lo] += 1 - frac
        w[i, hi] += frac
    return w


def _antialias_1d(in_size, out_size):
    """(out, in) weights of the triangle filter widened by the downscale factor."""
    scale = in_size / out_size
    width = max(scale, 1.0)
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = (i + 0.5) * scale - 0.5
        for j in range(in_size):
            w[i, j] = max(0.0, 1 - abs(center - j) / width)
        w[i] /= w[i].sum()
    return w


def _resize_ref(images, size, interpolation="bilinear", antialias=False,
                data_format="channels_last"):
    x = np.asarray(images)
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    h, w = x.shape[1:3]
    if interpolation == "nearest":
        rows = [min(int(np.floor((i + 0.5) * h / size[0])), h - 1) for i in range(size[0])]
        cols = [min(int(np.floor((j + 0.5) * w / size[1])), w - 1) for j in range(size[1])]
        out = x[:, rows][:, :, cols]
    else:
        make = _antialias_1d if antialias else _bilinear_1d
        out = np.einsum("oh,bhwc,pw->bopc", make(h, size[0]), x.astype(np.float64),
                        make(w, size[1]))
    if data_format == "channels_first":
        out = np.moveaxis(out, -1, 1)
    return out[0] if squeeze else out


@pytest.mark.parametrize("shape,size", [
    ((1, 3, 4, 2), (6, 8)),   # x2 upsampling
    ((1, 4, 4, 1), (3, 5)),   # down in height, up in width
    ((2, 5, 7, 1), (2, 3)),   # non-integer downscale
])
def test_resize_bilinear(shape, size):
    x = np.random.randn(*shape).astype("float32")
    check_op("resize", _resize_ref, x, kwargs={"size": size}, gradient=x.size <= 24)


def test_resize_bilinear_3d_and_channels_first():
    x = np.random.randn(3, 4, 2).astype("float32")
    check_op("resize", _resize_ref, x, kwargs={"size": (5, 7)})
    y = np.random.randn(1, 2, 3, 4).astype("float32")
    check_op("resize", _resize_ref, y, kwargs={"size": (6, 5), "data_format": "channels_first"})


@pytest.mark.parametrize("shape,size", [((1, 3, 4, 2), (6, 8)), ((1, 6, 6, 1), (4, 3)),
                                        ((5, 4, 3), (10, 8))])
def test_resize_nearest(shape, size):
    x = np.random.randn(*shape).astype("float32")
    check_op("resize", _resize_ref, x, kwargs={"size": size, "interpolation": "nearest"})


def test_resize_nearest_x2_is_repeat_and_keeps_uint8():
    x = np.random.randint(0, 255, (1, 3, 4, 2)).astype("uint8")
    out = ops.resize(x, (6, 8), interpolation="nearest")
    assert ops.dtype(out) == "uint8"
    np.testing.assert_array_equal(ops.convert_to_numpy(out), x.repeat(2, 1).repeat(2, 2))


def test_resize_bilinear_int_input_gives_float32():
    x = np.arange(16, dtype="int32").reshape(1, 4, 4, 1)
    out = ops.resize(x, (2, 2))
    assert ops.dtype(out) == "float32"
    np.testing.assert_allclose(ops.convert_to_numpy(out), _resize_ref(x, (2, 2)), atol=1e-5)


def test_resize_antialias_downscale():
    x = np.random.randn(1, 9, 8, 2).astype("float32")
    out = ops.resize(x, (3, 3), antialias=True)
    np.testing.assert_allclose(ops.convert_to_numpy(out),
                               _resize_ref(x, (3, 3), antialias=True), atol=1e-4)
    up = ops.resize(x, (12, 10), antialias=True)  # antialias changes nothing when upscaling
    np.testing.assert_allclose(ops.convert_to_numpy(up), _resize_ref(x, (12, 10)), atol=1e-5)


def test_resize_matches_torch_interpolate():
    if BACKEND != "torch":
        pytest.skip("torch reference")
    import torch
    import torch.nn.functional as F

    x = np.random.randn(2, 5, 6, 3).astype("float32")
    t = torch.tensor(x).permute(0, 3, 1, 2)
    for size in [(10, 12), (3, 4), (7, 9)]:
        want = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
        got = ops.convert_to_numpy(ops.resize(x, size))
        np.testing.assert_allclose(got, want.permute(0, 2, 3, 1).numpy(), atol=1e-5)
    want = F.interpolate(t, scale_factor=2, mode="nearest").permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.resize(x, (10, 12), "nearest")), want)
