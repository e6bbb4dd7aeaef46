"""Random ops for the torch backend: a (2,) seed tensor seeds a torch.Generator."""
import contextlib
import math

import numpy as np
import torch

from zoo.backend.torch.core import _DEVICE, to_framework_dtype


_IN_GRAPH = {"active": False}


@contextlib.contextmanager
def _in_graph_randomness():
    """While a call is traced into a graph (zoo/backend/torch/capture.py), a seed tensor has
    no value to read: random ops draw from torch's own generator instead, which the
    compiled graph advances on every call."""
    previous, _IN_GRAPH["active"] = _IN_GRAPH["active"], True
    try:
        yield
    finally:
        _IN_GRAPH["active"] = previous


def _generator(seed):
    if _IN_GRAPH["active"]:
        return None
    words = [int(v) & 0xFFFFFFFF for v in (seed.tolist() if torch.is_tensor(seed) else seed)]
    # torch's CPU generator keeps only 32 bits of its seed: mix both words into them
    mixed = int(np.random.SeedSequence(words).generate_state(1, np.uint32)[0])
    generator = torch.Generator(device=_DEVICE)
    generator.manual_seed(mixed)
    return generator


def is_tracer(x):
    return False


def set_framework_seed(seed):
    torch.manual_seed(seed)


def _empty(shape, dtype):
    return torch.empty(shape, dtype=to_framework_dtype(dtype), device=_DEVICE)


def normal(shape, mean, stddev, dtype, seed):
    return _empty(shape, dtype).normal_(mean, stddev, generator=_generator(seed))


def uniform(shape, minval, maxval, dtype, seed):
    return _empty(shape, dtype).uniform_(minval, maxval, generator=_generator(seed))


def truncated_normal(shape, mean, stddev, dtype, seed):
    # inverse CDF of the standard normal restricted to [-2, 2]
    low = 0.5 * (1 + math.erf(-2 / math.sqrt(2)))
    u = torch.empty(shape, dtype=torch.float64, device=_DEVICE)
    u.uniform_(low, 1 - low, generator=_generator(seed))
    z = math.sqrt(2) * torch.erfinv(2 * u - 1)
    return (z.clamp(-2, 2) * stddev + mean).to(to_framework_dtype(dtype))


def randint(shape, minval, maxval, dtype, seed):
    return torch.randint(minval, maxval, shape, generator=_generator(seed),
                         dtype=to_framework_dtype(dtype), device=_DEVICE)


def categorical(logits, num_samples, dtype, seed):
    probs = torch.softmax(logits.to(torch.float32), dim=-1)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=_generator(seed))
    return samples.to(to_framework_dtype(dtype))


def dropout(inputs, rate, noise_shape, seed):
    noise_shape = tuple(int(d) for d in noise_shape)
    keep = torch.empty(noise_shape, device=inputs.device).uniform_(
        generator=_generator(seed)) >= rate
    return torch.where(keep, inputs / (1 - rate), torch.zeros((), dtype=inputs.dtype,
                                                              device=inputs.device))


def shuffle(x, axis, seed):
    order = torch.randperm(x.shape[axis], generator=_generator(seed), device=x.device)
    return x.index_select(axis, order)
