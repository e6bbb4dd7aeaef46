"""zoo.ops.log_mel_spectrogram (and its Slaney mel filters) against a NumPy reference."""
import numpy as np
import pytest

import zoo
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.ops import audio

from tests.ops.parity import check_op

BACKEND = zoo.config.backend()


def _slaney_mel(hz):
    """The Slaney mel scale written out piecewise, one frequency at a time."""
    if hz < 1000.0:
        return 3.0 * hz / 200.0
    return 15.0 + 27.0 * np.log(hz / 1000.0) / np.log(6.4)


def _slaney_hz(mel):
    if mel < 15.0:
        return 200.0 * mel / 3.0
    return 1000.0 * 6.4 ** ((mel - 15.0) / 27.0)


def _reference_filters(sampling_rate, fft_length, num_mels):
    """Triangles between consecutive mel-spaced edges, each scaled to unit area (Slaney),
    built with loops over filters and bins."""
    top = _slaney_mel(sampling_rate / 2)
    edges = [_slaney_hz(top * i / (num_mels + 1)) for i in range(num_mels + 2)]
    bins = [k * sampling_rate / fft_length for k in range(fft_length // 2 + 1)]
    out = np.zeros((num_mels, len(bins)))
    for m in range(num_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        for k, f in enumerate(bins):
            rise, fall = (f - lo) / (mid - lo), (hi - f) / (hi - mid)
            out[m, k] = max(0.0, min(rise, fall)) * 2.0 / (hi - lo)
    return out


def _reference_log_mel(x, num_mels=80, sampling_rate=16000, fft_length=400, hop_length=160,
                       dynamic_range=8.0):
    """Float64: reflect pad, periodic Hann frames, |rfft|^2 without the last frame, mel,
    log10 with the per-example floor, (x + 4) / 4 -> (..., frames, mels)."""
    x = np.asarray(x, np.float64)
    pad = fft_length // 2
    x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    n = np.arange(fft_length)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / fft_length)
    count = (x.shape[-1] - fft_length) // hop_length + 1
    frames = np.stack([x[..., i * hop_length:i * hop_length + fft_length] * window
                       for i in range(count - 1)], axis=-2)
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2
    mel = power @ _reference_filters(sampling_rate, fft_length, num_mels).T
    log = np.log10(np.maximum(mel, 1e-10))
    peak = log.max(axis=(-2, -1), keepdims=True)
    return (np.maximum(log, peak - dynamic_range) + 4.0) / 4.0


def _waves(*shape, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1]) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3100 * t)
    return (tone + 0.05 * rng.standard_normal(shape)).astype(np.float32)


@pytest.mark.parametrize("num_mels", [80, 128])
def test_mel_filters(num_mels):
    got = audio.mel_filters(16000, 400, num_mels)
    assert got.shape == (num_mels, 201) and got.dtype == np.float64
    np.testing.assert_allclose(got, _reference_filters(16000, 400, num_mels), atol=1e-12)
    assert np.all(got.sum(axis=1) > 0)  # no empty filter at 16 kHz / 400 points


def test_mel_scale_round_trip():
    hz = np.array([0.0, 100.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0])
    np.testing.assert_allclose(audio.mel_to_hz(audio.hz_to_mel(hz)), hz, atol=1e-9)
    np.testing.assert_allclose(audio.hz_to_mel(hz), [_slaney_mel(f) for f in hz], atol=1e-12)
    with pytest.raises(ValueError, match="min_frequency"):
        audio.mel_filters(16000, 400, 80, min_frequency=9000.0)


@pytest.mark.parametrize("num_mels,samples", [(80, 4000), (128, 3217)])
def test_log_mel_spectrogram_parity(num_mels, samples):
    x = _waves(2, samples)
    x[1] *= 0.01  # a quieter example: its own floor
    out = check_op("log_mel_spectrogram", _reference_log_mel, x, kwargs={"num_mels": num_mels},
                   atol=1e-5, rtol=0, gradient=False)
    assert ops.dtype(out) == "float32"
    assert tuple(out.shape) == (2, samples // 160, num_mels)


def test_log_mel_spectrogram_is_per_example():
    """A batch's rows are the examples' own features (each floored at its own max)."""
    x = _waves(3, 2400)
    x[0] *= 1e-3
    x[2] = 0.0  # silence: all at the floor
    batch = ops.convert_to_numpy(ops.log_mel_spectrogram(x))
    for i in range(3):
        alone = ops.convert_to_numpy(ops.log_mel_spectrogram(x[i]))
        np.testing.assert_allclose(batch[i], alone, atol=1e-6)
    np.testing.assert_allclose(batch[2], (-10.0 + 4.0) / 4.0, atol=1e-6)
    assert batch[1].max() - batch[1].min() <= 2.0 + 1e-6  # the floor: max - 8 (log10) / 4


def test_log_mel_spectrogram_float64_and_other_sizes():
    """float64 input computes in float64 where the backend has it (jax without x64 does
    not); other STFT sizes follow the same formula."""
    x = _waves(1, 1500).astype(np.float64)
    kwargs = {"num_mels": 40, "sampling_rate": 8000, "fft_length": 256, "hop_length": 80}
    out = ops.log_mel_spectrogram(ops.convert_to_tensor(x), **kwargs)
    want = _reference_log_mel(x, **kwargs)
    atol = 1e-10 if ops.dtype(out) == "float64" else 1e-5
    np.testing.assert_allclose(ops.convert_to_numpy(out), want, atol=atol, rtol=0)
    assert ops.convert_to_numpy(out).shape == (1, 1500 // 80, 40)


def test_log_mel_spectrogram_shape_rule_and_errors():
    sym = ops.log_mel_spectrogram(SymbolicTensor((None, 480000)), num_mels=128)
    assert sym.shape == (None, 3000, 128) and sym.dtype == "float32"
    assert ops.log_mel_spectrogram.shape_rule(SymbolicTensor((4, None))).shape == (4, None, 80)
    with pytest.raises(ValueError, match="more than 200 samples"):
        ops.log_mel_spectrogram(np.zeros((2, 200), np.float32))


def _compiled(fn, example):
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, input_signature=[tf.TensorSpec((None, example.shape[1]),
                                                              "float32")])
    return fn


def test_log_mel_spectrogram_compiles():
    """Traced by jax.jit / tf.function (batch unknown there); eager on torch and numpy."""
    x = _waves(2, 16000)
    fn = _compiled(lambda a: ops.log_mel_spectrogram(a, num_mels=80), x)
    got = ops.convert_to_numpy(fn(ops.convert_to_tensor(x)))
    np.testing.assert_allclose(got, _reference_log_mel(x), atol=1e-5, rtol=0)
