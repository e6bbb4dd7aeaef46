"""Math and signal ops: erf, top_k, logsumexp, segment_sum, FFTs, framing and the STFT.

Complex results are returned as ``(real, imag)`` pairs of float tensors (as in Keras 3), so
every backend and every dtype policy sees real tensors only.
"""
import numpy as np

from zoo import backend
from zoo.backend.common import dtypes
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = ["erf", "erfinv", "top_k", "logsumexp", "segment_sum", "extract_sequences", "fft",
           "rfft", "irfft", "stft"]

_HALF = ("float16", "bfloat16")


def _float_dtype(x):
    dtype = rules.concrete_dtype(x)
    return dtype if dtypes.is_float(dtype) else dtypes.config.floatx()


def _float(x):
    return backend.core.convert_to_tensor(x, _float_dtype(x))


def _compute(x):
    """A float tensor FFTs accept: half precision goes up to float32."""
    x = _float(x)
    dtype = backend.core.dtype_of(x)
    return (backend.core.cast(x, "float32"), dtype) if dtype in _HALF else (x, dtype)


def _cast_all(xs, dtype):
    return tuple(backend.core.cast(x, dtype) for x in xs)


@op(rules.elementwise_unary_float)
def erf(x):
    return backend.math.erf(_float(x))


@op(rules.elementwise_unary_float)
def erfinv(x):
    return backend.math.erfinv(_float(x))


def _top_k_rule(x, k, sorted=True):
    shape = rules.shape_of(x)[:-1] + (k,)
    return rules.symbolic(shape, rules.concrete_dtype(x)), rules.symbolic(shape, "int32")


@op(_top_k_rule)
def top_k(x, k, sorted=True):
    """The ``k`` largest entries along the last axis, largest first: (values, int32 indices)."""
    return backend.math.top_k(backend.core.convert_to_tensor(x), int(k), bool(sorted))


@op(rules.reduction_float)
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis`` (None: all axes), computed stably."""
    x = _float(x)
    ndim = len(x.shape)
    if axis is None:
        axis = tuple(range(ndim))
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    axes = tuple(sorted(rules.normalize_axis(a, ndim) for a in axes))
    return backend.math.logsumexp(x, axes, bool(keepdims))


def _segment_rule(data, segment_ids, num_segments=None, sorted=False):
    shape = rules.shape_of(data)
    return rules.symbolic((num_segments,) + shape[1:], rules.concrete_dtype(data))


@op(_segment_rule)
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of ``data`` rows sharing a segment id. Ids outside [0, num_segments) are
    dropped. ``num_segments`` defaults to max(id) + 1 (needs concrete ids)."""
    data = backend.core.convert_to_tensor(data)
    segment_ids = backend.core.cast(segment_ids, "int32")
    if num_segments is None:
        num_segments = int(np.max(backend.core.convert_to_numpy(segment_ids))) + 1
    return backend.math.segment_sum(data, segment_ids, int(num_segments), bool(sorted))


def _frames(size, length, stride):
    return None if size is None else max((size - length) // stride + 1, 0)


def _extract_rule(x, sequence_length, sequence_stride):
    shape = rules.shape_of(x)
    frames = _frames(shape[-1], sequence_length, sequence_stride)
    return rules.symbolic(shape[:-1] + (frames, sequence_length), rules.concrete_dtype(x))


@op(_extract_rule)
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: (..., n) -> (..., num_frames, sequence_length)."""
    return backend.math.extract_sequences(backend.core.convert_to_tensor(x),
                                          int(sequence_length), int(sequence_stride))


def _fft_rule(x):
    real, imag = x
    dtype = _float_dtype(real)
    return rules.symbolic(rules.shape_of(real), dtype), rules.symbolic(rules.shape_of(imag), dtype)


@op(_fft_rule)
def fft(x):
    """FFT along the last axis of the complex tensor ``x = (real, imag)``."""
    real, dtype = _compute(x[0])
    imag = backend.core.convert_to_tensor(x[1], backend.core.dtype_of(real))
    return _cast_all(backend.math.fft(real, imag), dtype)


def _rfft_rule(x, fft_length=None):
    n = rules.shape_of(x)[-1] if fft_length is None else fft_length
    shape = rules.shape_of(x)[:-1] + (None if n is None else n // 2 + 1,)
    return rules.symbolic(shape, _float_dtype(x)), rules.symbolic(shape, _float_dtype(x))


@op(_rfft_rule)
def rfft(x, fft_length=None):
    """Real FFT along the last axis (zero-padded or cropped to ``fft_length``):
    returns (real, imag), each (..., fft_length // 2 + 1)."""
    x, dtype = _compute(x)
    n = int(x.shape[-1]) if fft_length is None else int(fft_length)
    return _cast_all(backend.math.rfft(x, n), dtype)


def _irfft_rule(x, fft_length=None):
    real = rules.shape_of(x[0])
    n = fft_length if fft_length is not None else (
        None if real[-1] is None else 2 * (real[-1] - 1))
    return rules.symbolic(real[:-1] + (n,), _float_dtype(x[0]))


@op(_irfft_rule)
def irfft(x, fft_length=None):
    """Inverse of rfft: ``x = (real, imag)`` -> real signal of length ``fft_length``
    (default 2 * (n - 1))."""
    real, dtype = _compute(x[0])
    imag = backend.core.convert_to_tensor(x[1], backend.core.dtype_of(real))
    n = 2 * (int(real.shape[-1]) - 1) if fft_length is None else int(fft_length)
    return backend.core.cast(backend.math.irfft(real, imag, n), dtype)


def _window(window, sequence_length):
    """The analysis window as float64 NumPy: "hann"/"hamming" are periodic (as in
    torch.hann_window and scipy.signal.get_window)."""
    if window is None:
        return None
    if isinstance(window, str):
        n = np.arange(sequence_length)
        cos = np.cos(2 * np.pi * n / sequence_length)
        if window == "hann":
            return 0.5 - 0.5 * cos
        if window == "hamming":
            return 0.54 - 0.46 * cos
        raise ValueError(f"stft: unknown window {window!r} (use 'hann', 'hamming', an array "
                         f"or None).")
    return window


def _stft_rule(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    shape = rules.shape_of(x)
    n = shape[-1]
    if center and n is not None:
        n += 2 * (fft_length // 2)
    frames = _frames(n, fft_length, sequence_stride)
    out = shape[:-1] + (frames, fft_length // 2 + 1)
    return rules.symbolic(out, _float_dtype(x)), rules.symbolic(out, _float_dtype(x))


@op(_stft_rule)
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of the last axis -> (real, imag), each
    (..., num_frames, fft_length // 2 + 1).

    Matches ``torch.stft(x, n_fft=fft_length, hop_length=sequence_stride,
    win_length=sequence_length, window=torch.hann_window(sequence_length), center=center,
    pad_mode="reflect", onesided=True)`` transposed to frames-first: with ``center`` the
    signal is reflect-padded by fft_length // 2 on both sides; the window (periodic "hann",
    "hamming", a 1-D array of length sequence_length, or None for none) is zero-padded to
    fft_length, centered; frames of fft_length samples start every sequence_stride samples.
    """
    if sequence_length > fft_length:
        raise ValueError(f"stft: sequence_length={sequence_length} > fft_length={fft_length}.")
    x, dtype = _compute(x)
    win = _window(window, sequence_length)
    if win is not None:
        win = backend.core.convert_to_tensor(win, backend.core.dtype_of(x))
        if tuple(win.shape) != (sequence_length,):
            raise ValueError(f"stft: the window must have shape ({sequence_length},), "
                             f"got {tuple(win.shape)}.")
    out = backend.math.stft(x, int(sequence_length), int(sequence_stride), int(fft_length),
                            win, bool(center))
    return _cast_all(out, dtype)
