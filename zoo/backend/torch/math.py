"""math and signal ops for the torch backend (inputs already converted by zoo.ops.math)."""
import torch
import torch.nn.functional as F


def erf(x):
    return torch.erf(x)


def erfinv(x):
    return torch.erfinv(x)


def top_k(x, k, sorted=True):
    values, indices = torch.topk(x, k, dim=-1, largest=True, sorted=sorted)
    return values, indices.to(torch.int32)


def logsumexp(x, axis, keepdims):
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def segment_sum(data, segment_ids, num_segments, sorted=False):
    ids = segment_ids.long()
    valid = (ids >= 0) & (ids < num_segments)
    out = torch.zeros((num_segments,) + tuple(data.shape[1:]), dtype=data.dtype,
                      device=data.device)
    return out.index_add(0, ids[valid], data[valid])


def extract_sequences(x, sequence_length, sequence_stride):
    return x.unfold(-1, sequence_length, sequence_stride)


def _parts(z, dtype):
    return z.real.to(dtype), z.imag.to(dtype)


def fft(real, imag):
    return _parts(torch.fft.fft(torch.complex(real, imag)), real.dtype)


def rfft(x, fft_length):
    return _parts(torch.fft.rfft(x, n=fft_length), x.dtype)


def irfft(real, imag, fft_length):
    return torch.fft.irfft(torch.complex(real, imag), n=fft_length).to(real.dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window, center):
    if center:
        shape = x.shape
        flat = x.reshape(-1, 1, shape[-1])  # reflect padding wants (N, C, L)
        pad = fft_length // 2
        x = F.pad(flat, (pad, pad), mode="reflect").reshape(*shape[:-1], shape[-1] + 2 * pad)
    frames = extract_sequences(x, fft_length, sequence_stride)
    if window is not None:
        left = (fft_length - sequence_length) // 2
        frames = frames * F.pad(window, (left, fft_length - sequence_length - left))
    return rfft(frames, fft_length)
