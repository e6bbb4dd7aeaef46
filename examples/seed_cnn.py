"""The seed's image classifier (Conv2D, BatchNormalization, Dropout, GlobalAveragePooling2D,
Dense on 32x32x3 inputs), trained with the universal loop on any backend.

    ZOO_BACKEND=torch python examples/seed_cnn.py
"""
import numpy as np

import zoo


def build_model(dropout=0.25, filters=(32, 64, 128), num_classes=10):
    conv2d_kwargs = {"kernel_size": (3, 3), "activation": "relu", "padding": "same"}
    inputs = zoo.Input(shape=(32, 32, 3), name="input_layer")
    x = inputs
    for f in filters:
        x = zoo.layers.Conv2D(filters=f, **conv2d_kwargs)(x)
        x = zoo.layers.BatchNormalization()(x)
        x = zoo.layers.Conv2D(filters=f, strides=(2, 2), **conv2d_kwargs)(x)
        x = zoo.layers.BatchNormalization()(x)
        if dropout:
            x = zoo.layers.Dropout(dropout)(x)
    x = zoo.layers.GlobalAveragePooling2D()(x)
    x = zoo.layers.Dense(128, activation="relu")(x)
    if dropout:
        x = zoo.layers.Dropout(dropout)(x)
    outputs = zoo.layers.Dense(num_classes, activation="softmax", name="output_layer")(x)
    return zoo.Model(inputs, outputs)


def toy_data(n=256, num_classes=10, seed=0):
    """Images whose class is written in the mean colour: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, n)
    x = rng.normal(0, 0.3, (n, 32, 32, 3)).astype("float32")
    x[..., 0] += (y / num_classes)[:, None, None]
    return x, y.astype("int32")


def main(epochs=3):
    zoo.config.set_random_seed(0)
    x, y = toy_data()
    model = build_model(filters=(8, 16, 32))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.2)
    print(model.evaluate(x, y, return_dict=True, verbose=0))
    model.save("seed_cnn.zoo")


if __name__ == "__main__":
    main()
