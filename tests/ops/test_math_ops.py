"""math and signal ops against NumPy references (the STFT also against a direct DFT)."""
import math

import numpy as np
import pytest

import zoo
from zoo import ops

from tests.ops.parity import check_op

BACKEND = zoo.config.backend()


def _randn(*shape):
    return np.random.randn(*shape).astype("float32")


def test_erf_and_erfinv():
    x = np.array([-2.0, -0.5, 0.0, 0.3, 1.7], "float32")
    check_op("erf", np.vectorize(math.erf), x)
    y = np.array([-0.9, -0.2, 0.1, 0.6], "float32")
    inverse = np.vectorize(lambda v: _erfinv(v))
    check_op("erfinv", inverse, y, atol=1e-4, grad_atol=1e-2)
    assert ops.dtype(ops.erf(np.array([1, 2], "int32"))) == "float32"


def _erfinv(y):
    z = 0.0
    for _ in range(100):  # Newton on erf(z) = y
        z -= (math.erf(z) - y) / (2 / math.sqrt(math.pi) * math.exp(-z * z))
    return z


def test_top_k():
    x = np.array([[3.0, 1.0, 4.0, 1.5, 5.0], [9.0, 2.0, 6.0, 5.5, 3.5]], "float32")

    def ref(x, k, sorted=True):
        order = np.argsort(-x, axis=-1)[..., :k]
        return np.take_along_axis(x, order, -1), order.astype("int32")

    values, indices = check_op("top_k", ref, x, kwargs={"k": 3})
    assert ops.dtype(indices) == "int32"
    check_op("top_k", ref, np.array([[4, 9, 1, 7]], "int32"), kwargs={"k": 2})


@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}])
def test_logsumexp(kwargs):
    def ref(x, axis=None, keepdims=False):
        m = np.max(x, axis=axis, keepdims=True)
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        return out if keepdims else np.squeeze(out, axis=axis)

    check_op("logsumexp", ref, _randn(2, 3, 4) * 3, kwargs=kwargs)


def test_segment_sum():
    data = _randn(5, 3)
    ids = np.array([0, 2, 0, -1, 1], "int32")

    def ref(data, segment_ids, num_segments=None, sorted=False):
        out = np.zeros((num_segments or segment_ids.max() + 1,) + data.shape[1:])
        for row, i in zip(data, segment_ids):
            if 0 <= i < out.shape[0]:
                out[i] += row
        return out

    check_op("segment_sum", ref, data, ids, kwargs={"num_segments": 3})
    check_op("segment_sum", ref, data, ids, kwargs={"num_segments": 2}, symbolic=False)


def test_extract_sequences():
    def ref(x, sequence_length, sequence_stride):
        n = (x.shape[-1] - sequence_length) // sequence_stride + 1
        return np.stack([x[..., i * sequence_stride:i * sequence_stride + sequence_length]
                         for i in range(n)], axis=-2)

    check_op("extract_sequences", ref, _randn(2, 11), kwargs={"sequence_length": 4,
                                                              "sequence_stride": 3})


def test_fft():
    real, imag = _randn(2, 8), _randn(2, 8)

    def ref(x):
        z = np.fft.fft(x[0] + 1j * x[1])
        return z.real, z.imag

    check_op("fft", ref, (real, imag), atol=1e-4)


@pytest.mark.parametrize("fft_length", [None, 6, 12])
def test_rfft_irfft(fft_length):
    x = _randn(3, 8)

    def ref(x, fft_length=None):
        z = np.fft.rfft(x, n=fft_length)
        return z.real, z.imag

    real, imag = check_op("rfft", ref, x, kwargs={"fft_length": fft_length}, atol=1e-4)
    n = 8 if fft_length is None else fft_length
    want = np.fft.irfft(np.fft.rfft(x, n=n), n=n)
    back = ops.irfft((real, imag), fft_length=n)
    np.testing.assert_allclose(ops.convert_to_numpy(back), want, atol=1e-5)
    assert ops.dtype(back) == "float32"


def test_irfft_parity():
    real, imag = _randn(2, 5), _randn(2, 5)

    def ref(x, fft_length=None):
        return np.fft.irfft(x[0] + 1j * x[1], n=fft_length)

    check_op("irfft", ref, (real, imag), atol=1e-5)
    check_op("irfft", ref, (real, imag), kwargs={"fft_length": 9}, atol=1e-5)


def _stft_ref(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """A direct DFT of each frame (torch.stft semantics, frames first)."""
    x = np.asarray(x, np.float64)
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = np.pad(x, pad, mode="reflect")
    if window == "hann":
        n = np.arange(sequence_length)
        win = 0.5 - 0.5 * np.cos(2 * np.pi * n / sequence_length)
    elif window is None:
        win = np.ones(sequence_length) if sequence_length == fft_length else None
    else:
        win = np.asarray(window, np.float64)
    full = np.ones(fft_length)
    if win is not None:
        left = (fft_length - sequence_length) // 2
        full = np.zeros(fft_length)
        full[left:left + sequence_length] = win
    frames = (x.shape[-1] - fft_length) // sequence_stride + 1
    k = np.arange(fft_length // 2 + 1)
    basis = np.exp(-2j * np.pi * np.outer(np.arange(fft_length), k) / fft_length)
    out = np.stack([(x[..., f * sequence_stride:f * sequence_stride + fft_length] * full) @ basis
                    for f in range(frames)], axis=-2)
    return out.real, out.imag


@pytest.mark.parametrize("args,kwargs", [
    ((16, 4, 16), {}),
    ((12, 5, 16), {}),  # window shorter than the FFT: zero-padded, centered
    ((8, 3, 8), {"center": False}),
    ((8, 4, 8), {"window": None}),
])
def test_stft(args, kwargs):
    x = _randn(2, 37)
    real, imag = _stft_ref(x, *args, **kwargs)
    got = ops.stft(x, *args, **kwargs)
    np.testing.assert_allclose(ops.convert_to_numpy(got[0]), real, atol=2e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(got[1]), imag, atol=2e-5)
    assert ops.dtype(got[0]) == "float32"
    sym = ops.stft.shape_rule(zoo.backend.SymbolicTensor((None, 37)), *args, **kwargs)
    assert sym[0].shape == (None,) + real.shape[1:]


def test_stft_parity_and_gradient():
    x = _randn(1, 20)
    check_op("stft", _stft_ref, x, kwargs={"sequence_length": 8, "sequence_stride": 4,
                                          "fft_length": 8}, atol=2e-5)


def test_stft_matches_torch_stft():
    if BACKEND != "torch":
        pytest.skip("torch.stft reference")
    import torch

    x = _randn(2, 400)
    want = torch.stft(torch.tensor(x), n_fft=64, hop_length=16, win_length=48,
                      window=torch.hann_window(48), center=True, pad_mode="reflect",
                      return_complex=True).transpose(-1, -2)
    real, imag = ops.stft(x, 48, 16, 64)
    np.testing.assert_allclose(ops.convert_to_numpy(real), want.real.numpy(), atol=1e-4)
    np.testing.assert_allclose(ops.convert_to_numpy(imag), want.imag.numpy(), atol=1e-4)
