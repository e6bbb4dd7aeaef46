"""Learning-rate schedules: ``schedule(step) -> learning rate``, written in zoo.ops.

A schedule is called with the optimizer's update count (a Python int or an integer tensor,
possibly traced under jax.jit / tf.function) and returns a float32 scalar tensor. No Python
control flow touches the step, so every schedule compiles.

    lr = CosineDecay(1e-3, decay_steps=10_000, warmup_target=3e-3, warmup_steps=500)
    zoo.optimizers.Adam(learning_rate=lr)
"""
import math

from zoo import ops
from zoo.saving import serialization


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _step(step):
    return ops.cast(ops.convert_to_tensor(step), "float32")


def _f32(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


@serialization.register_builtin
class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored
    when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}.")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = ops.divide(_step(step), float(self.decay_steps))
        if self.staircase:
            p = ops.floor(p)
        return ops.multiply(_f32(self.initial_learning_rate),
                            ops.power(_f32(self.decay_rate), p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@serialization.register_builtin
class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = ops.divide(_step(step), float(self.decay_steps))
        if self.staircase:
            p = ops.floor(p)
        return ops.divide(_f32(self.initial_learning_rate),
                          ops.add(1.0, ops.multiply(_f32(self.decay_rate), p)))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@serialization.register_builtin
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]`` (len(values) ==
    len(boundaries) + 1)."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError("PiecewiseConstantDecay: len(values) must be len(boundaries) + 1.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        step = _step(step)
        lr = _f32(self.values[-1])
        for boundary, value in reversed(list(zip(self.boundaries, self.values[:-1]))):
            lr = ops.where(ops.less_equal(step, float(boundary)), _f32(value), lr)
        return lr

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@serialization.register_builtin
class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, with the step held at
    ``decay_steps`` after it (or, with ``cycle``, ``decay_steps`` stretched to the next
    multiple above the step)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}.")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _step(step)
        decay_steps = _f32(float(self.decay_steps))
        if self.cycle:
            multiplier = ops.where(ops.equal(step, 0.0), _f32(1.0),
                                   ops.ceil(ops.divide(step, decay_steps)))
            decay_steps = ops.multiply(decay_steps, multiplier)
        else:
            step = ops.minimum(step, decay_steps)
        fraction = ops.subtract(1.0, ops.divide(step, decay_steps))
        start, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        return ops.add(ops.multiply(ops.subtract(start, end),
                                    ops.power(fraction, _f32(self.power))), end)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


@serialization.register_builtin
class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or, after a linear warmup over
    ``warmup_steps`` from ``initial_learning_rate`` to ``warmup_target``, from
    ``warmup_target``) down to ``alpha`` times that value over ``decay_steps`` steps; held
    there afterwards."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}.")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, start):
        fraction = ops.divide(step, float(self.decay_steps))
        cosine = ops.multiply(0.5, ops.add(1.0, ops.cos(ops.multiply(math.pi, fraction))))
        return ops.multiply(start, ops.add(ops.multiply(1.0 - self.alpha, cosine), self.alpha))

    def __call__(self, step):
        step = _step(step)
        initial = _f32(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(ops.minimum(step, float(self.decay_steps)), initial)
        warmup_steps = float(self.warmup_steps)
        step = ops.minimum(step, float(self.decay_steps) + warmup_steps)
        target = _f32(self.warmup_target)
        warm = ops.add(initial, ops.multiply(ops.subtract(target, initial),
                                             ops.divide(step, max(warmup_steps, 1.0))))
        decayed = self._decay(ops.maximum(ops.subtract(step, warmup_steps), 0.0), target)
        return ops.where(ops.less(step, warmup_steps), warm, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


@serialization.register_builtin
class WarmupLinearDecay(LearningRateSchedule):
    """Linear warmup then linear decay (BERT-style fine-tuning schedule).

    Rises linearly from ``initial_learning_rate`` to ``peak_learning_rate`` over the first
    ``warmup_steps`` steps, then falls linearly to ``end_learning_rate`` over the next
    ``decay_steps`` steps (so training lasts ``warmup_steps + decay_steps`` steps), and stays
    at ``end_learning_rate`` afterwards.
    """

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, initial_learning_rate=0.0,
                 end_learning_rate=0.0, name="WarmupLinearDecay"):
        if decay_steps <= 0 or warmup_steps < 0:
            raise ValueError("WarmupLinearDecay needs decay_steps > 0 and warmup_steps >= 0.")
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.initial_learning_rate = initial_learning_rate
        self.end_learning_rate = end_learning_rate
        self.name = name

    def __call__(self, step):
        step = _step(step)
        warmup = float(self.warmup_steps)
        peak = _f32(self.peak_learning_rate)
        start, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        warm = ops.add(start, ops.multiply(ops.subtract(peak, start),
                                           ops.divide(step, max(warmup, 1.0))))
        done = ops.clip(ops.divide(ops.subtract(step, warmup), float(self.decay_steps)), 0.0, 1.0)
        decayed = ops.add(peak, ops.multiply(ops.subtract(end, peak), done))
        return ops.where(ops.less(step, warmup), warm, decayed)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate,
                "warmup_steps": self.warmup_steps, "decay_steps": self.decay_steps,
                "initial_learning_rate": self.initial_learning_rate,
                "end_learning_rate": self.end_learning_rate, "name": self.name}


def serialize(schedule):
    return serialization.serialize(schedule)


def deserialize(config, custom_objects=None):
    return serialization.deserialize(config, custom_objects)
