"""ops.replay records through the backend's dispatch point, per thread: two threads recording
at once each tape only their own calls, a third thread's calls are never recorded, and no
recorder is left behind once they are done (zoo/backend/common/dispatch.py)."""
import sys
import threading

import numpy as np
import pytest

import zoo
from zoo import backend, ops
from zoo.backend.common import dispatch
from zoo.ops import replay
from zoo.ops.replay import replayable

BACKEND = zoo.config.backend()
EAGER = BACKEND in ("torch", "numpy")
W = np.arange(12, dtype=np.float32).reshape(3, 4) / 10


def no_recorder_left():
    assert dispatch.current_recorder() is None
    assert dispatch.active_recorders() == {}
    for name in ("core", "numpy", "nn", "math", "image", "random"):  # never swapped
        assert getattr(backend, name) is dispatch.MODULES[name]


def dense_step(kernel, pause=None):
    """A loop body; ``pause()`` runs in its middle (only while it records: a replayed call
    runs the tape, not the body)."""
    def body(x, index):
        h = ops.relu(ops.matmul(ops.reshape(x, (2, 3)), kernel))
        if pause is not None:
            pause()
        x = ops.add(ops.slice(h, [0, 0], (2, 3)), index)
        return ops.reshape(x, (6,)), ops.add(index, 1.0)

    return body


def run_loop(body, steps, x, index):
    state = (ops.convert_to_tensor(x), ops.convert_to_tensor(index))
    for _ in range(steps):
        state = body(*state)
    return [ops.convert_to_numpy(s) for s in state]


def start(seed):
    x = np.random.default_rng(seed).normal(size=6).astype(np.float32)
    return x, np.zeros(1, np.float32)  # (1,): a tensor on every step, one signature


def test_the_dispatch_point_hands_calls_to_the_thread_recorder_only():
    calls = []

    class Spy:
        def call(self, fn, name, args, kwargs):
            calls.append((threading.get_ident(), name))
            return fn(*args, **kwargs)

    other = []
    with dispatch.recording(Spy()) as spy:
        assert dispatch.current_recorder() is spy
        ops.add(np.ones(2, np.float32), 1.0)
        thread = threading.Thread(target=lambda: other.append(
            (dispatch.current_recorder(), ops.add(np.ones(2, np.float32), 1.0))))
        thread.start(), thread.join()
        assert list(dispatch.active_recorders().values()) == [spy]
    assert other[0][0] is None  # the other thread was not recording
    assert calls and {ident for ident, _ in calls} == {threading.get_ident()}
    no_recorder_left()


def test_a_recorder_is_removed_when_the_body_raises():
    def body(x):
        ops.add(x, 1.0)
        raise RuntimeError("in the body")

    wrapped = replayable(body)
    with pytest.raises(RuntimeError, match="in the body"):
        wrapped(ops.convert_to_tensor(np.zeros(2, np.float32)))
    no_recorder_left()


def test_two_threads_record_at_once_and_a_third_is_never_recorded():
    """Threads A and B both record their first two steps at the same time, meeting twice in
    the middle of each recorded call; meanwhile the main thread runs ops of its own. Each
    tape then equals the one a thread recording alone makes, and every result equals the
    plain loop's."""
    kernel = ops.convert_to_tensor(W)
    alone = replayable(dense_step(kernel))
    want = {seed: run_loop(dense_step(kernel), 6, *start(seed)) for seed in (1, 2)}
    assert run_loop(alone, 6, *start(0))  # a tape recorded by one thread, for its length

    meet, resume = threading.Barrier(3, timeout=60), threading.Barrier(3, timeout=60)
    seen_while_recording = []

    def pause():
        meet.wait()
        resume.wait()

    wrapped = {seed: replayable(dense_step(kernel, pause if EAGER else None))
               for seed in (1, 2)}
    got, errors = {}, []

    def work(seed):
        try:
            got[seed] = run_loop(wrapped[seed], 6, *start(seed))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
            meet.abort(), resume.abort()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    if EAGER:
        for _ in range(2):  # the two recorded calls of each thread
            meet.wait()
            mine = ops.multiply(ops.convert_to_tensor(np.ones(3, np.float32)), 2.0)
            seen_while_recording.append((dispatch.current_recorder(),
                                         len(dispatch.active_recorders()),
                                         ops.convert_to_numpy(mine).tolist()))
            resume.wait()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for seed in (1, 2):
        for a, b in zip(got[seed], want[seed]):
            np.testing.assert_array_equal(a, b)
    if EAGER:
        assert seen_while_recording == [(None, 2, [2.0, 2.0, 2.0])] * 2
        for seed in (1, 2):
            assert wrapped[seed].replays == 4
            assert len(wrapped[seed].tape.steps) == len(alone.tape.steps)
    no_recorder_left()


@pytest.mark.skipif(not EAGER, reason="jax and tensorflow compile their loops: no tape")
def test_two_threads_generate_at_once_with_the_tokens_of_one(monkeypatch):
    """Two threads run OPTCausalLM.generate at the same time (each records and replays its
    own steps' tapes, switching threads every few microseconds); both make the tokens of a
    run alone, and afterwards no recorder is active."""
    from zoo.models import OPTBackbone, OPTCausalLM

    zoo.config.set_random_seed(3)
    backbone = OPTBackbone(vocabulary_size=64, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=40, dropout=0.0)
    for variable in backbone.weights:  # order-1 weights: clear argmaxes, varied tokens
        if variable.path.endswith(("kernel", "embeddings")):
            rng = np.random.default_rng(len(variable.path))
            variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    lm = OPTCausalLM(backbone)
    ids = {1: np.array([[2, 40, 41, 42, 43], [2, 50, 51, 1, 1]], np.int32),
           2: np.array([[2, 60, 61, 1, 1]], np.int32)}

    def generate(which):
        prompts = {"token_ids": ids[which], "padding_mask": (ids[which] != 1).astype(np.int32)}
        return lm.generate(prompts, max_new_tokens=8, stop_token_ids=None)["token_ids"]

    alone = {which: generate(which) for which in ids}
    replays = {}
    run = replay._Tape.run

    def counted_run(tape, inputs):
        ident = threading.get_ident()
        replays[ident] = replays.get(ident, 0) + 1
        return run(tape, inputs)

    got, errors = {}, []

    def work(which):
        try:
            for _ in range(3):
                got.setdefault(which, []).append(generate(which))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    monkeypatch.setattr(replay._Tape, "run", counted_run)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads interleave inside each other's recordings
    try:
        threads = [threading.Thread(target=work, args=(which,)) for which in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    for which in ids:
        for tokens in got[which]:
            np.testing.assert_array_equal(tokens, alone[which])
    # (8 new tokens: a prefill, then steps; two recorded, the rest replayed, per generate)
    assert len(replays) == 2 and all(count >= 3 * 3 for count in replays.values())
    no_recorder_left()
    calls = []

    class Spy:  # later calls in this thread reach a recorder only when one is installed
        def call(self, fn, name, args, kwargs):
            calls.append(name)
            return fn(*args, **kwargs)

    generate(2)
    assert calls == []
    with dispatch.recording(Spy()):
        ops.add(np.ones(2, np.float32), 1.0)
    assert "add" in calls
    no_recorder_left()
