"""Learning-rate schedules against their formulas, traced, and serialized."""
import math

import numpy as np
import pytest

import zoo
from zoo import ops
from zoo.optimizers import schedules

BACKEND = zoo.config.backend()
STEPS = [0, 1, 3, 5, 10, 17, 50, 100, 120, 1000]


def cosine(step, init, decay_steps, alpha=0.0, target=None, warmup=0):
    if target is None:
        s = min(step, decay_steps)
        return init * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
    s = min(step, decay_steps + warmup)
    if s < warmup:
        return init + (target - init) * s / warmup
    frac = (s - warmup) / decay_steps
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)


def polynomial(step, init, decay_steps, end, power, cycle):
    if cycle:
        decay_steps = decay_steps * (1 if step == 0 else math.ceil(step / decay_steps))
    else:
        step = min(step, decay_steps)
    return (init - end) * (1 - step / decay_steps) ** power + end


def warmup_linear(step, peak, warmup, decay, start, end):
    if step < warmup:
        return start + (peak - start) * step / warmup
    return peak + (end - peak) * min(1.0, (step - warmup) / decay)


CASES = {
    "exponential": (schedules.ExponentialDecay(0.1, 10, 0.5),
                    lambda s: 0.1 * 0.5 ** (s / 10)),
    "exponential_staircase": (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
                              lambda s: 0.1 * 0.5 ** (s // 10)),
    "inverse_time": (schedules.InverseTimeDecay(0.1, 5, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 5)),
    "piecewise": (schedules.PiecewiseConstantDecay([5, 50], [1.0, 0.5, 0.1]),
                  lambda s: 1.0 if s <= 5 else (0.5 if s <= 50 else 0.1)),
    "polynomial": (schedules.PolynomialDecay(0.1, 100, 0.01, power=2.0),
                   lambda s: polynomial(s, 0.1, 100, 0.01, 2.0, False)),
    "polynomial_cycle": (schedules.PolynomialDecay(0.1, 40, 0.01, cycle=True),
                         lambda s: polynomial(s, 0.1, 40, 0.01, 1.0, True)),
    "cosine": (schedules.CosineDecay(0.1, 100, alpha=0.1), lambda s: cosine(s, 0.1, 100, 0.1)),
    "cosine_warmup": (schedules.CosineDecay(0.0, 100, warmup_target=0.2, warmup_steps=10),
                      lambda s: cosine(s, 0.0, 100, 0.0, 0.2, 10)),
    "cosine_warmup_from_init": (
        schedules.CosineDecay(0.05, 50, alpha=0.2, warmup_target=0.1, warmup_steps=20),
        lambda s: cosine(s, 0.05, 50, 0.2, 0.1, 20)),
    "warmup_linear": (schedules.WarmupLinearDecay(0.1, warmup_steps=10, decay_steps=90),
                      lambda s: warmup_linear(s, 0.1, 10, 90, 0.0, 0.0)),
    "warmup_linear_ends": (
        schedules.WarmupLinearDecay(0.2, 5, 50, initial_learning_rate=0.01,
                                    end_learning_rate=0.02),
        lambda s: warmup_linear(s, 0.2, 5, 50, 0.01, 0.02)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_schedule_matches_formula(case):
    schedule, formula = CASES[case]
    for step in STEPS:
        for given in (step, ops.convert_to_tensor(np.int64(step))):
            value = ops.convert_to_numpy(schedule(given))
            assert value.dtype == np.float32
            np.testing.assert_allclose(value, formula(step), rtol=1e-5, atol=1e-7,
                                       err_msg=f"{case} at step {step}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_schedule_round_trip(case):
    schedule = CASES[case][0]
    config = schedules.serialize(schedule)
    clone = schedules.deserialize(config)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    for step in (0, 7, 60):
        np.testing.assert_allclose(ops.convert_to_numpy(clone(step)),
                                   ops.convert_to_numpy(schedule(step)))


@pytest.mark.skipif(BACKEND not in ("jax", "tensorflow"), reason="tracing is jax/tf only")
@pytest.mark.parametrize("case", ["cosine_warmup", "warmup_linear", "piecewise", "polynomial_cycle"])
def test_schedule_traces(case):
    schedule, formula = CASES[case]
    if BACKEND == "jax":
        import jax

        fn = jax.jit(schedule.__call__)
    else:
        import tensorflow as tf

        fn = tf.function(schedule.__call__)
    for step in (0, 3, 15, 200):
        value = ops.convert_to_numpy(fn(ops.convert_to_tensor(np.int64(step))))
        np.testing.assert_allclose(value, formula(step), rtol=1e-5, atol=1e-7)


def test_optimizer_uses_schedule_per_step():
    from tests.optimizers.helpers import make_variables
    from zoo import optimizers

    schedule = schedules.ExponentialDecay(1.0, 1, 0.5)
    var = make_variables({"w": np.zeros(2, "float32")})[0]
    opt = optimizers.SGD(schedule)
    for step in range(3):
        np.testing.assert_allclose(ops.convert_to_numpy(opt.learning_rate), 0.5 ** step)
        opt.apply([np.ones(2, "float32")], [var])
    np.testing.assert_allclose(var.numpy(), -(1 + 0.5 + 0.25) * np.ones(2), rtol=1e-6)
