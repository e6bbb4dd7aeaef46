"""zoo.random: shapes, dtypes, statistics, determinism, and SeedGenerator state under jit."""
import numpy as np
import pytest

import zoo
import zoo.random as zr
from zoo import ops
from zoo.backend import StatelessScope

BACKEND = zoo.config.backend()


def _np(x):
    return ops.convert_to_numpy(x)


def test_shapes_dtypes_and_ranges():
    x = zr.normal((200, 50), mean=2.0, stddev=3.0, seed=1)
    assert ops.dtype(x) == "float32" and tuple(ops.shape(x)) == (200, 50)
    assert abs(_np(x).mean() - 2.0) < 0.1 and abs(_np(x).std() - 3.0) < 0.1
    u = _np(zr.uniform((1000,), minval=-1.0, maxval=3.0, dtype="float16", seed=2))
    assert u.dtype == np.float16 and u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.15
    t = _np(zr.truncated_normal((2000,), stddev=0.5, seed=3))
    assert np.abs(t).max() <= 1.0 + 1e-6 and 0.35 < t.std() < 0.5
    r = zr.randint((500,), 3, 7, seed=4)
    assert ops.dtype(r) == "int32" and set(np.unique(_np(r))) == {3, 4, 5, 6}
    assert ops.dtype(zr.randint((3,), 0, 5, dtype="int64", seed=1)) == "int64"


def test_int_seed_is_stateless_and_generator_advances():
    np.testing.assert_array_equal(_np(zr.normal((5,), seed=7)), _np(zr.normal((5,), seed=7)))
    assert not np.array_equal(_np(zr.normal((5,), seed=7)), _np(zr.normal((5,), seed=8)))
    gen = zr.SeedGenerator(42)
    first, second = _np(zr.uniform((5,), seed=gen)), _np(zr.uniform((5,), seed=gen))
    assert not np.array_equal(first, second)
    again = zr.SeedGenerator(42)
    np.testing.assert_array_equal(_np(zr.uniform((5,), seed=again)), first)
    assert gen.state.trainable is False and gen.state.dtype == "int32"
    np.testing.assert_array_equal(_np(gen.state.value), [42, 2])


def test_set_random_seed_makes_runs_identical():
    def run():
        return [_np(zr.normal((4,))), _np(zr.dropout(np.ones((8,), "float32"), 0.5)),
                _np(zr.uniform((3,), seed=zr.SeedGenerator()))]

    zr.set_random_seed(123)
    a = run()
    zr.set_random_seed(123)
    b = run()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    zr.set_random_seed(124)
    assert not np.array_equal(run()[0], a[0])


def test_dropout():
    x = np.ones((100, 40), "float32")
    out = _np(zr.dropout(x, 0.25, seed=zr.SeedGenerator(0)))
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.03
    shared = _np(zr.dropout(x, 0.5, noise_shape=(None, 1), seed=3))
    assert np.all(shared == shared[:, :1])  # one decision per row
    np.testing.assert_array_equal(_np(zr.dropout(x, 0.0, seed=1)), x)
    sym = zr.dropout.shape_rule(zoo.backend.SymbolicTensor((None, 3)), 0.5)
    assert sym.shape == (None, 3)


def test_shuffle_and_categorical():
    x = np.arange(20).reshape(10, 2)
    out = _np(zr.shuffle(x, seed=5))
    assert sorted(out[:, 0].tolist()) == list(range(0, 20, 2))
    np.testing.assert_array_equal(out[:, 1], out[:, 0] + 1)  # rows move together
    logits = np.log(np.array([[0.1, 0.9, 0.0001], [0.8, 0.1, 0.1]], "float32"))
    samples = _np(zr.categorical(logits, 2000, seed=6))
    assert samples.shape == (2, 2000) and samples.dtype == np.int32
    assert abs((samples[0] == 1).mean() - 0.9) < 0.04
    assert abs((samples[1] == 0).mean() - 0.8) < 0.04


def test_seed_generator_inside_jax_jit():
    if BACKEND != "jax":
        pytest.skip("jax.jit")
    import jax

    gen = zr.SeedGenerator(11)
    x = ops.ones((4, 8))

    @jax.jit
    def step(state, x):
        with StatelessScope([(gen.state, state)]) as scope:
            y = zr.dropout(x, 0.5, seed=gen)
            new_state = scope.get_current_value(gen.state)
        return y, new_state

    state = gen.state.value
    y1, state1 = step(state, x)
    y2, state2 = step(state1, x)
    y1_again, _ = step(state, x)
    assert not np.array_equal(_np(y1), _np(y2))
    np.testing.assert_array_equal(_np(y1), _np(y1_again))
    np.testing.assert_array_equal(_np(state2), [11, 2])
    np.testing.assert_array_equal(_np(gen.state.value), [11, 0])  # untouched outside

    with pytest.raises(RuntimeError, match="StatelessScope"):
        jax.jit(lambda x: zr.dropout(x, 0.5, seed=gen))(x)


def test_seed_generator_inside_tf_function():
    if BACKEND != "tensorflow":
        pytest.skip("tf.function")
    import tensorflow as tf

    gen = zr.SeedGenerator(3)
    fn = tf.function(lambda x: zr.dropout(x, 0.5, seed=gen))
    x = tf.ones((4, 8))
    assert not np.array_equal(_np(fn(x)), _np(fn(x)))
    np.testing.assert_array_equal(_np(gen.state.value), [3, 2])
