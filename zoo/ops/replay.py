"""Record once, replay: the body of an eager loop as a flat tape of backend calls.

On the backends that run loops in Python (torch, numpy), one generation step goes through
about 150 layer calls and 500 zoo ops, and every token pays their Python: ``Layer.__call__``,
shape logic, the ops' argument checks and dtype rules. The model code is written to be
traced (``jax.jit`` runs the same loop), so what a step computes is fixed by the shapes of
its inputs. ``replayable(body)`` uses that:

1. the first call runs ``body`` and records every call zoo makes into the backend
   (``backend.numpy.reshape``, ``backend.nn.linear``, ...) with its arguments, each tensor
   that is an input of the call or the output of an earlier backend call replaced by a
   slot; calls the backend makes inside itself are part of the recorded call;
2. the second call records again, and the two tapes must agree: the same functions in the
   same order, equal non-tensor arguments, and the very same objects for every other
   tensor (weights, constants made before the loop);
3. from the third call on, the tape runs: the backend functions on this call's tensors,
   with no layer or op code in between.

Anything the tape cannot show to be fixed switches replay off for good and ``body`` runs as
written: tapes that differ (a Python value, or a tensor made outside the backend calls, that
changed between the two calls), a backend call that returns a non-tensor computed from the
step's tensors (other than its shape or dtype), or a call whose inputs differ in structure,
shape or dtype from the recorded one. Create one wrapper per loop: a tape holds the weights
it read, so it must not outlive them.

Recording goes through the backend's dispatch point (``zoo/backend/common/dispatch.py``):
while a call records, the calling thread's backend calls go to its recorder; other threads'
calls (another generation running beside it) are neither recorded nor slowed, and the
recorder is gone when the call returns or raises. A wrapper called while its thread is
already recording (a replayable inside another's body) runs its body as written, so the
outer tape holds its calls.

On backends that compile their loops (jax, tensorflow), ``replayable(body)`` is ``body``.
"""
import threading

import numpy as np

from zoo import backend
from zoo.backend.common import dispatch, python_loops, tree


class _Slot:
    """A tensor of the current call: an input of the body or the output of a taped call."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


# conversions that hand their input back when it already is what they make: such a call
# leaves no entry on the tape (the input stands for the output)
_CONVERSIONS = frozenset(("convert_to_tensor", "cast"))
# pure functions whose result, from constants only (a weight, a Python number), is a
# constant: computed when recorded, kept by the tape (a kernel's reshaped view, ...)
_FOLDABLE = _CONVERSIONS | frozenset(("reshape", "transpose", "expand_dims", "swapaxes",
                                      "squeeze", "arange"))


class _Recorder:
    """What ``dispatch.recording`` hands this thread's backend calls to while a call
    records: runs each and appends it to ``entries``."""

    def __init__(self, inputs):
        self.slots = {}   # id(tensor) -> slot index
        self.held = []    # the tensors behind the slots: alive, so their ids stay unique
        self.entries = []
        self.fixed = True  # False: the step made a Python value from its own tensors
        self.depth = 0
        self.tensor_inputs = [i for i, leaf in enumerate(inputs) if backend.core.is_tensor(leaf)]
        for i in self.tensor_inputs:
            self._assign(inputs[i])

    def _assign(self, tensor):
        self.slots[id(tensor)] = len(self.held)
        self.held.append(tensor)
        return len(self.held) - 1

    def template(self, x):
        """``x`` with each tensor of this call replaced by its _Slot."""
        slot = self.slots.get(id(x))
        if slot is not None:
            return _Slot(slot)
        kind = type(x)
        if kind is list or kind is tuple:
            return kind(self.template(item) for item in x)
        if kind is dict:
            return {key: self.template(value) for key, value in x.items()}
        return x

    def call(self, fn, name, args, kwargs):
        if self.depth:  # a backend function calling another through zoo.backend
            return fn(*args, **kwargs)
        args_t, kwargs_t = self.template(args), self.template(kwargs)
        self.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        out = _own(out)
        if name in _CONVERSIONS and id(out) in self.slots:
            return out  # handed its (already converted) input back
        fold = name in _FOLDABLE and not (_has_slot(args_t) or _has_slot(kwargs_t))
        self.entries.append((fn, args_t, kwargs_t, self._output_spec(out, args_t, kwargs_t),
                             fold))
        return out

    def _output_spec(self, out, args_t, kwargs_t):
        """Slot indices for the tensors of ``out`` (a tensor or a tuple/list of them)."""
        if backend.core.is_tensor(out):
            return self._assign(out)
        if type(out) in (list, tuple):
            return type(out)(self._output_spec(item, args_t, kwargs_t) for item in out)
        if _has_slot(args_t) or _has_slot(kwargs_t):
            self.fixed = False  # a Python value computed from the step's own tensors
        return None


def _own(out):
    """``out``, as an object of its own: NumPy's ``np.True_`` and ``np.False_`` are shared
    by every result with that value, so two unrelated results (``any(x)``, ``y == 0``)
    could be the same object, and the tape, which follows tensors by identity, would read
    one for the other. Such a result becomes a 0-d array (on the tape as when recorded)."""
    return np.array(out) if type(out) is np.bool_ else out


def _has_slot(template):
    if type(template) is _Slot:
        return True
    if type(template) in (list, tuple):
        return any(_has_slot(item) for item in template)
    if type(template) is dict:
        return any(_has_slot(item) for item in template.values())
    return False


def _fill(template, values):
    kind = type(template)
    if kind is _Slot:
        return values[template.index]
    if kind is list or kind is tuple:
        return kind(_fill(item, values) for item in template)
    if kind is dict:
        return {key: _fill(value, values) for key, value in template.items()}
    return template


def _store(spec, out, values):
    if type(spec) is int:
        values[spec] = out
    elif spec is not None:
        for item_spec, item in zip(spec, out):
            _store(item_spec, item, values)


def _same(a, b):
    """Two templates agree: slots by index, tensors by identity, the rest by value."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is _Slot:
        return a.index == b.index
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if kind is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if backend.core.is_tensor(a) or isinstance(a, np.ndarray):
        return a is b
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an object without a plain equality: only itself
        return a is b


class _Tape:
    """A recorded body, ready to run: per backend call (fn, args, kwargs, output spec), with
    the arguments pre-split into constants and the positions that take this call's tensors;
    folded calls' results are in ``initial``."""

    def __init__(self, recorder, outputs):
        self.initial = [None] * len(recorder.held)
        self.tensor_inputs = recorder.tensor_inputs
        self.steps = []
        for fn, args, kwargs, spec, fold in recorder.entries:
            if fold:
                self.initial[spec] = recorder.held[spec]
            else:
                self.steps.append((fn, args, *_split(args), kwargs, *_split(kwargs), spec))
        leaves, self.treedef = tree.flatten(outputs)
        self.outputs = [recorder.template(leaf) for leaf in leaves]

    def run(self, inputs):
        values = list(self.initial)
        values[:len(self.tensor_inputs)] = [inputs[i] for i in self.tensor_inputs]
        for fn, args, args_slots, args_nested, kwargs, kwargs_slots, kwargs_nested, spec \
                in self.steps:
            if args_slots or args_nested:
                args = _filled(list(args), args_slots, args_nested, values)
            if kwargs_slots or kwargs_nested:
                kwargs = _filled(dict(kwargs), kwargs_slots, kwargs_nested, values)
            if type(spec) is int:
                values[spec] = _own(fn(*args, **kwargs))
            else:
                _store(spec, fn(*args, **kwargs), values)
        return tree.unflatten(self.treedef, [_fill(t, values) for t in self.outputs])


def _filled(copy, slots, nested, values):
    """A copy of an entry's args (list) or kwargs (dict) given this call's tensors."""
    for key, index in slots:
        copy[key] = values[index]
    for key, template in nested:
        copy[key] = _fill(template, values)
    return copy


def _split(template):
    """-> (((position or key, slot index), ...) for the items that are a slot,
    ((position or key, sub-template), ...) for the containers that hold one)."""
    items = list(template.items() if type(template) is dict else enumerate(template))
    return (tuple((key, item.index) for key, item in items if type(item) is _Slot),
            tuple((key, item) for key, item in items
                  if type(item) is not _Slot and _has_slot(item)))


def _signature(leaves):
    """Tensors by type, shape and dtype; Python scalars by value; anything else by identity."""
    return tuple((type(x), tuple(x.shape), str(x.dtype)) if backend.core.is_tensor(x)
                 else x if isinstance(x, (bool, int, float, str, type(None)))
                 else (type(x), id(x)) for x in leaves)


_RESTARTS = 2  # input signatures a loop may change to before replay gives up


def _runs_python_loops():
    return dispatch.raw(backend.core.while_loop) is python_loops.while_loop


class replayable:  # noqa: N801 - used like a function: body = replayable(body)
    """``body`` recorded on its first two calls and replayed from the third (see the module
    docstring); ``.replays`` counts the calls the tape ran."""

    def __init__(self, body):
        self.body = body
        self.enabled = _runs_python_loops()
        self.recorded = []  # (recorder, outputs) of calls 1 and 2
        self.tape = None
        self.signature = None
        self.restarts = 0
        self.replays = 0
        self._lock = threading.Lock()  # (a wrapper shared by threads records consistently)

    def __call__(self, *args):
        if not self.enabled or dispatch.current_recorder() is not None:
            return self.body(*args)
        leaves, treedef = tree.flatten(args)
        signature = (treedef, _signature(leaves))
        if signature != self.signature:
            if self.tape is not None or self.restarts == _RESTARTS:
                self.enabled = False  # the loop's inputs keep changing: run as written
                return self.body(*args)
            if self.signature is not None:
                self.restarts += 1  # e.g. numpy: a 0-d array first, a scalar after
            self.signature, self.recorded = signature, []
        if self.tape is not None:
            self.replays += 1
            return self.tape.run(leaves)
        return self._record(args, leaves)

    def _record(self, args, leaves):
        recorder = _Recorder(leaves)
        with dispatch.recording(recorder):
            outputs = self.body(*args)
        with self._lock:
            if not recorder.fixed:
                self.enabled = False
                return outputs
            self.recorded.append((recorder, outputs))
            if len(self.recorded) == 2:
                (first, first_outputs), (second, second_outputs) = self.recorded
                self.recorded = []
                if _tapes_agree(first, first_outputs, second, second_outputs):
                    self.tape = _Tape(second, second_outputs)
                else:
                    self.enabled = False
        return outputs


def _tapes_agree(first, first_outputs, second, outputs):
    if len(first.entries) != len(second.entries) or len(first.held) != len(second.held):
        return False
    for (fn_a, args_a, kwargs_a, spec_a, _), (fn_b, args_b, kwargs_b, spec_b, _) in \
            zip(first.entries, second.entries):
        if fn_a is not fn_b or spec_a != spec_b or not _same(args_a, args_b) \
                or not _same(kwargs_a, kwargs_b):
            return False
    # the outputs must come from the tape (or be inputs), not from Python beside it
    leaves, _ = tree.flatten(outputs)
    return all(id(leaf) in second.slots for leaf in leaves if backend.core.is_tensor(leaf)) \
        and _same(first.template(first_outputs), second.template(outputs))
