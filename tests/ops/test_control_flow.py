"""Control flow and dynamic slicing, eagerly and compiled (jax.jit / tf.function)."""
import numpy as np
import pytest

import zoo
from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor

BACKEND = zoo.config.backend()


def compiled(fn):
    """fn compiled by the active framework (jax.jit / tf.function), else fn itself."""
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    return fn


MODES = ["eager", "compiled"]


def _run(mode, fn, *args):
    f = compiled(fn) if mode == "compiled" else fn
    out = f(*[ops.convert_to_tensor(a) for a in args])
    return _np(out)


def _np(tree):
    if isinstance(tree, dict):
        return {k: _np(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_np(v) for v in tree)
    return ops.convert_to_numpy(tree)


@pytest.mark.parametrize("mode", MODES)
def test_cond(mode):
    def fn(x):
        return ops.cond(ops.sum(x) > 0, lambda: (x * 2, x + 1), lambda: (x * 0, x - 1))

    x = np.array([1.0, 2.0], "float32")
    np.testing.assert_allclose(_run(mode, fn, x), (x * 2, x + 1))
    np.testing.assert_allclose(_run(mode, fn, -x), (x * 0, -x - 1))
    assert ops.cond(True, lambda: 1, lambda: 2) == 1


@pytest.mark.parametrize("mode", MODES)
def test_while_loop(mode):
    def fn(x):
        return ops.while_loop(lambda i, v: i < 5, lambda i, v: (i + 1, v * 2),
                              (ops.convert_to_tensor(0), x))

    i, v = _run(mode, fn, np.array([1.0, 3.0], "float32"))
    assert int(i) == 5
    np.testing.assert_allclose(v, [32.0, 96.0])


@pytest.mark.parametrize("mode", MODES)
def test_while_loop_single_var_dict_and_max_iterations(mode):
    def single(x):
        return ops.while_loop(lambda v: ops.sum(v) < 100.0, lambda v: v * 3, x)

    np.testing.assert_allclose(_run(mode, single, np.array([1.0, 1.0], "float32")), [81, 81])

    def tree(x):
        init = {"n": ops.convert_to_tensor(0), "v": x}
        return ops.while_loop(lambda s: s["n"] < 100, lambda s: {"n": s["n"] + 1, "v": s["v"] + 1},
                              init, maximum_iterations=7)

    out = _run(mode, tree, np.zeros((2,), "float32"))
    assert int(out["n"]) == 7
    np.testing.assert_allclose(out["v"], [7, 7])


@pytest.mark.parametrize("mode", MODES)
def test_fori_loop(mode):
    def fn(x):
        return ops.fori_loop(0, 4, lambda i, acc: (acc[0] + ops.cast(i, "float32") * acc[1],
                                                   acc[1]), (ops.zeros_like(x), x))

    total, _ = _run(mode, fn, np.array([1.0, 2.0], "float32"))
    np.testing.assert_allclose(total, [6.0, 12.0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_scan(mode, reverse):
    def fn(xs):
        def step(carry, x):
            total = carry["total"] + x["a"]
            return {"total": total, "count": carry["count"] + 1}, (total, x["a"] * 2)

        init = {"total": ops.zeros((2,)), "count": ops.convert_to_tensor(0)}
        return ops.scan(step, init, {"a": xs}, reverse=reverse)

    xs = np.arange(8, dtype="float32").reshape(4, 2)
    carry, (running, doubled) = _run(mode, fn, xs)
    order = xs[::-1] if reverse else xs
    want = np.cumsum(order, axis=0)
    np.testing.assert_allclose(carry["total"], xs.sum(0))
    assert int(carry["count"]) == 4
    np.testing.assert_allclose(running, want[::-1] if reverse else want)
    np.testing.assert_allclose(doubled, xs * 2)


@pytest.mark.parametrize("mode", MODES)
def test_scan_without_xs_and_map(mode):
    def fn(x):
        carry, ys = ops.scan(lambda c, _: (c * 2, c), x, length=3)
        return carry, ys, ops.map(lambda row: ops.sum(row), ys)

    carry, ys, sums = _run(mode, fn, np.array([1.0, 2.0], "float32"))
    np.testing.assert_allclose(carry, [8, 16])
    np.testing.assert_allclose(ys, [[1, 2], [2, 4], [4, 8]])
    np.testing.assert_allclose(sums, [3, 6, 12])


@pytest.mark.parametrize("mode", MODES)
def test_switch(mode):
    def fn(i, x):
        return ops.switch(i, [lambda v: v + 1, lambda v: v * 10, lambda v: -v], x)

    x = np.array([1.0, 2.0], "float32")
    for i, want in [(0, x + 1), (1, x * 10), (2, -x), (7, -x)]:
        np.testing.assert_allclose(_run(mode, fn, np.array(i, "int32"), x), want)


@pytest.mark.parametrize("mode", MODES)
def test_slice_and_slice_update(mode):
    def fn(x, start):
        block = ops.slice(x, [start, 1], (2, 2))
        updated = ops.slice_update(x, [start, ops.convert_to_tensor(0)],
                                   ops.ones((2, 3), "int32"))
        return block, updated

    x = np.arange(12, dtype="int32").reshape(4, 3)
    block, updated = _run(mode, fn, x, np.array(1, "int32"))
    np.testing.assert_array_equal(block, x[1:3, 1:3])
    want = x.copy()
    want[1:3] = 1
    np.testing.assert_array_equal(updated, want)
    block, _ = _run(mode, fn, x, np.array(3, "int32"))  # clamped start: rows 2..3
    np.testing.assert_array_equal(block, x[2:4, 1:3])


@pytest.mark.parametrize("mode", MODES)
def test_kv_cache_decoding_loop(mode):
    """The pattern generate() uses: write one step per iteration into a fixed-size cache."""
    def fn(cache, steps):
        def body(i, cache):
            row = ops.reshape(ops.take(steps, i, axis=0), (1, 1, 2))
            return ops.slice_update(cache, [0, i, 0], row)

        return ops.fori_loop(0, 4, body, cache)

    steps = np.arange(8, dtype="float32").reshape(4, 2)
    out = _run(mode, fn, np.zeros((1, 5, 2), "float32"), steps)
    np.testing.assert_allclose(out[0, :4], steps)
    np.testing.assert_allclose(out[0, 4], 0)


def test_stop_gradient_and_gradient_through_scan():
    if BACKEND == "numpy":
        pytest.skip("no autodiff")
    from tests.autodiff import grad

    def fn(x):
        carry, ys = ops.scan(lambda c, v: (c * v, c), ops.ones(()), x)
        return carry + ops.sum(ys) + ops.stop_gradient(x * 100)

    x = np.array([1.5, 2.0, 3.0], "float32")
    g = grad(fn, [x])[0]
    # carry = x0 x1 x2; ys = [1, x0, x0 x1]; the scalar is broadcast over 3 outputs
    want = 3 * np.array([x[1] * x[2] + 1 + x[1], x[0] * x[2] + x[0], x[0] * x[1]])
    np.testing.assert_allclose(g, want, rtol=1e-6)


def test_symbolic_rules():
    x = SymbolicTensor((None, 4), "float32")
    i, v = ops.while_loop.shape_rule(lambda i, v: True, lambda i, v: (i, v), (0, x))
    assert v.shape == (None, 4) and i.dtype == "int32"
    carry, ys = ops.scan.shape_rule(lambda c, r: (c, r), SymbolicTensor((4,)),
                                    SymbolicTensor((7, 4)))
    assert carry.shape == (4,) and ys.shape == (7, 4)
    assert ops.slice.shape_rule(x, [0, 1], (2, 3)).shape == (2, 3)
    assert ops.slice_update.shape_rule(x, [0, 1], SymbolicTensor((1, 2))).shape == (None, 4)
    assert ops.stop_gradient.shape_rule(x).shape == (None, 4)
