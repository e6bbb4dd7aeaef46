"""math and signal ops for the numpy backend (inputs already converted by zoo.ops.math)."""
import math

import numpy as np

try:  # scipy ships with jax and tensorflow; plain NumPy falls back to the math module
    from scipy.special import erf as _erf, erfinv as _erfinv
except ImportError:  # pragma: no cover
    _erf, _erfinv = np.vectorize(math.erf), None


def erf(x):
    return np.asarray(_erf(x)).astype(x.dtype, copy=False) if hasattr(x, "dtype") else _erf(x)


def erfinv(x):
    if _erfinv is not None:
        return np.asarray(_erfinv(x)).astype(x.dtype, copy=False)
    y = np.asarray(x, np.float64)  # Newton's method on erf from a rough start
    z = np.sign(y) * np.sqrt(-np.log(np.maximum((1 - y) * (1 + y), 1e-300)))
    for _ in range(40):
        z = z - (_erf(z) - y) / (2 / math.sqrt(math.pi) * np.exp(-z * z))
    return z.astype(x.dtype)


def top_k(x, k, sorted=True):
    order = np.argsort(-x.astype(np.float64) if x.dtype.kind == "f" else -x.astype(np.int64),
                       axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, axis=-1), order.astype(np.int32)


def logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return np.asarray(out).astype(x.dtype, copy=False)


def segment_sum(data, segment_ids, num_segments, sorted=False):
    out = np.zeros((num_segments,) + data.shape[1:], data.dtype)
    valid = (segment_ids >= 0) & (segment_ids < num_segments)
    np.add.at(out, segment_ids[valid], data[valid])
    return out


def extract_sequences(x, sequence_length, sequence_stride):
    frames = np.lib.stride_tricks.sliding_window_view(x, sequence_length, axis=-1)
    return np.ascontiguousarray(frames[..., ::sequence_stride, :])


def _parts(z, dtype):
    return np.real(z).astype(dtype), np.imag(z).astype(dtype)


def fft(real, imag):
    return _parts(np.fft.fft(real + 1j * imag.astype(real.dtype)), real.dtype)


def rfft(x, fft_length):
    return _parts(np.fft.rfft(x, n=fft_length), x.dtype)


def irfft(real, imag, fft_length):
    return np.fft.irfft(real + 1j * imag, n=fft_length).astype(real.dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window, center):
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = np.pad(x, pad, mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    if window is not None:
        left = (fft_length - sequence_length) // 2
        frames = frames * np.pad(window, (left, fft_length - sequence_length - left))
    return rfft(frames, fft_length)
