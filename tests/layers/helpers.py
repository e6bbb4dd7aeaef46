"""``run_layer_test``: the checks every layer goes through, on the active backend.

    run_layer_test(layers.Dense, {"units": 3}, input_shape=(2, 4),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=2)

checks, in order:
  * lazy build: a layer with trainable weights has none (and is not built) before its first
    call, and the expected numbers (and shapes) of trainable / non-trainable variables after;
  * the eager output's shape (structure) and dtype;
  * get_config -> JSON -> from_config gives the same config, and (weights copied with
    get_weights/set_weights) the same outputs; the same through zoo.saving.(de)serialize;
  * a symbolic call on zoo.Input gives the same shape (batch unknown), and a functional
    model around it, given the weights, gives the same outputs;
  * a weights-file round trip (save_weights -> a model rebuilt from config -> load_weights);
  * stateless_call returns the same outputs;
  * a compiled run: jax.jit over stateless_call, tf.function over the call (torch: eager);
  * mixed_bfloat16: float variables stay float32, float outputs are bfloat16.
"""
import json
import os
import tempfile

import numpy as np

import zoo
from zoo import ops
from zoo.saving import serialization

from tests.conftest import BACKEND
from tests.testing import assert_close, to_numpy  # noqa: F401  (imported from here too)


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [e for v in x for e in _flat(v)]
    return [x]


def _structure_shapes(x):
    if isinstance(x, (list, tuple)):
        return [_structure_shapes(e) for e in x]
    return tuple(x.shape)


def _as_list_shapes(expected):
    """A shape or a list of shapes -> (is_multi, list of shapes)."""
    if isinstance(expected, list) or (isinstance(expected, tuple) and expected
                                       and isinstance(expected[0], (tuple, list))):
        return True, [tuple(s) for s in expected]
    return False, [tuple(expected)]


def make_input(shape, dtype="float32", seed=0):
    rng = np.random.RandomState(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.randint(0, 10, size=shape).astype(dtype)
    return rng.randn(*shape).astype(dtype)


def _call(layer, inputs, positional, kwargs):
    if positional:
        return layer(*inputs, **kwargs)
    return layer(inputs, **kwargs)


def _tensors(data):
    if isinstance(data, list):
        return [ops.convert_to_tensor(d) for d in data]
    return ops.convert_to_tensor(data)


def run_layer_test(layer_cls, init_kwargs=None, input_shape=None, input_data=None,
                   input_dtype="float32", call_kwargs=None, positional=False,
                   expected_output_shape=None, expected_output_dtype="float32",
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_variable_shapes=None, supports_symbolic=True, supports_jit=True,
                   run_mixed_precision_check=True, safe_mode=True, atol=1e-5, rtol=1e-5):
    """Run the standard layer checks (see the module docstring); returns (layer, outputs).

    ``input_data`` (or ``input_shape`` for random data of ``input_dtype``) is one array or a
    list of arrays: a list is passed as one argument (merge layers), or as positional
    arguments when ``positional=True`` (attention: ``layer(query, value)``).
    """
    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    if input_data is None:
        if isinstance(input_shape, list):
            input_data = [make_input(s, input_dtype, i) for i, s in enumerate(input_shape)]
        else:
            input_data = make_input(input_shape, input_dtype)
    arrays = input_data if isinstance(input_data, list) else [input_data]
    inputs = _tensors(input_data)
    if positional and not isinstance(inputs, list):
        inputs = [inputs]

    # -- lazy build and variables ------------------------------------------------------
    layer = layer_cls(**init_kwargs)
    if expected_num_trainable_weights:
        assert not layer.built, f"{layer_cls.__name__} should build lazily on its first call"
        assert not layer.trainable_variables
    outputs = _call(layer, inputs, positional, call_kwargs)
    assert layer.built
    assert len(layer.trainable_variables) == expected_num_trainable_weights, \
        f"trainable: {[v.path for v in layer.trainable_variables]}"
    assert len(layer.non_trainable_variables) == expected_num_non_trainable_weights, \
        f"non-trainable: {[v.path for v in layer.non_trainable_variables]}"
    if expected_variable_shapes is not None:
        assert [v.shape for v in layer.variables] == [tuple(s) for s in expected_variable_shapes]

    # -- eager outputs -------------------------------------------------------------------
    if expected_output_shape is not None:
        multi, shapes = _as_list_shapes(expected_output_shape)
        got = _structure_shapes(outputs)
        assert (got if multi else [got]) == shapes, f"output shape {got}, expected {shapes}"
    if expected_output_dtype is not None:
        for out in _flat(outputs):
            assert ops.dtype(out) == expected_output_dtype, \
                f"output dtype {ops.dtype(out)}, expected {expected_output_dtype}"
    reference = to_numpy(outputs)
    weights = layer.get_weights()

    # -- config round trip ---------------------------------------------------------------
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config, "get_config must be JSON-able"
    revived = layer_cls.from_config(json.loads(json.dumps(config))) if safe_mode else \
        layer_cls.from_config(json.loads(json.dumps(config)), safe_mode=False)
    assert revived.get_config() == config
    _call(revived, inputs, positional, call_kwargs)
    revived.set_weights(weights)
    assert_close(_call(revived, inputs, positional, call_kwargs), reference, atol, rtol,
                 "from_config + set_weights")
    again = serialization.deserialize(json.loads(json.dumps(serialization.serialize(layer))),
                                      safe_mode=safe_mode)
    assert type(again) is layer_cls and again.get_config() == config

    # -- symbolic call, functional model, weights file ----------------------------------
    if supports_symbolic:
        # explicit names: auto-named InputLayers all get "input_layer" (collide in configs)
        sym_inputs = [zoo.Input(shape=a.shape[1:], dtype=str(a.dtype), name=f"input_{i}")
                      for i, a in enumerate(arrays)]
        fresh = layer_cls.from_config(config) if safe_mode else \
            layer_cls.from_config(config, safe_mode=False)
        if positional:
            sym_out = fresh(*sym_inputs, **call_kwargs)
        else:
            sym_out = fresh(sym_inputs if isinstance(input_data, list) else sym_inputs[0],
                            **call_kwargs)
        want = _structure_shapes(outputs)
        got = _structure_shapes(sym_out)
        for g, w in zip(_flat_shapes(got), _flat_shapes(want)):
            assert len(g) == len(w) and all(a is None or a == b for a, b in zip(g, w)), \
                f"symbolic shape {got} vs eager {want}"
        for s, o in zip(_flat(sym_out), _flat(outputs)):
            assert s.dtype == ops.dtype(o), f"symbolic dtype {s.dtype} vs {ops.dtype(o)}"
        fresh.set_weights(weights)
        model_inputs = sym_inputs if len(sym_inputs) > 1 else sym_inputs[0]
        model = zoo.Model(model_inputs, sym_out)
        model_data = inputs if isinstance(inputs, list) and len(sym_inputs) > 1 else \
            (inputs[0] if isinstance(inputs, list) else inputs)
        assert_close(model(model_data), reference, atol, rtol, "functional model")
        _weights_round_trip(model, model_data, reference, atol, rtol, safe_mode)

    # -- stateless_call ------------------------------------------------------------------
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    args = inputs if positional else [inputs]
    stateless_out, new_non_trainable = layer.stateless_call(trainable, non_trainable, *args,
                                                            **call_kwargs)
    assert len(new_non_trainable) == len(non_trainable)
    assert_close(stateless_out, reference, atol, rtol, "stateless_call")

    # -- compiled ------------------------------------------------------------------------
    if supports_jit:
        compiled = _compiled(layer, args, call_kwargs, trainable, non_trainable)
        if compiled is not None:
            assert_close(compiled, reference, max(atol, 1e-4), max(rtol, 1e-4), "compiled")

    # -- mixed precision -----------------------------------------------------------------
    if run_mixed_precision_check and expected_output_dtype == "float32":
        check_mixed_precision(layer_cls, init_kwargs, inputs, positional, call_kwargs)
    return layer, outputs


def _flat_shapes(shapes):
    if isinstance(shapes, list):
        return [s for e in shapes for s in _flat_shapes(e)]
    return [shapes]


def _weights_round_trip(model, data, reference, atol, rtol, safe_mode):
    """save_weights -> a model rebuilt from its config -> load_weights -> same outputs."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "layer.weights.h5")
        model.save_weights(path)
        clone = zoo.Model.from_config(json.loads(json.dumps(model.get_config())),
                                      safe_mode=safe_mode)
        clone.load_weights(path)
        assert_close(clone(data), reference, atol, rtol, "weights file round trip")


def _compiled(layer, args, call_kwargs, trainable, non_trainable):
    if BACKEND == "jax":
        import jax

        @jax.jit
        def run(trainable, non_trainable, args):
            return layer.stateless_call(trainable, non_trainable, *args, **call_kwargs)[0]

        return run(trainable, non_trainable, list(args))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        @tf.function
        def run(args):
            return layer(*args, **call_kwargs)

        return run(list(args))
    if BACKEND == "torch":
        return layer(*args, **call_kwargs)
    return None  # numpy: no compiler


def check_mixed_precision(layer_cls, init_kwargs, inputs, positional, call_kwargs,
                          policy="mixed_bfloat16"):
    """Under a mixed policy float variables are float32 and float outputs the compute dtype."""
    layer = layer_cls(**{**init_kwargs, "dtype": policy})
    outputs = _call(layer, inputs, positional, call_kwargs)
    compute = policy.split("_", 1)[1]
    for v in layer.variables:
        if v.dtype.startswith("float") or v.dtype == "bfloat16":
            assert v.dtype == "float32", f"{v.path} is {v.dtype} under {policy}"
    for out in _flat(outputs):
        dtype = ops.dtype(out)
        if dtype.startswith("float") or dtype == "bfloat16":
            assert dtype == compute, f"output dtype {dtype} under {policy}"
    return layer, outputs
