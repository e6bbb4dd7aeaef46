"""Weight initializers: ``initializer(shape, dtype) -> array``.

Random initializers draw from one NumPy generator that ``zoo.config.set_random_seed``
reseeds, so a seed gives the same initial weights on every backend.
"""
import math

import numpy as np

from zoo.backend.common import dtypes

_RNG = np.random.default_rng()


def reseed(seed):
    global _RNG
    _RNG = np.random.default_rng(seed)


def _rng(seed):
    return _RNG if seed is None else np.random.default_rng(seed)


def _as(array, dtype):
    return np.asarray(array, dtype=np.float32).astype(dtypes.to_numpy_dtype(dtype))


def _fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])  # conv kernels: (*spatial, in, out)
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=dtypes.to_numpy_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=dtypes.to_numpy_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=dtypes.to_numpy_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return _as(_rng(self.seed).normal(self.mean, self.stddev, shape), dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal values re-drawn until they lie within two standard deviations."""

    def __call__(self, shape, dtype=None):
        rng = _rng(self.seed)
        values = rng.standard_normal(shape)
        bad = np.abs(values) > 2
        while bad.any():
            values[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(values) > 2
        return _as(self.mean + self.stddev * values, dtype)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return _as(_rng(self.seed).uniform(self.minval, self.maxval, shape), dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return RandomUniform(-limit, limit, self.seed)(shape, dtype)
        if self.distribution == "untruncated_normal":
            return RandomNormal(0.0, math.sqrt(variance), self.seed)(shape, dtype)
        # stddev of a normal truncated at 2 sigma is 0.8796 of the untruncated one
        return TruncatedNormal(0.0, math.sqrt(variance) / 0.87962566103423978, self.seed)(shape, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class GlorotUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix, from the QR decomposition of a normal draw.

    Kernels of rank > 2 are treated as ``(prod(shape[:-1]), shape[-1])`` matrices.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _rng(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return _as(self.gain * q.reshape(shape), dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Sinusoidal(Initializer):
    """Fixed sinusoidal positions (length, channels): row t is ``[sin(t * w), cos(t * w)]``
    for ``channels // 2`` frequencies ``w_i = max_timescale ** (-i / (channels // 2 - 1))``
    (Whisper's encoder positions, openai-whisper's ``sinusoids``)."""

    def __init__(self, max_timescale=10000.0):
        self.max_timescale = float(max_timescale)

    def __call__(self, shape, dtype=None):
        length, channels = shape
        if channels % 2 or channels < 4:
            raise ValueError(f"Sinusoidal: channels must be even and >= 4, got {channels}.")
        half = channels // 2
        rates = np.exp(-np.log(self.max_timescale) / (half - 1) * np.arange(half))
        angles = np.arange(length)[:, None] * rates[None, :]
        table = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
        return table.astype(dtypes.to_numpy_dtype(dtype))

    def get_config(self):
        return {"max_timescale": self.max_timescale}


class Identity(Initializer):
    """``gain`` times the identity matrix (2D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2D shape, got {shape}.")
        return _as(self.gain * np.eye(*shape), dtype)

    def get_config(self):
        return {"gain": self.gain}


ALL = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, TruncatedNormal,
                               RandomUniform, VarianceScaling, GlorotUniform, GlorotNormal,
                               HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
                               Identity, Sinusoidal)}
_SNAKE = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
          "truncated_normal": TruncatedNormal, "random_uniform": RandomUniform,
          "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
          "he_normal": HeNormal, "he_uniform": HeUniform, "lecun_normal": LecunNormal,
          "lecun_uniform": LecunUniform, "orthogonal": Orthogonal, "identity": Identity,
          "sinusoidal": Sinusoidal,
          "variance_scaling": VarianceScaling,
          # Keras' short aliases
          "uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones}


def get(identifier):
    """A name ("glorot_uniform"), a serialized dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = _SNAKE.get(identifier) or ALL.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown initializer {identifier!r}. Known: {', '.join(_SNAKE)}.")
        return cls()
    if isinstance(identifier, dict):
        cls = ALL.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown initializer config {identifier!r}. Known classes: "
                             f"{', '.join(ALL)}.")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Cannot interpret {identifier!r} as an initializer.")


def serialize(initializer):
    if isinstance(initializer, Initializer):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    raise ValueError(f"Initializer {initializer!r} is not serializable (use a zoo initializer).")
