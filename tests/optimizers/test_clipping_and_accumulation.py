"""Gradient clipping (clipnorm, global_clipnorm, clipvalue) and gradient accumulation."""
import numpy as np
import pytest

from tests.optimizers.helpers import (
    assert_close,
    make_grads,
    make_values,
    make_variables,
    run_stateful,
)
from zoo import optimizers


def _sgd_step(values, grads, lr=1.0):
    return {n: values[n] - lr * grads[n] for n in values}


def test_clipnorm_per_variable():
    values = make_values()
    grads = make_grads(1, scale=3.0)[0]
    clipped = {}
    for name, g in grads.items():
        norm = np.linalg.norm(g)
        clipped[name] = g * min(1.0, 1.5 / norm)
    out = run_stateful(optimizers.SGD(1.0, clipnorm=1.5), values, [grads])
    assert_close(out, _sgd_step(values, clipped))


def test_clipnorm_leaves_small_and_zero_gradients():
    values = make_values()
    grads = {"kernel": np.zeros((3, 4), "float32"), "bias": np.full(4, 0.1, "float32")}
    out = run_stateful(optimizers.SGD(1.0, clipnorm=1.0), values, [grads])
    assert_close(out, _sgd_step(values, grads))


def test_global_clipnorm():
    values = make_values()
    grads = make_grads(1, scale=3.0)[0]
    norm = np.sqrt(sum(np.sum(g.astype("float64") ** 2) for g in grads.values()))
    assert norm > 2.0
    clipped = {n: g * (2.0 / norm) for n, g in grads.items()}
    out = run_stateful(optimizers.SGD(1.0, global_clipnorm=2.0), values, [grads])
    assert_close(out, _sgd_step(values, clipped))


def test_clipvalue():
    values = make_values()
    grads = make_grads(1, scale=3.0)[0]
    clipped = {n: np.clip(g, -0.5, 0.5) for n, g in grads.items()}
    out = run_stateful(optimizers.SGD(1.0, clipvalue=0.5), values, [grads])
    assert_close(out, _sgd_step(values, clipped))


@pytest.mark.parametrize("make", [lambda **k: optimizers.SGD(0.1, momentum=0.9, **k),
                                  lambda **k: optimizers.Adam(0.01, **k),
                                  lambda **k: optimizers.AdamW(0.01, weight_decay=0.1, **k),
                                  lambda **k: optimizers.Adafactor(0.01, **k)])
def test_accumulation_equals_mean_gradient_steps(make):
    values = make_values()
    grads = make_grads(6)
    means = [{n: (a[n] + b[n]) / 2 for n in a} for a, b in zip(grads[::2], grads[1::2])]
    expected = run_stateful(make(), values, means)
    out = run_stateful(make(gradient_accumulation_steps=2), values, grads)
    assert_close(out, expected, rtol=1e-5, atol=1e-6)


def test_accumulation_holds_variables_between_updates():
    values = make_values()
    variables = make_variables(values)
    opt = optimizers.Adam(0.1, gradient_accumulation_steps=3, clipnorm=1.0)
    grads = make_grads(3)
    for i, step in enumerate(grads):
        opt.apply([step[v.name] for v in variables], variables)
        changed = not np.allclose(variables[0].numpy(), values["kernel"])
        assert changed == (i == 2)
    assert int(opt.iterations.numpy()) == 3
    accumulators = [v for v in opt.variables if v.name.startswith("gradient_accumulator")]
    assert len(accumulators) == 2
    assert all(np.all(a.numpy() == 0) for a in accumulators)


def test_accumulation_with_schedule_counts_updates():
    schedule = optimizers.schedules.PiecewiseConstantDecay([0], [1.0, 0.1])
    values = make_values()
    grads = make_grads(4)
    means = [{n: (a[n] + b[n]) / 2 for n in a} for a, b in zip(grads[::2], grads[1::2])]
    expected = _sgd_step(_sgd_step(values, means[0], 1.0), means[1], 0.1)
    out = run_stateful(optimizers.SGD(schedule, gradient_accumulation_steps=2), values, grads)
    assert_close(out, expected)
