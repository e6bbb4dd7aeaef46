"""OptaxOptimizer: an optax GradientTransformation drives zoo's optimizer API (jax only)."""
import pytest

import zoo
from tests.optimizers.helpers import (
    assert_close,
    make_grads,
    make_values,
    run_stateful,
    run_stateless,
)
from zoo import optimizers
from zoo.backend.common import tree

jax_only = pytest.mark.skipif(zoo.config.backend() != "jax", reason="optax needs jax")


def test_tree_round_trip():  # the pure-Python pytree the bridge relies on: every backend
    from collections import namedtuple

    State = namedtuple("State", ["count", "mu"])
    t = (State(1, [2, {"b": 3, "a": None}]), {"x": (4,)}, None, [])
    leaves, treedef = tree.flatten(t)
    assert leaves == [1, 2, 3, 4]
    assert tree.unflatten(treedef, leaves) == t
    assert tree.map_structure(lambda x: x * 2, t) == \
        (State(2, [4, {"b": 6, "a": None}]), {"x": (8,)}, None, [])
    with pytest.raises(ValueError):
        tree.unflatten(treedef, [1, 2, 3])


@jax_only
def test_optax_adam_matches_zoo_adam():
    optax = pytest.importorskip("optax")
    values, grads = make_values(), make_grads(5)
    expected = run_stateful(optimizers.Adam(0.01, epsilon=1e-12), values, grads)
    opt = optimizers.OptaxOptimizer(optax.adam(0.01, eps=1e-12))
    assert_close(run_stateful(opt, values, grads), expected, rtol=1e-4, atol=1e-6)
    assert int(opt.iterations.numpy()) == 5
    assert all(v.name.startswith("optax_state_") for v in opt.variables[1:])


@jax_only
def test_optax_sgd_momentum_matches_zoo_sgd():
    optax = pytest.importorskip("optax")
    values, grads = make_values(), make_grads(4)
    expected = run_stateful(optimizers.SGD(0.1, momentum=0.9), values, grads)
    out = run_stateful(optimizers.OptaxOptimizer(optax.sgd(0.1, momentum=0.9)), values, grads)
    assert_close(out, expected)


@jax_only
def test_optax_direction_with_zoo_learning_rate():
    optax = pytest.importorskip("optax")
    values, grads = make_values(), make_grads(4)
    schedule = optimizers.schedules.ExponentialDecay(0.02, 2, 0.5)
    expected = run_stateful(optimizers.Adam(schedule, epsilon=1e-12), values, grads)
    opt = optimizers.OptaxOptimizer(optax.scale_by_adam(eps=1e-12), learning_rate=schedule)
    assert_close(run_stateful(opt, values, grads), expected, rtol=1e-4, atol=1e-6)


@jax_only
def test_optax_stateless_under_jit_with_accumulation():
    import jax

    optax = pytest.importorskip("optax")
    tx = optax.chain(optax.clip_by_global_norm(1.0),
                     optax.inject_hyperparams(optax.adamw)(learning_rate=0.01))
    values, grads = make_values(), make_grads(6)
    expected = run_stateful(optimizers.OptaxOptimizer(tx, gradient_accumulation_steps=2),
                            values, grads)
    traces = []
    opt = optimizers.OptaxOptimizer(tx, gradient_accumulation_steps=2)

    def factory(o):
        def step(opt_values, g, params):
            traces.append(1)
            return o.stateless_apply(opt_values, g, params)
        return jax.jit(step)

    out, _ = run_stateless(opt, values, grads, factory(opt))
    assert_close(out, expected)
    assert len(traces) == 1


@jax_only
def test_get_wraps_optax_and_config_refuses_rebuild():
    optax = pytest.importorskip("optax")
    opt = optimizers.get(optax.sgd(0.1))
    assert isinstance(opt, optimizers.OptaxOptimizer)
    config = optimizers.serialize(opt)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        optimizers.deserialize(config)
    with pytest.raises(ValueError, match="weight decay"):
        optimizers.OptaxOptimizer(optax.sgd(0.1), weight_decay=0.1)
