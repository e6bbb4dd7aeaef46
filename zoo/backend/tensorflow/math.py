"""math and signal ops for the tensorflow backend (inputs already converted by zoo.ops.math)."""
import tensorflow as tf


def erf(x):
    return tf.math.erf(x)


def erfinv(x):
    return tf.math.erfinv(x)


def top_k(x, k, sorted=True):
    values, indices = tf.math.top_k(x, k, sorted=sorted)
    return values, tf.cast(indices, "int32")


def logsumexp(x, axis, keepdims):
    return tf.reduce_logsumexp(x, axis=axis, keepdims=keepdims)


def segment_sum(data, segment_ids, num_segments, sorted=False):
    ids = tf.where(segment_ids < num_segments, segment_ids, -1)  # negative ids are dropped
    return tf.math.unsorted_segment_sum(data, ids, num_segments)


def extract_sequences(x, sequence_length, sequence_stride):
    return tf.signal.frame(x, sequence_length, sequence_stride, axis=-1)


def _parts(z, dtype):
    return tf.cast(tf.math.real(z), dtype), tf.cast(tf.math.imag(z), dtype)


def fft(real, imag):
    return _parts(tf.signal.fft(tf.complex(real, imag)), real.dtype)


def _fit_last_axis(x, size):
    """Crop or zero-pad the last axis to ``size`` (TF's own cropping has a broken gradient)."""
    n = x.shape[-1]
    if n > size:
        return x[..., :size]
    if n < size:
        return tf.pad(x, [[0, 0]] * (x.shape.rank - 1) + [[0, size - n]])
    return x


def rfft(x, fft_length):
    x = _fit_last_axis(x, fft_length)
    return _parts(tf.signal.rfft(x, fft_length=[fft_length]), x.dtype)


def irfft(real, imag, fft_length):
    z = tf.complex(_fit_last_axis(real, fft_length // 2 + 1),
                   _fit_last_axis(imag, fft_length // 2 + 1))
    return tf.cast(tf.signal.irfft(z, fft_length=[fft_length]), real.dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window, center):
    if center:
        pad = [[0, 0]] * (x.shape.rank - 1) + [[fft_length // 2, fft_length // 2]]
        x = tf.pad(x, pad, mode="REFLECT")
    frames = extract_sequences(x, fft_length, sequence_stride)
    if window is not None:
        left = (fft_length - sequence_length) // 2
        frames = frames * tf.pad(window, [[left, fft_length - sequence_length - left]])
    return rfft(frames, fft_length)
