"""The model of the cross-backend saving test, and the script that saves it.

``python -c "from tests.saving.cross_backend_model import save_all; save_all(dir)"`` with
``ZOO_BACKEND=B`` builds the model under backend B, gives every variable a value fixed by
its path, and writes into ``dir``:

    model.weights.h5     save_weights
    model.zoo            save
    bf16.weights.h5      a small bfloat16 model's weights (checked bit for bit)
    outputs.npz          the model's outputs on INPUTS (NumPy arrays, no pickle)

The loading side builds the same architecture with fresh (random) values, loads, and
compares. Layer types beyond Dense are added when ``zoo.layers`` has them.
"""
import os
import sys

import numpy as np


def inputs():
    features = np.linspace(-1.0, 1.0, 2 * 8, dtype="float32").reshape(2, 8)
    tokens = (np.arange(2 * 5, dtype="int32").reshape(2, 5) * 3) % 11
    image = np.linspace(-1.0, 1.0, 2 * 6 * 6 * 3, dtype="float32").reshape(2, 6, 6, 3)
    return {"features": features, "tokens": tokens, "image": image}


def build_model():
    import zoo
    from zoo import layers

    ins = {"features": zoo.Input((8,), name="features")}
    outs = {}
    h = layers.Dense(16, name="dense_in")(ins["features"])
    if hasattr(layers, "LayerNormalization"):
        h = layers.LayerNormalization(name="norm")(h)
    if hasattr(layers, "EinsumDense"):
        h = layers.EinsumDense("ab,bc->ac", output_shape=(12,), bias_axes="c", name="einsum")(h)
    outs["dense"] = layers.Dense(4, name="dense_out")(h)
    if hasattr(layers, "Embedding"):
        ins["tokens"] = zoo.Input((5,), dtype="int32", name="tokens")
        outs["embedding"] = layers.Embedding(11, 6, name="embedding")(ins["tokens"])
    if hasattr(layers, "Conv2D"):
        ins["image"] = zoo.Input((6, 6, 3), name="image")
        x = layers.Conv2D(4, 3, padding="same", name="conv")(ins["image"])
        if hasattr(layers, "BatchNormalization"):
            x = layers.BatchNormalization(name="batch_norm")(x)
        outs["conv"] = x
    return zoo.Model(ins, outs, name="cross_backend")


def model_inputs(model):
    data = inputs()
    return {name: data[name] for name in model._inputs_struct}


def build_bf16_model():
    import zoo
    from zoo import layers

    return zoo.Sequential([zoo.Input((4,)), layers.Dense(3, dtype="bfloat16", name="d")],
                          name="bf16")


def run(model, data):
    from zoo import ops

    outputs = model(data)
    return {name: np.asarray(ops.convert_to_numpy(value)) for name, value in outputs.items()}


def save_all(directory):
    from tests.saving.helpers import fill

    model = fill(build_model(), seed=1)
    outputs = run(model, model_inputs(model))
    model.save_weights(os.path.join(directory, "model.weights.h5"))
    model.save(os.path.join(directory, "model.zoo"))
    fill(build_bf16_model(), seed=2).save_weights(os.path.join(directory, "bf16.weights.h5"))
    np.savez(os.path.join(directory, "outputs.npz"), **outputs)
    for name, value in sorted(outputs.items()):
        print(name, value.shape, float(np.abs(value).sum()))
    return outputs


if __name__ == "__main__":
    save_all(sys.argv[1])
