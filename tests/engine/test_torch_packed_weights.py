"""torch: products of a few rows by a weight run through the weight's packed copy (MKL's
or oneDNN's, zoo/backend/torch/accel/packed_weights.py): the same numbers as the plain
product, a copy made on the second meeting only, never a stale one, and the kernel a row
count uses timed once against the plain product (or pinned by zoo.config)."""
import numpy as np
import pytest

import zoo
from zoo import layers

from tests.conftest import BACKEND

if BACKEND != "torch":
    pytest.skip("the torch backend's packed weights", allow_module_level=True)

import torch  # noqa: E402

from zoo.backend.torch.accel import kernels, packed_weights  # noqa: E402

pytestmark = pytest.mark.skipif(not kernels.KERNELS, reason="torch built without MKL or oneDNN")
KERNEL_NAMES = sorted(kernels.KERNELS)


def first_kernel():
    return kernels.KERNELS[KERNEL_NAMES[0]]


@pytest.fixture(params=KERNEL_NAMES)
def kernel(request):
    return kernels.KERNELS[request.param]


@pytest.fixture(autouse=True)
def fresh_cache(request):
    """A fresh cache pinned (zoo.config) to the test's ``kernel`` (the first available one
    where the test takes none), so which kernel runs does not depend on timing; the
    settings before the test come back after it."""
    chosen = request.getfixturevalue("kernel") if "kernel" in request.fixturenames \
        else first_kernel()
    before = zoo.config.torch_acceleration()
    zoo.config.set_torch_acceleration(packed_weights_mb=1024, kernel=chosen.name)
    yield packed_weights.cache()
    zoo.config.set_torch_acceleration(packed_weights_mb=before.packed_weights_mb,
                                      kernel=before.kernel)


def packed_count(cache):
    return sum(entry.packed is not None for entry in cache._entries.values())


def dense(units=24, in_dim=16, seed=0, **kwargs):
    zoo.config.set_random_seed(seed)
    layer = layers.Dense(units, bias_initializer="glorot_uniform", **kwargs)
    layer.build((None, in_dim))
    return layer


def call(layer, x):
    with torch.no_grad():
        return zoo.ops.convert_to_numpy(layer(x))


def reference(layer, x):
    return x @ zoo.ops.convert_to_numpy(layer.kernel.value) \
        + zoo.ops.convert_to_numpy(layer.bias.value)


def rows(n, in_dim=16, seed=1):
    return np.random.default_rng(seed).normal(size=(n, in_dim)).astype("float32")


@pytest.mark.parametrize("n", [1, 2, 8, 128, 1024])
def test_dense_matches_the_plain_product_and_packs_on_the_second_call(fresh_cache, kernel, n):
    layer, x = dense(), rows(n)
    first = call(layer, x)
    assert packed_count(fresh_cache) == 0  # a one-off product packs nothing
    second, third = call(layer, x), call(layer, x)
    assert packed_count(fresh_cache) == 1
    for out in (first, second, third):
        np.testing.assert_allclose(out, reference(layer, x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(third, first, rtol=1e-6, atol=1e-7)


def test_more_than_max_rows_are_never_packed(fresh_cache):
    layer, x = dense(), rows(packed_weights.MAX_ROWS + 1)
    for _ in range(3):
        call(layer, x)
    assert len(fresh_cache._entries) == 0


def test_a_copy_per_row_count(fresh_cache, kernel):
    layer = dense()
    for n in (2, 3, 2, 3):
        np.testing.assert_allclose(call(layer, rows(n)), reference(layer, rows(n)),
                                   rtol=1e-6, atol=1e-6)
    assert packed_count(fresh_cache) == 2


def test_einsum_dense_kernel_is_packed_as_the_view_of_its_weight(fresh_cache, kernel):
    zoo.config.set_random_seed(0)
    layer = layers.EinsumDense("abc,cde->abde", (None, 4, 6), bias_axes="de")
    x = np.random.default_rng(2).normal(size=(2, 3, 16)).astype("float32")
    layer.build(x.shape)
    want = np.einsum("abc,cde->abde", x, zoo.ops.convert_to_numpy(layer.kernel.value)) \
        + zoo.ops.convert_to_numpy(layer.bias.value)
    for _ in range(3):
        np.testing.assert_allclose(call(layer, x), want, rtol=1e-6, atol=1e-6)
    assert packed_count(fresh_cache) == 1


def test_tied_head_few_rows_use_the_packed_table(fresh_cache, kernel):
    zoo.config.set_random_seed(0)
    embedding = layers.Embedding(50, 16)
    embedding.build()
    x = rows(4)
    want = x @ zoo.ops.convert_to_numpy(embedding.embeddings.value).T
    for _ in range(3):
        with torch.no_grad():
            got = zoo.ops.convert_to_numpy(embedding(x, reverse=True))
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert packed_count(fresh_cache) == 1


def test_an_assigned_weight_is_never_read_from_a_stale_copy(fresh_cache, kernel):
    layer, x = dense(), rows(4)
    call(layer, x), call(layer, x)
    assert packed_count(fresh_cache) == 1
    new = np.random.default_rng(5).normal(size=(16, 24)).astype("float32")
    layer.kernel.assign(new)
    for _ in range(3):  # stale: plain once, then packed anew
        np.testing.assert_allclose(call(layer, x), reference(layer, x), rtol=1e-6,
                                   atol=1e-6)
    assert packed_count(fresh_cache) == 1


def test_a_training_step_is_seen_by_the_next_products(fresh_cache, kernel):
    zoo.config.set_random_seed(0)
    inputs = zoo.Input((16,))
    model = zoo.Model(inputs, layers.Dense(3)(inputs))
    model.compile(optimizer=zoo.optimizers.Adam(0.1), loss="mse")
    x, y = rows(4), np.ones((4, 3), "float32")
    for _ in range(2):
        model.predict_on_batch(x)
    assert packed_count(fresh_cache) == 1
    model.train_on_batch(x, y)  # the fused Adam kernel updates the weight in place
    kernel, bias = (zoo.ops.convert_to_numpy(v.value) for v in model.layers[-1].weights)
    for _ in range(3):
        np.testing.assert_allclose(model.predict_on_batch(x), x @ kernel + bias, rtol=1e-6,
                                   atol=1e-6)


def test_products_that_need_gradients_are_not_packed(fresh_cache):
    layer, x = dense(), rows(4)
    for _ in range(3):
        out = layer(torch.from_numpy(x))
    assert out.requires_grad and len(fresh_cache._entries) == 0


def test_budget_frees_the_least_recently_used_copies():
    weights = [torch.nn.Parameter(torch.randn(64, 16)) for _ in range(3)]
    size = 64 * 16 * 4
    cache = packed_weights.PackedWeights(2 * size, first_kernel())
    for w in weights:
        for _ in range(2):
            cache.get(w, w, 4, False)
    assert cache.used == 2 * size
    assert [e.packed is not None for e in cache._entries.values()] == [False, True, True]
    assert packed_weights.PackedWeights(size - 1).get(weights[0], weights[0], 4, False) is None


def test_a_loop_larger_than_the_budget_packs_what_fits_once():
    """A cycle over more weights than fit must not free and re-pack every weight per step
    (OPT-1.3b under the default budget)."""
    weights = [torch.nn.Parameter(torch.randn(64, 16)) for _ in range(5)]
    cache = packed_weights.PackedWeights(2 * 64 * 16 * 4, first_kernel())
    seen = []
    for _ in range(6):
        seen.append([cache.get(w, w, 4, False) for w in weights])
    assert [p is not None for p in seen[-1]] == [True, True, False, False, False]
    assert all(a[1] is b[1] for a, b in zip(seen[1][:2], seen[-1][:2]))  # the same copies


def test_threads_share_the_cache(kernel):
    import threading

    weights = [torch.nn.Parameter(torch.randn(32, 16)) for _ in range(8)]
    cache = packed_weights.PackedWeights(3 * 32 * 16 * 4, kernel)
    x = torch.randn(16, 4)
    errors = []

    def work():
        try:
            for _ in range(50):
                for w in weights:
                    found = cache.get(w, w, 4, False)
                    if found is not None:
                        product, packed = found
                        got = product.run(x.t().contiguous(), packed, w.detach(), None, 4)
                        torch.testing.assert_close(got.t(), w.detach() @ x)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.used == 32 * 16 * 4 * sum(e.packed is not None
                                           for e in cache._entries.values()) <= cache.budget


def test_a_freed_weight_drops_its_copies():
    cache = packed_weights.PackedWeights(2 ** 20, first_kernel())
    weight = torch.nn.Parameter(torch.randn(32, 16))
    cache.get(weight, weight, 4, False), cache.get(weight, weight, 4, False)
    assert cache.used == 32 * 16 * 4
    del weight
    assert cache.used == 0 and not cache._entries


@pytest.mark.parametrize("setting", [{"packed_weights_mb": 0}, {"kernel": "plain"}])
def test_a_zero_budget_or_the_plain_kernel_packs_nothing(setting):
    zoo.config.set_torch_acceleration(**setting)
    layer, x = dense(), rows(4)
    for _ in range(3):
        np.testing.assert_allclose(call(layer, x), reference(layer, x), rtol=1e-6, atol=1e-6)
    assert not packed_weights.cache()._entries


def test_generate_decodes_through_packed_copies_with_the_same_tokens(fresh_cache, kernel):
    from zoo.models import OPTBackbone, OPTCausalLM

    zoo.config.set_random_seed(3)
    backbone = OPTBackbone(vocabulary_size=64, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=48, dropout=0.0)
    lm = OPTCausalLM(backbone)
    for variable in backbone.weights:  # order-1 weights: varied tokens
        if variable.path.endswith(("kernel", "embeddings")):
            rng = np.random.default_rng(len(variable.path))
            variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    ids = np.array([[2, 40, 41, 42, 43], [2, 50, 51, 1, 1], [2, 60, 1, 1, 1]], np.int32)
    prompts = {"token_ids": ids, "padding_mask": (ids != 1).astype(np.int32)}
    packed = lm.generate(prompts, max_new_tokens=12, stop_token_ids=None)
    # every layer product, each attention projection and the tied head: 3 rows per step
    assert packed_count(fresh_cache) == 2 * 6 + 1
    zoo.config.set_torch_acceleration(packed_weights_mb=0)
    plain = lm.generate(prompts, max_new_tokens=12, stop_token_ids=None)
    np.testing.assert_array_equal(packed["token_ids"], plain["token_ids"])
    np.testing.assert_array_equal(packed["padding_mask"], plain["padding_mask"])


def fake_kernel(name):
    return kernels.Kernel(name, lambda matrix, rows: matrix.clone(),
                              lambda x, packed, matrix, bias, rows:
                              torch.nn.functional.linear(x, packed, bias))


@pytest.mark.parametrize("plain_seconds, chosen", [(2.0, "fast"), (0.5, None)])
def test_auto_keeps_the_fastest_of_plain_and_each_kernel_per_row_count(monkeypatch,
                                                                       plain_seconds, chosen):
    fast, slow = fake_kernel("fast"), fake_kernel("slow")
    seconds = {torch.nn.functional.linear: plain_seconds, fast.run: 1.0, slow.run: 3.0}
    timed = []

    def best_seconds(call):
        timed.append(call.func)
        return seconds[call.func]

    monkeypatch.setattr(kernels, "best_seconds", best_seconds)
    monkeypatch.setattr(kernels, "KERNELS", {"slow": slow, "fast": fast})
    cache = packed_weights.PackedWeights(2 ** 20)
    weights = [torch.nn.Parameter(torch.randn(32, 16)) for _ in range(2)]
    for _ in range(3):
        found = [cache.get(w, w, 4, False) for w in weights]
    assert len(timed) == 3  # plain and both kernels, once for the row count
    assert cache.choices == {4: fast if chosen else None}
    if chosen:
        assert [product for product, _ in found] == [fast, fast]
        assert cache.used == 2 * 32 * 16 * 4
    else:
        assert found == [None, None] and cache.used == 0
    other = torch.nn.Parameter(torch.randn(32, 16))
    for _ in range(2):
        cache.get(other, other, 3, False)  # 3 rows: the same bucket, timed already
    assert len(timed) == 3 and list(cache.choices) == [4]


def test_row_buckets_are_powers_of_two():
    assert [kernels.row_bucket(n) for n in (1, 2, 3, 4, 5, 8, 9, 1000, 4096)] == \
        [1, 2, 4, 4, 8, 8, 16, 1024, 4096]


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_a_pinned_kernel_is_what_runs_and_nothing_is_timed(monkeypatch, name):
    def no_timing(call):
        raise AssertionError("a pinned kernel timed a product")

    monkeypatch.setattr(kernels, "best_seconds", no_timing)
    pinned, ran = kernels.KERNELS[name], []
    run = pinned.run
    monkeypatch.setattr(pinned, "run", lambda *args: ran.append(args[-1]) or run(*args))
    zoo.config.set_torch_acceleration(kernel=name)
    layer = dense()
    for n in (1, 8, 300):
        for _ in range(3):
            np.testing.assert_allclose(call(layer, rows(n)), reference(layer, rows(n)),
                                       rtol=1e-5, atol=1e-5)
    assert ran == [1, 1, 8, 8, 300, 300]  # packed from the second call of each row count
    from zoo.backend.torch import accel

    assert accel.packed_kernel_choices() == {1: name, 8: name, 512: name}
