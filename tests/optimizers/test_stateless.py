"""stateless_apply equals the stateful apply; it traces under jax.jit / tf.function; torch
trains in place with its own gradients."""
import numpy as np
import pytest

import zoo
from tests.optimizers.helpers import (
    assert_close,
    make_grads,
    make_values,
    make_variables,
    run_stateful,
    run_stateless,
)
from zoo import ops, optimizers

BACKEND = zoo.config.backend()

MAKERS = {
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "adam_amsgrad_clip": lambda: optimizers.Adam(0.01, amsgrad=True, global_clipnorm=1.0),
    "adamw_schedule": lambda: optimizers.AdamW(
        optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.05, warmup_steps=2)),
    "adafactor": lambda: optimizers.Adafactor(0.01, clipvalue=0.5),
    "rmsprop": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "accumulate": lambda: optimizers.Adam(0.01, gradient_accumulation_steps=2, clipnorm=1.0),
    "loss_scale": lambda: optimizers.LossScaleOptimizer(
        optimizers.SGD(0.1, momentum=0.5, gradient_accumulation_steps=2), initial_scale=4.0,
        dynamic_growth_steps=2),
}


def _grads(steps=5):
    grads = make_grads(steps)
    grads[2]["bias"][1] = np.inf  # LossScaleOptimizer skips this one; others just use it
    return grads


def _finite_or(case, grads):
    return grads if case == "loss_scale" else make_grads(len(grads))


def _check(case, step_fn_factory=None, steps=5):
    values, grads = make_values(), _finite_or(case, _grads(steps))
    expected_opt = MAKERS[case]()
    expected = run_stateful(expected_opt, values, grads)
    opt = MAKERS[case]()
    step_fn = step_fn_factory(opt) if step_fn_factory else None
    out, opt_values = run_stateless(opt, values, grads, step_fn)
    assert_close(out, expected)
    for v, x in zip(expected_opt.variables, opt_values):
        np.testing.assert_allclose(x, v.numpy(), rtol=1e-5, atol=1e-6, err_msg=v.name)
    # stateless_apply did not touch the optimizer's own variables
    assert int(opt.iterations.numpy()) == 0
    return opt


@pytest.mark.parametrize("case", sorted(MAKERS))
def test_stateless_equals_stateful(case):
    _check(case)


def test_stateless_apply_validates():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="build"):
        opt.stateless_apply([], [], [])
    variables = make_variables(make_values())
    opt.build(variables)
    with pytest.raises(ValueError, match="expected"):
        opt.stateless_apply([v.value for v in opt.variables][:-1], [None, None],
                            [v.value for v in variables])


@pytest.mark.skipif(BACKEND != "jax", reason="jax only")
@pytest.mark.parametrize("case", sorted(MAKERS))
def test_jax_jit_no_retracing(case):
    import jax

    traces = []

    def factory(opt):
        def step(opt_values, grads, params):
            traces.append(1)
            return opt.stateless_apply(opt_values, grads, params)
        return jax.jit(step)

    _check(case, factory, steps=6)
    assert len(traces) == 1


@pytest.mark.skipif(BACKEND != "jax", reason="jax only")
def test_jax_grad_through_stateless_apply():
    import jax
    import jax.numpy as jnp

    variables = make_variables({"w": np.array([1.0, 2.0], "float32")})
    opt = optimizers.SGD(0.1)
    opt.build(variables)
    opt_values = [v.value for v in opt.variables]

    def f(w):
        new_params, _ = opt.stateless_apply(opt_values, [2.0 * w], [w])
        return jnp.sum(new_params[0])

    np.testing.assert_allclose(jax.grad(f)(jnp.array([1.0, 2.0])), [0.8, 0.8], rtol=1e-6)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tensorflow only")
@pytest.mark.parametrize("case", sorted(MAKERS))
def test_tf_function_stateless(case):
    import tensorflow as tf

    _check(case, lambda opt: tf.function(opt.stateless_apply))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tensorflow only")
@pytest.mark.parametrize("case", ["adamw_schedule", "accumulate", "loss_scale"])
def test_tf_function_stateful(case):
    import tensorflow as tf

    values, grads = make_values(), _finite_or(case, _grads())
    expected = run_stateful(MAKERS[case](), values, grads)
    opt = MAKERS[case]()
    variables = make_variables(values)
    opt.build(variables)

    @tf.function
    def step(g):
        opt.apply(g, variables)

    for s in grads:
        step([tf.constant(s[v.name]) for v in variables])
    assert_close({v.name: v.numpy() for v in variables}, expected)
    assert int(opt.iterations.numpy()) == len(grads) - (case == "loss_scale")


@pytest.mark.skipif(BACKEND != "torch", reason="torch only")
@pytest.mark.parametrize("case", ["sgd_nesterov", "adamw_schedule", "accumulate", "loss_scale"])
def test_torch_stateful_with_autograd(case):
    import torch

    values = make_values()
    variables = make_variables(values)
    reference_vars = make_variables(values)
    opt, reference = MAKERS[case](), MAKERS[case]()
    target = torch.linspace(-1.0, 1.0, 4)
    for _ in range(4):
        for vs, o in ((variables, opt), (reference_vars, reference)):
            kernel, bias = vs[0].value, vs[1].value
            loss = torch.sum((torch.ones(2, 3) @ kernel + bias - target) ** 2)
            if o is opt:
                for v in vs:
                    v.value.grad = None
                loss.backward()
                grads = [v.value.grad for v in vs]
            else:
                grads = [g.detach().numpy() for g in torch.autograd.grad(loss, [kernel, bias])]
            o.apply(grads, vs)
    for v, r in zip(variables, reference_vars):
        assert isinstance(v.value, torch.nn.Parameter) and v.value.requires_grad
        assert v.value.grad_fn is None
        np.testing.assert_allclose(v.numpy(), r.numpy(), rtol=1e-6)
    assert not np.allclose(variables[0].numpy(), values["kernel"])
    assert ops.is_tensor(opt.variables[0].value)
