"""Image ops for the numpy backend (4D images; conventions in zoo.ops.image.resize)."""
import numpy as np


def _nearest_indices(in_size, out_size):
    src = np.floor((np.arange(out_size) + 0.5) * (in_size / out_size)).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _linear_weights(in_size, out_size, antialias):
    """(out_size, in_size) matrix of the triangle filter with half-pixel centers.

    The filter is widened by the scale factor when antialiasing a downscale; weights are
    normalized per output pixel, which at the borders is the same as clamping.
    """
    scale = in_size / out_size
    width = max(scale, 1.0) if antialias else 1.0
    centers = (np.arange(out_size) + 0.5) * scale - 0.5
    distance = np.abs(centers[:, None] - np.arange(in_size)[None, :]) / width
    weights = np.maximum(1.0 - distance, 0.0)
    return weights / np.sum(weights, axis=1, keepdims=True)


def resize(images, size, interpolation, antialias, data_format):
    x = images if data_format == "channels_last" else np.moveaxis(images, 1, -1)
    h, w = x.shape[1:3]
    if interpolation == "nearest":
        out = x[:, _nearest_indices(h, size[0])][:, :, _nearest_indices(w, size[1])]
    else:
        wh = _linear_weights(h, size[0], antialias)
        ww = _linear_weights(w, size[1], antialias)
        out = np.einsum("oh,bhwc,pw->bopc", wh, x.astype(np.float64), ww).astype(x.dtype)
    return out if data_format == "channels_last" else np.moveaxis(out, -1, 1)
