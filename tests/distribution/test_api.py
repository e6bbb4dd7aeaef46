"""zoo.distribution's API: meshes, layouts, layout maps, and its errors."""
import pytest

from tests.conftest import BACKEND
from tests.distribution.conftest import jax_only, needs_8_devices


@pytest.mark.skipif(BACKEND == "jax", reason="checks the refusal on the other backends")
def test_other_backends_refuse_with_a_clear_error():
    from zoo import distribution

    for make in (distribution.list_devices, distribution.DataParallel,
                 lambda: distribution.initialize("127.0.0.1:1234", 1, 0)):
        with pytest.raises(RuntimeError, match="JAX backend only.*ZOO_BACKEND=jax"):
            make()


@needs_8_devices
def test_device_mesh_shape_names_and_devices():
    from zoo import distribution

    devices = distribution.list_devices()
    assert devices[:2] == ["cpu:0", "cpu:1"]
    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"), devices)
    assert mesh.axis_size("model") == 4 and mesh.devices.shape == (2, 4)
    assert mesh.backend_mesh.shape == {"batch": 2, "model": 4}
    with pytest.raises(ValueError, match="holds 6 devices, but 8"):
        distribution.DeviceMesh((2, 3), ("batch", "model"), devices)
    with pytest.raises(ValueError, match="2 axes but axis_names"):
        distribution.DeviceMesh((2, 4), ("batch",), devices)
    with pytest.raises(ValueError, match="No device 'gpu:0'"):
        distribution.DeviceMesh((1,), ("batch",), ["gpu:0"]).backend_mesh


@jax_only
def test_tensor_layout_checks_axes():
    from zoo import distribution

    mesh = distribution.DeviceMesh((1, 1), ("batch", "model"), distribution.list_devices()[:1])
    with pytest.raises(ValueError, match="'data' is not an axis"):
        distribution.TensorLayout((None, "data"), mesh)
    with pytest.raises(ValueError, match="use a mesh axis twice"):
        distribution.TensorLayout(("model", "model"))


@needs_8_devices
def test_layout_map_matches_whole_paths_and_rejects_two_matches():
    from zoo import distribution

    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    layout_map = distribution.LayoutMap(mesh)
    layout_map["dense/kernel"] = (None, "model")
    layout_map[".*embeddings"] = distribution.TensorLayout(("model", None))
    assert layout_map["dense/kernel"].axes == (None, "model")
    assert layout_map["outer/dense/kernel"] is None  # a key matches the whole path only
    assert layout_map["dense/kernel_2"] is None
    assert layout_map["token_embedding/embeddings"].device_mesh is mesh
    layout_map[".*/kernel"] = (None, None)
    with pytest.raises(ValueError, match=r"more than one LayoutMap key: 'dense/kernel' and "
                                         r"'\.\*/kernel'"):
        layout_map["dense/kernel"]
    with pytest.raises(ValueError, match="not a valid regex"):
        layout_map["("] = (None,)
    with pytest.raises(TypeError, match="a TensorLayout or a tuple"):
        layout_map["x"] = "model"


@needs_8_devices
def test_a_layout_that_does_not_divide_names_variable_shape_and_mesh():
    import zoo
    from zoo import distribution

    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    layout_map = distribution.LayoutMap(mesh)
    layout_map["dense/kernel"] = (None, "model")
    with distribution.ModelParallel(layout_map).scope():
        layer = zoo.layers.Dense(6, name="dense")
        layer.build((None, 3))
    with pytest.raises(ValueError, match=r"'dense/kernel' has shape \(3, 6\): dimension 1 "
                                         r"\(6\) does not divide over mesh axis 'model' of 4"):
        layer.kernel.value


@needs_8_devices
def test_set_distribution_scope_and_argument_errors():
    from zoo import distribution

    data_parallel = distribution.DataParallel()
    assert data_parallel.device_mesh.shape == (8,) and data_parallel.batch_dim_name == "batch"
    assert distribution.distribution() is None
    distribution.set_distribution(data_parallel)
    try:
        assert distribution.distribution() is data_parallel
        inner = distribution.DataParallel(devices=distribution.list_devices()[:2])
        with inner.scope():
            assert distribution.distribution() is inner
        assert distribution.distribution() is data_parallel
    finally:
        distribution.set_distribution(None)
    with pytest.raises(TypeError, match="expected a DataParallel or ModelParallel"):
        distribution.set_distribution("data")
    with pytest.raises(ValueError, match="batch_dim_name 'data' is not an axis"):
        mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
        distribution.ModelParallel(distribution.LayoutMap(mesh), batch_dim_name="data")
    with pytest.raises(ValueError, match="together"):
        distribution.initialize("127.0.0.1:1234")
    with pytest.raises(ValueError, match="process_id 2 is not in"):
        distribution.initialize("127.0.0.1:1234", 2, 2)


@needs_8_devices
def test_backbone_layout_map_is_megatron_style():
    from zoo import distribution
    from zoo.models.opt.backbone import OPTBackbone

    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    layout_map = OPTBackbone.get_layout_map(mesh)
    assert layout_map.batch_dim_name == "batch"
    block = "opt_backbone/transformer_layer_3/"
    expected = {
        "opt_backbone/token_embedding/embeddings": ("model", None),  # vocab-parallel
        block + "self_attention/query/kernel": (None, "model", None),  # by heads
        block + "self_attention/value/bias": ("model", None),
        block + "self_attention/attention_output/kernel": ("model", None, None),  # by rows
        block + "feedforward_intermediate_dense/kernel": (None, "model"),  # by columns
        block + "feedforward_output_dense/kernel": ("model", None),  # by rows
    }
    for path, axes in expected.items():
        assert layout_map[path].axes == axes, path
    for path in ("opt_backbone/position_embedding/embeddings", block + "self_attention/"
                 "attention_output/bias", block + "feedforward_layer_norm/gamma"):
        assert layout_map[path] is None, path
    with pytest.raises(ValueError, match="'tensor' is not one of"):
        OPTBackbone.get_layout_map(mesh, model_axis="tensor")


@needs_8_devices
def test_default_layout_rules_replicate_what_they_do_not_know():
    """A backbone that states no rules (an image model, a new architecture) gets every
    weight replicated; the transformer rules cover a decoder's cross-attention too."""
    from zoo import distribution
    from zoo.layers.transformer.layout import tensor_parallel_rules
    from zoo.models.backbone import Backbone

    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    layout_map = Backbone.get_layout_map(mesh)
    for path in ("x/token_embedding/embeddings", "x/transformer_layer_0/self_attention/"
                 "query/kernel", "x/conv_0/kernel"):
        assert layout_map[path] is None, path
    rules = distribution.LayoutMap(mesh)
    for key, axes in tensor_parallel_rules("model").items():
        rules[key] = axes
    assert rules["d/transformer_layer_1/cross_attention/key/kernel"].axes == \
        (None, "model", None)
    assert rules["d/transformer_layer_1/cross_attention/attention_output/kernel"].axes == \
        ("model", None, None)
