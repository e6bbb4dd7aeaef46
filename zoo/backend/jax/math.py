"""math and signal ops for the jax backend (inputs already converted by zoo.ops.math)."""
import jax
import jax.numpy as jnp
from jax import lax


def erf(x):
    return jax.scipy.special.erf(x)


def erfinv(x):
    return jax.scipy.special.erfinv(x)


def top_k(x, k, sorted=True):
    values, indices = lax.top_k(x, k)
    return values, indices.astype("int32")


def logsumexp(x, axis, keepdims):
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


def segment_sum(data, segment_ids, num_segments, sorted=False):
    return jax.ops.segment_sum(data, segment_ids, num_segments, indices_are_sorted=sorted)


def extract_sequences(x, sequence_length, sequence_stride):
    frames = (x.shape[-1] - sequence_length) // sequence_stride + 1
    index = (jnp.arange(frames)[:, None] * sequence_stride + jnp.arange(sequence_length)[None])
    return x[..., index]


def _parts(z, dtype):
    return jnp.real(z).astype(dtype), jnp.imag(z).astype(dtype)


def fft(real, imag):
    return _parts(jnp.fft.fft(lax.complex(real, imag)), real.dtype)


def rfft(x, fft_length):
    return _parts(jnp.fft.rfft(x, n=fft_length), x.dtype)


def irfft(real, imag, fft_length):
    return jnp.fft.irfft(lax.complex(real, imag), n=fft_length).astype(real.dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window, center):
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = jnp.pad(x, pad, mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    if window is not None:
        left = (fft_length - sequence_length) // 2
        frames = frames * jnp.pad(window, (left, fft_length - sequence_length - left))
    return rfft(frames, fft_length)
