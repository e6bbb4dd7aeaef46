"""Audio features: Slaney mel filters (NumPy) and Whisper's log-mel spectrogram (an op).

``log_mel_spectrogram`` is made of zoo ops only (``stft``, ``matmul``, ``log10``, ...), so
it runs, and compiles, on every backend with no other framework imported:

    waveform (..., samples) float
      -> stft: periodic Hann window of fft_length, reflect padding of fft_length // 2 on
         both sides, a frame every hop_length samples; the last frame is dropped
      -> power |X|^2 (..., frames, fft_length // 2 + 1), frames = samples // hop_length
      -> @ mel_filters (fft_length // 2 + 1, num_mels)        Slaney mel scale and norm
      -> log10(max(x, 1e-10)), floored at (max over the example) - dynamic_range
      -> (x + 4) / 4                                          (..., frames, num_mels)

as openai-whisper's ``whisper.audio.log_mel_spectrogram`` and transformers'
``WhisperFeatureExtractor`` compute it (they return (mels, frames); zoo's features are
frames first, the layout of ``WhisperBackbone``'s ``encoder_features``).
"""
import functools

import numpy as np

from zoo import backend
from zoo.ops import core
from zoo.ops import math as signal
from zoo.ops import numpy as np_ops
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = ["log_mel_spectrogram"]

# The Slaney mel scale (Auditory Toolbox; librosa's htk=False): linear below 1 kHz, 3 mels
# per 200 Hz, logarithmic above, 27 mels per factor 6.4.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz):
    """Slaney mel of frequencies in Hz (NumPy, float64)."""
    hz = np.asarray(hz, np.float64)
    linear = hz / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, log, linear)


def mel_to_hz(mel):
    """Inverse of ``hz_to_mel``."""
    mel = np.asarray(mel, np.float64)
    linear = mel * _F_SP
    log = _MIN_LOG_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log, linear)


@functools.lru_cache(maxsize=16)
def _mel_filters(sampling_rate, fft_length, num_mels, min_frequency, max_frequency):
    bins = np.linspace(0.0, sampling_rate / 2, 1 + fft_length // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(min_frequency), hz_to_mel(max_frequency),
                                  num_mels + 2))                          # (num_mels + 2,)
    widths = np.diff(edges)                                               # (num_mels + 1,)
    ramps = edges[:, None] - bins[None, :]                                # (num_mels + 2, bins)
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))               # (num_mels, bins)
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]                  # Slaney area norm
    weights.setflags(write=False)
    return weights


def mel_filters(sampling_rate=16000, fft_length=400, num_mels=80, min_frequency=0.0,
                max_frequency=None):
    """Triangular mel filters on the Slaney scale with Slaney (area) normalization, as
    ``librosa.filters.mel(sr=sampling_rate, n_fft=fft_length, n_mels=num_mels, fmin=...,
    fmax=..., htk=False, norm="slaney")`` defines them: (num_mels, fft_length // 2 + 1)
    float64 NumPy (read-only; ``max_frequency`` defaults to sampling_rate / 2)."""
    max_frequency = sampling_rate / 2 if max_frequency is None else max_frequency
    if not 0 <= min_frequency < max_frequency:
        raise ValueError(f"mel_filters: need 0 <= min_frequency < max_frequency, got "
                         f"{min_frequency} and {max_frequency}.")
    return _mel_filters(int(sampling_rate), int(fft_length), int(num_mels),
                        float(min_frequency), float(max_frequency))


def _num_frames(samples, fft_length, hop_length):
    if samples is None:
        return None
    return (samples + 2 * (fft_length // 2) - fft_length) // hop_length  # last frame dropped


def _log_mel_rule(x, num_mels=80, sampling_rate=16000, fft_length=400, hop_length=160,
                  dynamic_range=8.0):
    shape = rules.shape_of(x)
    frames = _num_frames(shape[-1], fft_length, hop_length)
    return rules.symbolic(shape[:-1] + (frames, num_mels), signal._float_dtype(x))


@op(_log_mel_rule)
def log_mel_spectrogram(x, num_mels=80, sampling_rate=16000, fft_length=400, hop_length=160,
                        dynamic_range=8.0):
    """Whisper's log-mel features of waveforms ``x`` (..., samples) -> (..., samples //
    hop_length, num_mels) (see the module docstring). Each example (all axes but the last
    one) is floored at its own maximum - ``dynamic_range`` (log10 units: 8 is 80 dB), taken
    over all its frames: pad a waveform with zeros before calling (as openai-whisper and
    transformers pad to 30 s); frames of zeros are at the 1e-10 floor, so they never raise
    an example's maximum. Computed in float32 (float64 inputs in float64); the result has
    the input's float dtype."""
    shape = tuple(x.shape)
    if len(shape) < 1 or (shape[-1] is not None and shape[-1] <= fft_length // 2):
        raise ValueError(f"log_mel_spectrogram: the waveform needs more than "
                         f"{fft_length // 2} samples on its last axis (reflect padding of "
                         f"fft_length // 2), got shape {shape}.")
    x, dtype = signal._compute(x)
    compute = backend.core.dtype_of(x)
    real, imag = signal.stft(x, fft_length, hop_length, fft_length, window="hann", center=True)
    real = core.get_item(real, (Ellipsis, slice(None, -1), slice(None)))  # last frame dropped
    imag = core.get_item(imag, (Ellipsis, slice(None, -1), slice(None)))
    power = np_ops.add(np_ops.square(real), np_ops.square(imag))          # (..., frames, bins)
    filters = np.array(mel_filters(sampling_rate, fft_length, num_mels).T)  # (bins, mels)
    mel = np_ops.matmul(power, backend.core.convert_to_tensor(filters, compute))
    log = np_ops.log10(np_ops.maximum(mel, backend.core.convert_to_tensor(1e-10, compute)))
    peak = np_ops.max(log, axis=(-2, -1), keepdims=True)
    log = np_ops.maximum(log, np_ops.subtract(peak, float(dynamic_range)))
    out = np_ops.divide(np_ops.add(log, 4.0), 4.0)
    return backend.core.cast(out, dtype) if dtype != compute else out

