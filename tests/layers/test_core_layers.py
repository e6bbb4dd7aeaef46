"""Dense, EinsumDense, Embedding, Activation, Softmax, Identity, Lambda, Rescaling."""
import json

import numpy as np
import pytest

import zoo
from zoo import layers, ops
from zoo.saving import serialization

from tests.layers.helpers import assert_close, run_layer_test, to_numpy

X = np.random.RandomState(1).randn(2, 3, 4).astype("float32")


# -- Dense ---------------------------------------------------------------------------------

def test_dense():
    layer, out = run_layer_test(layers.Dense, {"units": 5, "activation": "relu"},
                                input_shape=(2, 3, 4), expected_output_shape=(2, 3, 5),
                                expected_num_trainable_weights=2,
                                expected_variable_shapes=[(4, 5), (5,)])
    kernel, bias = layer.get_weights()
    x = np.random.RandomState(0).randn(2, 3, 4).astype("float32")
    assert_close(out, np.maximum(x @ kernel + bias, 0))


def test_dense_no_bias():
    run_layer_test(layers.Dense, {"units": 3, "use_bias": False}, input_shape=(2, 4),
                   expected_output_shape=(2, 3), expected_num_trainable_weights=1)


def test_dense_wrong_last_dimension_names_layer_and_shapes():
    layer = layers.Dense(3, name="proj")
    layer(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError) as info:
        layer(np.zeros((2, 5), "float32"))
    message = str(info.value)
    assert "proj" in message and "4" in message and "(2, 5)" in message


def test_dense_unknown_last_dimension():
    with pytest.raises(ValueError, match="last input dimension"):
        layers.Dense(3)(zoo.Input(batch_shape=(None, None)))


def test_dense_activation_by_function_serializes_by_name():
    layer = layers.Dense(2, activation=ops.gelu)
    assert layer.get_config()["activation"] == "gelu"
    with pytest.raises(ValueError, match="cannot be serialized"):
        layers.Dense(2, activation=lambda x: x).get_config()


def test_unknown_activation_and_initializer():
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Dense(2, activation="nope")
    with pytest.raises(ValueError, match="Unknown initializer"):
        layers.Dense(2, kernel_initializer="nope")


# -- EinsumDense ---------------------------------------------------------------------------

@pytest.mark.parametrize("equation,output_shape,bias_axes,input_shape,out_shape,shapes", [
    ("ab,bc->ac", 6, "c", (2, 4), (2, 6), [(4, 6), (6,)]),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 5, 4), (2, 5, 2, 3), [(4, 2, 3), (2, 3)]),
    ("abcd,cde->abe", (None, 7), "e", (2, 5, 2, 3), (2, 5, 7), [(2, 3, 7), (7,)]),
    ("...b,bc->...c", 6, "c", (2, 3, 4), (2, 3, 6), [(4, 6), (6,)]),
    ("ab...,bc->ac...", (6,), "c", (2, 4, 3), (2, 6, 3), [(4, 6), (6, 1)]),
    ("abc,cd->abd", (5, 6), None, (2, 5, 4), (2, 5, 6), [(4, 6)]),
])
def test_einsum_dense(equation, output_shape, bias_axes, input_shape, out_shape, shapes):
    layer, out = run_layer_test(
        layers.EinsumDense, {"equation": equation, "output_shape": output_shape,
                             "bias_axes": bias_axes},
        input_shape=input_shape, expected_output_shape=out_shape,
        expected_num_trainable_weights=len(shapes), expected_variable_shapes=shapes)
    x = np.random.RandomState(0).randn(*input_shape).astype("float32")
    weights = layer.get_weights()
    want = np.einsum(equation, x, weights[0])
    if bias_axes:
        want = want + weights[1]
    assert_close(out, want, atol=1e-4)


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match="cannot parse"):
        layers.EinsumDense("ab->b", 3)
    with pytest.raises(ValueError, match="output_shape"):
        layers.EinsumDense("ab,bc->ac", (3, 4))(X[0])
    with pytest.raises(ValueError, match="bias axis"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="x")(X[0])
    with pytest.raises(ValueError, match="output_shape but 3"):
        layers.EinsumDense("abc,cd->abd", (5, 6))(X)


# -- kernels in the product layout (Variable.set_product_layout) ------------------------------

@pytest.mark.parametrize("rows", [1, 8, 64, 65, 300])
def test_kernels_in_product_layout_compute_the_same(rows):
    # NumPy stores these kernels (out, in) and multiplies up to 64 rows kernel-first; more
    # rows take the (rows, in) @ (in, out) form over the same memory
    rng = np.random.RandomState(rows)
    x = rng.randn(rows, 12).astype("float32")
    dense = layers.Dense(7)
    query = layers.EinsumDense("bd,dnh->bnh", output_shape=(3, 4), bias_axes="nh")
    output = layers.EinsumDense("bnh,nhd->bd", output_shape=5, bias_axes="d")
    got_dense, got_query = to_numpy(dense(x)), to_numpy(query(x))
    got_output = to_numpy(output(ops.convert_to_tensor(got_query)))
    kernel, bias = dense.get_weights()
    assert_close(got_dense, x @ kernel + bias, atol=1e-5)
    kernel, bias = query.get_weights()
    assert_close(got_query, np.einsum("bd,dnh->bnh", x, kernel) + bias, atol=1e-5)
    kernel, bias = output.get_weights()
    assert_close(got_output, np.einsum("bnh,nhd->bd", got_query, kernel) + bias, atol=1e-5)


def test_product_layout_keeps_values_through_assign_and_save(tmp_path):
    layer = layers.EinsumDense("bnh,nhd->bd", output_shape=5, bias_axes="d")
    layer.build((None, 3, 4))
    values = np.arange(60, dtype="float32").reshape(3, 4, 5)
    layer.kernel.assign(values)
    np.testing.assert_array_equal(layer.kernel.numpy(), values)
    assert layer.kernel.numpy().flags.c_contiguous and layer.get_weights()[0].flags.c_contiguous
    model = zoo.Sequential([zoo.Input((3, 4)), layer])
    model.save_weights(tmp_path / "m.weights.h5")
    layer.kernel.assign(np.zeros_like(values))
    model.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(layer.kernel.numpy(), values)
    if zoo.config.backend() == "numpy":  # the contracted axes (n, h) are fastest in memory
        stored = layer.kernel.value
        assert np.transpose(stored, (2, 0, 1)).flags.c_contiguous
        assert np.reshape(stored, (12, 5)).flags.f_contiguous


def test_product_layout_names_the_variable_when_axes_are_wrong():
    layer = layers.Dense(3)
    layer.build((None, 4))
    with pytest.raises(ValueError, match="dense.*kernel.*contracted_axes"):
        layer.kernel.set_product_layout(2)


# -- Embedding -----------------------------------------------------------------------------

IDS = np.array([[1, 2, 0], [9, 4, 4]], dtype="int32")


def test_embedding():
    layer, out = run_layer_test(layers.Embedding, {"input_dim": 10, "output_dim": 3},
                                input_data=IDS, expected_output_shape=(2, 3, 3),
                                expected_num_trainable_weights=1,
                                expected_variable_shapes=[(10, 3)])
    table = layer.get_weights()[0]
    assert np.all(np.abs(table) <= 0.05)  # "uniform": RandomUniform(-0.05, 0.05)
    assert_close(out, table[IDS])
    assert layer.embeddings.path.endswith("embeddings")


def test_embedding_reverse_projects_with_transposed_table():
    layer = layers.Embedding(10, 3)
    layer(IDS)
    hidden = np.random.RandomState(0).randn(2, 3, 3).astype("float32")
    logits = layer(hidden, reverse=True)
    assert tuple(logits.shape) == (2, 3, 10)
    assert_close(logits, hidden @ layer.get_weights()[0].T, atol=1e-5)
    # symbolic, in a functional tied LM head
    ids = zoo.Input((3,), dtype="int32")
    logits = layer(layer(ids), reverse=True)
    assert logits.shape == (None, 3, 10)
    model = zoo.Model(ids, logits)
    assert len(model.variables) == 1
    table = layer.get_weights()[0]
    assert_close(model(IDS), table[IDS] @ table.T, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 1, 3), (8, 1, 3), (2, 3, 3), (4, 5, 3), (40, 3)])
def test_embedding_reverse_few_and_many_rows(shape):
    """A decode step's few rows (<= 16) take the table-times-rows product, more rows the
    rows-times-table one: both are hidden @ table.T, in value and in gradient."""
    layer = layers.Embedding(10, 3)
    layer.build()
    table = layer.get_weights()[0]
    hidden = np.random.RandomState(2).randn(*shape).astype("float32")
    logits = layer(hidden, reverse=True)
    assert tuple(logits.shape) == shape[:-1] + (10,)
    assert_close(logits, hidden @ table.T, atol=1e-5)
    if zoo.config.backend() == "numpy":
        return
    from tests.autodiff import grad

    def head(h, t):
        return layer.stateless_call([t], [], h, reverse=True)[0]

    weights = np.random.RandomState(3).randn(*shape[:-1], 10).astype("float32")
    d_hidden, d_table = grad(lambda h, t: ops.multiply(head(h, t), weights), [hidden, table])
    flat_w, flat_h = weights.reshape(-1, 10), hidden.reshape(-1, 3)
    assert_close(d_hidden, (flat_w @ table).reshape(shape), atol=1e-4)
    assert_close(d_table, flat_w.T @ flat_h, atol=1e-4)


def test_embedding_int64_and_float_ids():
    layer = layers.Embedding(10, 2)
    a = layer(IDS.astype("int64"))
    b = layer(IDS.astype("float32"))
    assert_close(a, b)


def test_embedding_compute_mask():
    layer = layers.Embedding(10, 2, mask_zero=True)
    np.testing.assert_array_equal(to_numpy(layer.compute_mask(ops.convert_to_tensor(IDS))),
                                  IDS != 0)
    assert layers.Embedding(10, 2).compute_mask(IDS) is None


# -- variable-free layers ------------------------------------------------------------------

def test_activation():
    _, out = run_layer_test(layers.Activation, {"activation": "gelu"}, input_data=X,
                            expected_output_shape=(2, 3, 4))
    from math import erf

    want = X * 0.5 * (1 + np.vectorize(erf)(X / np.sqrt(2)))
    assert_close(out, want, atol=1e-5)
    run_layer_test(layers.Activation, {"activation": "linear"}, input_data=X,
                   expected_output_shape=(2, 3, 4))


def test_softmax_with_mask():
    _, out = run_layer_test(layers.Softmax, {"axis": -1}, input_data=X,
                            expected_output_shape=(2, 3, 4))
    e = np.exp(X - X.max(-1, keepdims=True))
    assert_close(out, e / e.sum(-1, keepdims=True))
    mask = np.array([True, True, False, True])
    masked = to_numpy(layers.Softmax()(X, mask=np.broadcast_to(mask, X.shape)))
    assert np.all(masked[..., 2] < 1e-6)
    np.testing.assert_allclose(masked.sum(-1), 1.0, rtol=1e-5)


def test_identity():
    _, out = run_layer_test(layers.Identity, {}, input_data=X, expected_output_shape=(2, 3, 4))
    assert_close(out, X)


def test_rescaling():
    _, out = run_layer_test(layers.Rescaling, {"scale": 1 / 255, "offset": -0.5},
                            input_shape=(2, 4, 4, 3), expected_output_shape=(2, 4, 4, 3))
    pixels = np.arange(24, dtype="uint8").reshape(2, 2, 2, 3)
    out = layers.Rescaling(1 / 255)(pixels)
    assert ops.dtype(out) == "float32"
    assert_close(out, pixels / 255.0, atol=1e-6)
    per_channel = layers.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, 2.0])
    assert_close(per_channel(np.ones((1, 3), "float32")), np.array([[1.0, 3.0, 5.0]]))
    assert per_channel.get_config()["scale"] == [1.0, 2.0, 3.0]


# -- Lambda --------------------------------------------------------------------------------

def test_lambda():
    run_layer_test(layers.Lambda, {"function": lambda x: ops.add(ops.multiply(x, 2.0), 1.0)},
                   input_data=X, expected_output_shape=(2, 3, 4), safe_mode=False)


def test_lambda_uses_ops_and_output_shape():
    layer = layers.Lambda(lambda x: ops.reshape(x, (-1, 12)), output_shape=(12,))
    inputs = zoo.Input((3, 4))
    out = layer(inputs)
    assert out.shape == (None, 12)
    model = zoo.Model(inputs, out)
    assert_close(model(X), X.reshape(2, 12))
    config = layer.get_config()
    revived = layers.Lambda.from_config(json.loads(json.dumps(config)), safe_mode=False)
    assert_close(revived(X), X.reshape(2, 12))  # `ops` resolves after loading
    assert revived.output_shape == (12,)


def test_lambda_arguments():
    layer = layers.Lambda(lambda x, factor: x * factor, arguments={"factor": 3.0})
    assert_close(layer(X), X * 3)
    revived = layers.Lambda.from_config(layer.get_config(), safe_mode=False)
    assert_close(revived(X), X * 3)


def test_lambda_refuses_code_in_safe_mode():
    config = layers.Lambda(lambda x: x + 1).get_config()
    with pytest.raises(ValueError, match="safe_mode"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode"):
        serialization.deserialize({"class_name": "Lambda", "config": config})
    inputs = zoo.Input((4,))
    model = zoo.Model(inputs, layers.Lambda(lambda x: x + 1)(inputs))
    with pytest.raises(ValueError, match="safe_mode"):
        zoo.Model.from_config(model.get_config())
    revived = zoo.Model.from_config(model.get_config(), safe_mode=False)
    assert_close(revived(X[0]), X[0] + 1)


# -- dtype policies ------------------------------------------------------------------------

def test_mixed_bfloat16_dense_variables_float32_outputs_bfloat16():
    layer = layers.Dense(3, dtype="mixed_bfloat16")
    out = layer(ops.convert_to_tensor(X))
    assert layer.kernel.dtype == "float32" and layer.bias.dtype == "float32"
    assert ops.dtype(out) == "bfloat16"
    assert layer.get_config()["dtype"] == "mixed_bfloat16"
    ref = X @ layer.get_weights()[0] + layer.get_weights()[1]
    assert_close(to_numpy(out).astype("float32"), ref, atol=5e-2, rtol=5e-2)


def test_bfloat16_policy_variables_bfloat16():
    layer = layers.Dense(3, dtype="bfloat16")
    out = layer(ops.convert_to_tensor(X))
    assert layer.kernel.dtype == "bfloat16" and ops.dtype(out) == "bfloat16"
