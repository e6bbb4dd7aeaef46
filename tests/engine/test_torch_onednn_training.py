"""torch: dense products that need gradients may run through oneDNN
(zoo/backend/torch/accel/onednn_training.py): the same values and gradients as the plain
products, second derivatives through create_graph, and the way chosen per shape by one
timing, or pinned by zoo.config (``onednn_training="on"`` / ``"off"``, nothing timed)."""
import numpy as np
import pytest

import zoo
from zoo import layers

from tests.conftest import BACKEND

if BACKEND != "torch":
    pytest.skip("the torch backend's oneDNN training products", allow_module_level=True)

import torch  # noqa: E402

from zoo.backend.torch import nn  # noqa: E402
from zoo.backend.torch.accel import kernels, onednn_training  # noqa: E402

pytestmark = pytest.mark.skipif(not onednn_training.AVAILABLE, reason="torch without oneDNN")


@pytest.fixture(autouse=True)
def settings_kept():
    """The settings before a test come back after it."""
    before = zoo.config.torch_acceleration()
    yield
    zoo.config.set_torch_acceleration(kernel=before.kernel,
                                      onednn_training=before.onednn_training)


@pytest.fixture
def chosen(monkeypatch):
    """Every shape takes oneDNN, whatever this CPU prefers: pinned (products without
    gradients plain), and nothing timed."""
    def no_timing(call):
        raise AssertionError("a pinned setting timed a product")

    monkeypatch.setattr(kernels, "best_seconds", no_timing)
    zoo.config.set_torch_acceleration(kernel="plain", onednn_training="on")


def tensors(shape, in_dim=24, out_dim=10, bias=True, seed=0):
    """x, kernel and bias; the kernel and bias are Parameters, as variables' values are."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, in_dim, generator=g, requires_grad=True)
    kernel = torch.nn.Parameter(torch.randn(in_dim, out_dim, generator=g))
    b = torch.nn.Parameter(torch.randn(out_dim, generator=g)) if bias else None
    return x, kernel, b


def gradients(out, inputs):
    weights = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    return torch.autograd.grad((out * weights).sum(), [t for t in inputs if t is not None])


@pytest.mark.parametrize("shape, bias", [((96,), True), ((4, 32), True), ((2, 40), False)])
def test_values_and_gradients_match_the_plain_product(chosen, shape, bias):
    x, kernel, b = tensors(shape, bias=bias)
    out = nn.linear(x, kernel, b)
    assert "OneDNNLinear" in type(out.grad_fn.next_functions[0][0]).__name__
    plain = x @ kernel + (b if b is not None else 0)
    torch.testing.assert_close(out, plain, rtol=1e-5, atol=1e-5)
    for got, want in zip(gradients(out, (x, kernel, b)), gradients(plain, (x, kernel, b))):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_second_derivatives_run_through_differentiable_products(chosen):
    x, kernel, b = tensors((80,))
    grad_x, = torch.autograd.grad((nn.linear(x, kernel, b) ** 2).sum(), x, create_graph=True)
    want_x, = torch.autograd.grad(((x @ kernel + b) ** 2).sum(), x, create_graph=True)
    torch.testing.assert_close(grad_x, want_x, rtol=1e-5, atol=1e-4)
    got = torch.autograd.grad(grad_x.square().sum(), kernel)[0]
    want = torch.autograd.grad(want_x.square().sum(), kernel)[0]
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("case", ["few rows", "no gradient", "float64"])
def test_plain_products_where_onednn_does_not_apply(chosen, case):
    x, kernel, b = tensors((onednn_training.MIN_ROWS - 1,) if case == "few rows" else (96,))
    if case == "float64":
        x, kernel, b = (torch.nn.Parameter(t.detach().double()) for t in (x, kernel, b))
    if case == "no gradient":
        x, kernel, b = (t.detach() for t in (x, kernel, b))
    assert onednn_training.linear(x, kernel, b) is None


def test_the_choice_is_timed_once_per_shape(monkeypatch):
    monkeypatch.setattr(onednn_training, "_faster", {})
    timed = []

    def best_seconds(call):
        timed.append(call.__name__)
        return {"plain": 1.0, "onednn": 2.0}[call.__name__]

    monkeypatch.setattr(kernels, "best_seconds", best_seconds)
    zoo.config.set_torch_acceleration(onednn_training="auto")
    x, kernel, b = tensors((96,))
    for _ in range(3):
        assert onednn_training.linear(x, kernel, b) is None  # plain was the faster
    assert sorted(timed) == ["onednn", "plain"]
    assert onednn_training.timed_shapes() == {(128, 24, 10): False}


def test_a_dense_model_trains_the_same_through_onednn(chosen, monkeypatch):
    applied = []
    apply = onednn_training.OneDNNLinear.apply
    monkeypatch.setattr(onednn_training.OneDNNLinear, "apply",
                        lambda *args: applied.append(1) or apply(*args))

    def train():
        zoo.config.set_random_seed(0)
        inputs = zoo.Input((12,))
        hidden = layers.Dense(16, activation="gelu")(inputs)
        model = zoo.Model(inputs, layers.Dense(3)(hidden))
        model.compile(optimizer=zoo.optimizers.AdamW(0.01), loss="mse")
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(128, 12)).astype("float32"), rng.normal(size=(128, 3))
        history = model.fit(x, y.astype("float32"), batch_size=64, epochs=3, verbose=0)
        return history.history["loss"], model.predict(x, verbose=0)

    losses, predictions = train()
    assert len(applied) == 2 * 2 * 3  # two layers, two batches, three epochs
    zoo.config.set_torch_acceleration(onednn_training="off")
    plain_losses, plain_predictions = train()
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-5)
    np.testing.assert_allclose(predictions, plain_predictions, rtol=1e-4, atol=1e-5)
