"""Shared helpers for the optimizer tests: variables, fixed gradients, running steps."""
import functools

import numpy as np

import zoo
from tests import testing
from zoo import ops

SHAPES = {"kernel": (3, 4), "bias": (4,)}


def make_values(shapes=None, seed=0):
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=s).astype("float32") for n, s in (shapes or SHAPES).items()}


def make_grads(steps, shapes=None, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    return [{n: (scale * rng.normal(size=s)).astype("float32") for n, s in (shapes or SHAPES).items()}
            for _ in range(steps)]


def make_variables(values):
    return [zoo.Variable(v.copy(), name=n) for n, v in values.items()]


def run_stateful(optimizer, values, grads):
    """Apply each step's gradients in place; the final values as a dict of arrays."""
    variables = make_variables(values)
    for step in grads:
        optimizer.apply([step[v.name] for v in variables], variables)
    return {v.name: ops.convert_to_numpy(v.value) for v in variables}


def run_stateless(optimizer, values, grads, step_fn=None):
    """The same through stateless_apply (optionally wrapped, e.g. by jax.jit)."""
    variables = make_variables(values)
    optimizer.build(variables)
    opt_values = [v.value for v in optimizer.variables]
    params = [v.value for v in variables]
    step_fn = step_fn or optimizer.stateless_apply
    for step in grads:
        g = [ops.convert_to_tensor(step[v.name]) for v in variables]
        params, opt_values = step_fn(opt_values, g, params)
    return ({v.name: ops.convert_to_numpy(p) for v, p in zip(variables, params)},
            [ops.convert_to_numpy(x) for x in opt_values])


# the shared comparison, with the tighter absolute tolerance these small updates need
assert_close = functools.partial(testing.assert_close, atol=1e-6)
