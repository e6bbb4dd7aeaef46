"""Samplers: how ``generate()`` picks the next token from the logits.

    sampler.next_token(logits (B, V) float32, seed (2,) int32) -> token ids (B,) int32

``GreedySampler`` (argmax), ``RandomSampler`` (the whole softmax), ``TopKSampler`` (the k
likeliest tokens), ``TopPSampler`` (the smallest set whose probability reaches p), each
with a ``temperature`` that divides the logits first. ``sampler.strategy()`` is the loop
that runs it: per-token samplers share zoo/generation/sampling.py; ``BeamSampler(num_beams)``
(``sampler="beam"``) names beam search, a strategy of its own (beam_search.py), which keeps
the ``num_beams`` likeliest sequences. Everything here is zoo ops, so it compiles inside the
generation loop on every backend.

``get("greedy" | "top_k" | "top_p" | "temperature" | "random" | "beam" | Sampler | config)``.
"""
from zoo import ops, random
from zoo.generation.beam_search import BeamSearch
from zoo.generation.logits_processors import NEGATIVE_LOGIT
from zoo.generation.sampling import Sampling


class Sampler:
    needs_seed = False

    def __init__(self, temperature=1.0):
        temperature = float(temperature)
        if temperature <= 0:
            raise ValueError(f"{type(self).__name__}: temperature must be > 0, got "
                             f"{temperature} (use GreedySampler for the argmax).")
        self.temperature = temperature

    def scaled(self, logits):
        logits = ops.cast(logits, "float32")
        return logits if self.temperature == 1.0 else ops.divide(logits, self.temperature)

    def next_token(self, logits, seed):
        raise NotImplementedError

    def strategy(self):
        """The loop that generates with this sampler."""
        return Sampling(self)

    def get_config(self):
        return {"temperature": self.temperature}

    def cache_key(self):
        return (type(self).__name__, tuple(sorted(self.get_config().items())))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class GreedySampler(Sampler):
    def __init__(self):
        super().__init__()

    def next_token(self, logits, seed):
        return ops.cast(ops.argmax(logits, axis=-1), "int32")

    def get_config(self):
        return {}


class RandomSampler(Sampler):
    needs_seed = True

    def next_token(self, logits, seed):
        return ops.cast(ops.squeeze(random.categorical(self.scaled(logits), 1, seed=seed), 1),
                        "int32")


class TopKSampler(Sampler):
    needs_seed = True

    def __init__(self, k=5, temperature=1.0):
        super().__init__(temperature)
        if int(k) < 1:
            raise ValueError(f"TopKSampler: k must be >= 1, got {k}.")
        self.k = int(k)

    def next_token(self, logits, seed):
        values, indices = ops.top_k(self.scaled(logits), min(self.k, logits.shape[-1]))
        choice = random.categorical(values, 1, seed=seed)                   # (B, 1)
        return ops.cast(ops.squeeze(ops.take_along_axis(indices, choice, axis=-1), 1), "int32")

    def get_config(self):
        return {"k": self.k, "temperature": self.temperature}


class TopPSampler(Sampler):
    """Nucleus sampling: keep the likeliest tokens until their probability reaches ``p``
    (the token that crosses p is kept), optionally among the ``k`` likeliest only."""
    needs_seed = True

    def __init__(self, p=0.9, k=None, temperature=1.0):
        super().__init__(temperature)
        if not 0.0 < float(p) <= 1.0:
            raise ValueError(f"TopPSampler: p must be in (0, 1], got {p}.")
        self.p = float(p)
        self.k = None if k is None else int(k)

    def next_token(self, logits, seed):
        logits = self.scaled(logits)
        k = logits.shape[-1] if self.k is None else min(self.k, logits.shape[-1])
        values, indices = ops.top_k(logits, k)                              # sorted, (B, k)
        probs = ops.softmax(values, axis=-1)
        before = ops.subtract(ops.cumsum(probs, axis=-1), probs)            # mass above each
        values = ops.where(ops.less(before, self.p), values, NEGATIVE_LOGIT)
        choice = random.categorical(values, 1, seed=seed)
        return ops.cast(ops.squeeze(ops.take_along_axis(indices, choice, axis=-1), 1), "int32")

    def get_config(self):
        return {"p": self.p, "k": self.k, "temperature": self.temperature}


class BeamSampler(Sampler):
    """Beam search (zoo/generation/beam_search.py): ``num_beams`` sequences per prompt,
    ranked by their summed log probabilities; the best one is returned."""

    def __init__(self, num_beams=5):
        super().__init__()
        if int(num_beams) < 1:
            raise ValueError(f"BeamSampler: num_beams must be >= 1, got {num_beams}.")
        self.num_beams = int(num_beams)

    def strategy(self):
        return BeamSearch(self.num_beams)

    def get_config(self):
        return {"num_beams": self.num_beams}


SAMPLERS = {"greedy": GreedySampler, "random": RandomSampler, "temperature": RandomSampler,
            "top_k": TopKSampler, "top_p": TopPSampler, "beam": BeamSampler}


def get(identifier):
    """A Sampler from a name, a {"class_name", "config"} dict, or a Sampler (as is)."""
    if isinstance(identifier, Sampler):
        return identifier
    if isinstance(identifier, str):
        if identifier not in SAMPLERS:
            raise ValueError(f"Unknown sampler {identifier!r}; expected one of "
                             f"{sorted(SAMPLERS)} or a Sampler instance.")
        return SAMPLERS[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        name = identifier["class_name"]
        classes = {cls.__name__: cls for cls in SAMPLERS.values()}
        key = name if name in classes else None
        cls = classes.get(key) or SAMPLERS.get(name)
        if cls is None:
            raise ValueError(f"Unknown sampler class {name!r}.")
        return cls(**identifier.get("config", {}))
    raise TypeError(f"sampler: expected a name, a config dict or a Sampler, got "
                    f"{type(identifier).__name__}.")
