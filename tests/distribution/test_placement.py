"""Where variables live under a distribution: sharded from the start, slices read from
presets, optimizer state sharded like its variables, a quarter per device over 4."""
import numpy as np
import pytest

from tests.distribution.conftest import OPT_CONFIG, needs_8_devices, opt_model, weights_of

pytestmark = needs_8_devices


def model_parallel(shape=(2, 4)):
    from zoo import distribution
    from zoo.models.opt.backbone import OPTBackbone

    mesh = distribution.DeviceMesh(shape, ("batch", "model"),
                                   distribution.list_devices()[:int(np.prod(shape))])
    return distribution.ModelParallel(OPTBackbone.get_layout_map(mesh))


def spec(variable):
    return tuple(variable.value.sharding.spec)


def shard_shapes(variable):
    return {tuple(s.data.shape) for s in variable.value.addressable_shards}


@pytest.mark.parametrize("shape", [(1, 4), (2, 4)], ids=["1x4", "2x4"])
def test_each_device_holds_a_quarter_of_every_sharded_kernel(shape):
    with model_parallel(shape).scope():
        model = opt_model()
    sharded = replicated = 0
    for variable in model.variables:
        shards = variable.value.addressable_shards
        assert len(shards) == np.prod(shape)
        sizes = {s.data.size for s in shards}
        if spec(variable) == ():  # replicated: whole on every device
            assert sizes == {variable.size}, variable.path
            replicated += 1
        else:
            assert sizes == {variable.size // 4}, variable.path
            sharded += 1
    # per layer: q/k/v kernels and biases, output kernel, 2 MLP kernels, 1 MLP bias; + embedding
    assert sharded == OPT_CONFIG["num_layers"] * 10 + 1 and replicated > 0


def test_variables_wait_for_their_path_then_go_straight_to_their_shards():
    import zoo

    with model_parallel().scope():
        layer = zoo.layers.Dense(8, name="dense")
        layer.build((None, 4))
        assert layer.kernel._value is None  # no path yet: no memory anywhere
        model = opt_model()  # a model names its variables when it is built: placed then
    kernel = next(v for v in model.variables
                  if v.path.endswith("layer_0/self_attention/query/kernel"))
    assert kernel._value is not None and shard_shapes(kernel) == {(16, 1, 4)}
    assert spec(kernel) == (None, "model", None)


def test_a_seed_gives_the_same_weights_with_or_without_a_distribution():
    expected = weights_of(opt_model())
    with model_parallel().scope():
        model = opt_model()
    for variable, value in zip(model.variables, expected):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)


def test_a_layer_renamed_after_placement_moves_to_its_new_layout():
    from zoo import distribution
    import zoo

    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    layout_map = distribution.LayoutMap(mesh)
    layout_map["outer/dense/kernel"] = (None, "model")
    with distribution.ModelParallel(layout_map).scope():
        layer = zoo.layers.Dense(8, name="dense")
        layer.build((None, 4))
        before = layer.kernel.numpy()
        assert spec(layer.kernel) == ()  # path "kernel": no key matches
        layer.kernel.path = "outer/dense/kernel"
    assert spec(layer.kernel) == (None, "model")
    np.testing.assert_array_equal(layer.kernel.numpy(), before)


def test_optimizer_slots_are_sharded_like_their_variables():
    from tests.distribution.conftest import opt_data

    with model_parallel().scope():
        model = opt_model()
        model.fit(*opt_data(8), batch_size=8, epochs=1, verbose=0)
    optimizer = model.optimizer
    for index, variable in enumerate(optimizer._trainable_variables):
        for slot in (v for v in optimizer.variables if v.name.endswith(f"_{index}")):
            assert spec(slot) == spec(variable), slot.path


def test_from_preset_reads_each_devices_slices_only(tmp_path, monkeypatch):
    from zoo.models.opt.causal_lm import OPTCausalLM
    from zoo.saving import weights

    reference = opt_model()
    reference.save_to_preset(tmp_path / "preset")
    reads = []
    real = weights._read_slice

    def recording(f, key, entry, target, display, index):
        reads.append((key, index))
        return real(f, key, entry, target, display, index)

    monkeypatch.setattr(weights, "_read_slice", recording)
    with model_parallel().scope():
        model = OPTCausalLM.from_preset(str(tmp_path / "preset"))
    for a, b in zip(weights_of(model), weights_of(reference)):
        np.testing.assert_array_equal(a, b)
    query = [index for key, index in reads if key.endswith("layer_0/self_attention/query/kernel")]
    # 4 distinct quarters (by heads), each read once, although 8 devices hold them
    assert sorted((i[1].start, i[1].stop) for i in query) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    whole = [index for key, index in reads if key.endswith("position_embedding/embeddings")]
    assert len(whole) == 1  # a replicated tensor is read once
    assert spec(model.variables[0]) == ("model", None)


def test_save_to_preset_gathers_and_reloads_unsharded(tmp_path):
    from zoo.models.opt.causal_lm import OPTCausalLM

    with model_parallel().scope():
        model = opt_model()
    model.save_to_preset(tmp_path / "saved")
    plain = OPTCausalLM.from_preset(str(tmp_path / "saved"))
    assert len(plain.variables[0].value.addressable_shards) == 1
    for a, b in zip(weights_of(plain), weights_of(model)):
        np.testing.assert_array_equal(a, b)
