"""A custom train_step on the torch backend: plain autograd with `loss.backward()`.

    ZOO_BACKEND=torch python examples/custom_train_step_torch.py
"""
import os

os.environ.setdefault("ZOO_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import zoo  # noqa: E402


class CustomModel(zoo.Model):
    def train_step(self, data):
        x, y = data
        # Clear the leftover gradients.
        self.zero_grad()
        # Forward pass and loss.
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred)
        # Backward pass.
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        # Update weights.
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        # Update metrics (includes the metric that tracks the loss).
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value.
        return {m.name: m.result() for m in self.metrics}


def main(epochs=3):
    inputs = zoo.Input(shape=(32,))
    outputs = zoo.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = np.random.random((1000, 32))
    y = np.random.random((1000, 1))
    history = model.fit(x, y, epochs=epochs)
    results = model.evaluate(x, y, return_dict=True)
    print(results)
    return history, results


if __name__ == "__main__":
    main()
