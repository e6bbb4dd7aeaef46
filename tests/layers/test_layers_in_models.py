"""The layers composed into Sequential and functional models (configs, weights, training flag)."""
import json
import os

import numpy as np

import zoo
from zoo import layers, ops

from tests.layers.helpers import assert_close, to_numpy

IMAGES = np.random.RandomState(12).randn(2, 8, 8, 3).astype("float32")


def small_cnn():
    return zoo.Sequential([
        zoo.Input((8, 8, 3)),
        layers.Rescaling(0.5),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.DepthwiseConv2D(3),
        layers.ZeroPadding2D(1),
        layers.UpSampling2D(),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.2, seed=0),
        layers.Dense(3, activation="softmax"),
    ])


def test_sequential_cnn_config_and_weights(tmp_path):
    model = small_cnn()
    out = model(IMAGES)
    assert tuple(out.shape) == (2, 3)
    np.testing.assert_allclose(to_numpy(out).sum(-1), 1.0, rtol=1e-5)
    clone = zoo.Sequential.from_config(json.loads(json.dumps(model.get_config())))
    path = os.path.join(tmp_path, "cnn.weights.h5")
    model.save_weights(path)
    clone.load_weights(path)
    assert_close(clone(IMAGES), out, atol=1e-5)
    # the training flag reaches BatchNormalization and Dropout inside the model
    bn = model.layers[2]
    before = bn.moving_mean.numpy().copy()
    model(IMAGES, training=True)
    assert not np.allclose(bn.moving_mean.numpy(), before)


def transformer_block(seq=6, hidden=8):
    inputs = zoo.Input((seq, hidden), name="tokens")
    attention = layers.MultiHeadAttention(2, hidden // 2, name="attention")
    x = layers.Add()([inputs, attention(inputs, inputs, use_causal_mask=True)])
    x = layers.LayerNormalization(name="norm")(x)
    h = layers.Dense(16, activation="gelu")(x)
    x = layers.LayerNormalization(name="norm_2")(layers.Add()([x, layers.Dense(hidden)(h)]))
    return zoo.Model(inputs, x, name="block")


def test_functional_transformer_block_round_trip(tmp_path):
    model = transformer_block()
    x = np.random.RandomState(0).randn(2, 6, 8).astype("float32")
    out = model(x)
    paths = [v.path for v in model.variables]
    assert "attention/query/kernel" in paths and "attention/attention_output/bias" in paths
    clone = zoo.Model.from_config(json.loads(json.dumps(model.get_config())))
    path = os.path.join(tmp_path, "block.weights.h5")
    model.save_weights(path)
    clone.load_weights(path)
    assert_close(clone(x), out, atol=1e-5)
    # causal: changing the last step leaves earlier outputs unchanged
    x2 = x.copy()
    x2[:, -1] += 1.0
    assert_close(to_numpy(model(x2))[:, :-1], to_numpy(out)[:, :-1], atol=1e-5)


def test_stateless_call_of_model_with_dropout_and_batchnorm():
    model = small_cnn()
    model(IMAGES)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    # BN moving stats (2) and the dropout seed state (1)
    assert len(non_trainable) == 3
    out, new = model.stateless_call(trainable, non_trainable, IMAGES, training=True)
    assert tuple(out.shape) == (2, 3) and len(new) == 3
    assert not np.allclose(to_numpy(new[0]), to_numpy(non_trainable[0]))
    assert ops.dtype(new[2]) == "int32"
