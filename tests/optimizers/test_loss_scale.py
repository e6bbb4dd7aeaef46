"""LossScaleOptimizer: unscaling, skipping non-finite steps, scale growth."""
import numpy as np

from tests.optimizers.helpers import (
    assert_close,
    make_grads,
    make_values,
    make_variables,
    run_stateful,
)
from zoo import ops, optimizers


def _state(opt):
    return (float(opt.dynamic_scale.numpy()), int(opt.step_counter.numpy()),
            int(opt.iterations.numpy()))


def test_scaled_gradients_match_inner_optimizer():
    values, grads = make_values(), make_grads(3)
    scaled = [{n: g * 8.0 for n, g in step.items()} for step in grads]
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=8.0,
                                        dynamic_growth_steps=100)
    expected = run_stateful(optimizers.Adam(0.01), values, grads)
    assert_close(run_stateful(opt, values, scaled), expected)
    assert _state(opt) == (8.0, 3, 3)


def test_scale_loss():
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(), initial_scale=4.0)
    np.testing.assert_allclose(ops.convert_to_numpy(opt.scale_loss(np.float32(1.5))), 6.0)
    assert optimizers.SGD(loss_scale_factor=2.0).scale_loss(3.0) == 6.0


def test_non_finite_gradients_skip_step_and_halve_scale():
    values = make_values()
    variables = make_variables(values)
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.1), initial_scale=16.0,
                                        dynamic_growth_steps=10)
    good = [np.ones((3, 4), "float32"), np.ones(4, "float32")]
    opt.apply(good, variables)
    after_good = [v.numpy().copy() for v in variables]
    inner_state = [v.numpy().copy() for v in opt.inner_optimizer.variables]
    assert _state(opt) == (16.0, 1, 1)
    for bad_value in (np.inf, np.nan):
        bad = [np.ones((3, 4), "float32"), np.array([1, bad_value, 1, 1], "float32")]
        opt.apply(bad, variables)
        for v, before in zip(variables, after_good):
            np.testing.assert_array_equal(v.numpy(), before)
        for v, before in zip(opt.inner_optimizer.variables, inner_state):
            np.testing.assert_array_equal(v.numpy(), before)
    assert _state(opt) == (4.0, 0, 1)


def test_scale_doubles_after_growth_steps():
    variables = make_variables(make_values())
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=2.0,
                                        dynamic_growth_steps=3)
    good = [np.ones((3, 4), "float32"), np.ones(4, "float32")]
    states = []
    for _ in range(7):
        opt.apply(good, variables)
        states.append(_state(opt)[:2])
    assert states == [(2.0, 1), (2.0, 2), (4.0, 0), (4.0, 1), (4.0, 2), (8.0, 0), (8.0, 1)]


def test_learning_rate_and_variables_delegate():
    inner = optimizers.SGD(0.1)
    opt = optimizers.LossScaleOptimizer(inner)
    opt.build(make_variables(make_values()))
    opt.learning_rate = 0.3
    np.testing.assert_allclose(ops.convert_to_numpy(inner.learning_rate), 0.3)
    names = [v.name for v in opt.variables]
    assert names == ["iterations", "learning_rate", "step_counter", "dynamic_scale"]
    assert opt.iterations is inner.iterations


def test_stateless_scale_loss_reads_values():
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(), initial_scale=4.0)
    opt.build(make_variables(make_values()))
    values = [v.value for v in opt.variables]
    values[-1] = ops.convert_to_tensor(np.float32(32.0))  # dynamic_scale
    scaled = opt.stateless_scale_loss(values, ops.convert_to_tensor(np.float32(2.0)))
    np.testing.assert_allclose(ops.convert_to_numpy(scaled), 64.0)
    np.testing.assert_allclose(opt.dynamic_scale.numpy(), 4.0)
