"""ops.replay: a loop body recorded on its first two calls and replayed from the third, on
the backends that run loops in Python; anything the tape cannot show to be fixed runs the
body as written."""
import numpy as np
import pytest

import zoo
from zoo import ops
from zoo.ops.replay import replayable

BACKEND = zoo.config.backend()
EAGER = BACKEND in ("torch", "numpy")
W = np.arange(12, dtype=np.float32).reshape(3, 4) / 10


def run_loop(body, steps, *start):
    """``steps`` calls of a (replayable) body from ``start``, as a Python loop."""
    state = tuple(ops.convert_to_tensor(s) for s in start)
    outputs = []
    for _ in range(steps):
        state = body(*state)
        outputs.append([np.asarray(ops.convert_to_numpy(s)) for s in state])
    return outputs


def dense_step(kernel):
    def body(x, index):
        h = ops.relu(ops.matmul(ops.reshape(x, (2, 3)), ops.reshape(kernel, (3, 4))))
        x = ops.add(ops.slice(h, [0, 0], (2, 3)), ops.cast(index, "float32"))
        return ops.reshape(x, (6,)), ops.add(index, 1)

    return body


def test_replayed_steps_equal_the_plain_ones():
    kernel = ops.convert_to_tensor(W)
    start = (np.linspace(-1, 1, 6).astype(np.float32), np.int32(0))
    plain = run_loop(dense_step(kernel), 6, *start)
    body = replayable(dense_step(kernel))
    replayed = run_loop(body, 6, *start)
    for a, b in zip(plain, replayed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    # (numpy may record a third time: its index is a 0-d array first, a NumPy scalar after)
    assert body.replays >= 3 if EAGER else body.replays == 0
    assert body.enabled == EAGER


def test_results_that_are_equal_are_still_apart():
    """NumPy hands back the one ``np.True_`` for every true scalar: two unrelated results
    that were both true when recorded must stay two results on the tape."""
    def body(x, wait, _):
        found = ops.any(ops.greater(x, 2.0))     # true while recorded, false later
        ready = ops.equal(wait, 0)                              # true throughout
        return ops.add(x, -1.0), wait, ops.logical_and(found, ready)

    start = (np.array([6.0, 0.0], np.float32), np.int32(0), np.bool_(False))
    expected = [True] * 4 + [False] * 4
    assert [bool(step[2]) for step in run_loop(body, 8, *start)] == expected
    wrapped = replayable(body)
    assert [bool(step[2]) for step in run_loop(wrapped, 8, *start)] == expected
    assert wrapped.replays >= 4 if EAGER else wrapped.replays == 0


@pytest.mark.skipif(not EAGER, reason="jax and tensorflow compile their loops: no tape")
def test_a_tensor_made_beside_the_ops_turns_replay_off():
    def body(x):
        sliced = x[:2] if BACKEND == "numpy" else x.__getitem__(slice(0, 2))  # not an op
        return (ops.concatenate([ops.add(sliced, 1.0), ops.slice(x, [2], (1,))], axis=0),)

    wrapped = replayable(body)
    out = run_loop(wrapped, 5, np.zeros(3, np.float32))
    np.testing.assert_array_equal(out[-1][0], [5, 5, 0])
    assert wrapped.replays == 0 and not wrapped.enabled


@pytest.mark.skipif(not EAGER, reason="jax and tensorflow compile their loops: no tape")
def test_a_python_value_from_the_step_turns_replay_off():
    def body(x):  # the branch depends on the data: the tape cannot hold it
        total = float(ops.convert_to_numpy(ops.sum(x)))
        return (ops.add(x, 1.0 if total < 2 else 10.0),)

    wrapped = replayable(body)
    out = run_loop(wrapped, 4, np.zeros(2, np.float32))
    np.testing.assert_array_equal(out[-1][0], [31, 31])  # 0 -> 1 -> 11 -> 21 -> 31
    assert wrapped.replays == 0 and not wrapped.enabled


@pytest.mark.skipif(not EAGER, reason="jax and tensorflow compile their loops: no tape")
def test_a_python_argument_that_changes_turns_replay_off():
    count = {"n": 0}

    def body(x):
        count["n"] += 1
        return (ops.add(x, float(count["n"])),)  # a different constant every call

    wrapped = replayable(body)
    out = run_loop(wrapped, 4, np.zeros(2, np.float32))
    np.testing.assert_array_equal(out[-1][0], [10, 10])
    assert wrapped.replays == 0 and not wrapped.enabled


@pytest.mark.skipif(not EAGER, reason="jax and tensorflow compile their loops: no tape")
def test_a_new_input_shape_runs_the_body_as_written():
    wrapped = replayable(lambda x: (ops.multiply(x, 2.0),))
    for _ in range(3):
        (out,) = wrapped(ops.convert_to_tensor(np.ones(2, np.float32)))
    assert wrapped.replays == 1
    (out,) = wrapped(ops.convert_to_tensor(np.ones(3, np.float32)))
    np.testing.assert_array_equal(ops.convert_to_numpy(out), [2, 2, 2])
    assert not wrapped.enabled


@pytest.mark.skipif(not EAGER, reason="jax and tensorflow compile their loops: no tape")
def test_in_place_updates_replay_in_place():
    def body(cache, index):
        row = ops.expand_dims(ops.cast(ops.add(index, 1), "float32"), 0)
        cache = ops.slice_update(cache, [index], row, in_place=True)
        return cache, ops.add(index, 1)

    wrapped = replayable(body)
    out = run_loop(wrapped, 5, np.zeros(5, np.float32), np.int32(0))
    np.testing.assert_array_equal(out[-1][0], [1, 2, 3, 4, 5])
    assert wrapped.replays >= 2


def test_python_leaves_of_the_inputs():
    """Loop inputs may hold Python numbers (compared by value) and other objects (compared by
    identity), beside the tensors."""
    offsets = np.array([1.0, 2.0], np.float32)

    def body(x, step, extra):
        return ops.add(x, ops.multiply(extra, float(step))), step, extra

    wrapped = replayable(body)
    x = ops.convert_to_tensor(np.zeros(2, np.float32))
    for _ in range(4):
        x, step, extra = wrapped(x, 2, offsets)
    np.testing.assert_array_equal(ops.convert_to_numpy(x), [8, 16])
    assert wrapped.replays == (2 if EAGER else 0)
