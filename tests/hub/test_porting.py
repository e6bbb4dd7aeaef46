"""zoo.hub.porting: every port is checked (keys, shapes) before anything is assigned."""
import numpy as np
import pytest

import zoo
from zoo import layers
from zoo.hub import porting
from zoo.hub.checkpoint_reader import CheckpointReader
from zoo.hub.porting import MissingWeightError, Porter


def model():
    m = zoo.Sequential([zoo.Input((4,)), layers.Dense(6, name="dense"),
                        layers.LayerNormalization(name="norm")])
    return m, m.variable_paths()


def torch_tensors(seed=0, dtype="float32"):
    rng = np.random.RandomState(seed)
    return {"net.fc.weight": rng.rand(6, 4).astype(dtype),
            "net.fc.bias": rng.rand(6).astype(dtype),
            "net.LayerNorm.gamma": rng.rand(6).astype(dtype),
            "net.LayerNorm.beta": rng.rand(6).astype(dtype)}


def port_all(porter):
    porter.port("dense/kernel", "fc.weight", porting.dense_kernel)
    porter.port("dense/bias", "fc.bias")
    porter.port("norm/gamma", "LayerNorm.weight")
    porter.port("norm/beta", "LayerNorm.bias")


def test_prefix_aliases_transform_and_dtype():
    _, variables = model()
    tensors = torch_tensors(dtype="float16")
    with Porter(tensors, "test checkpoint", prefix="net.", aliases=porting.LAYER_NORM_GAMMA_BETA,
                variables=variables) as porter:
        port_all(porter)
    np.testing.assert_array_equal(variables["dense/kernel"].numpy(),
                                  tensors["net.fc.weight"].T.astype("float32"))
    np.testing.assert_array_equal(variables["norm/gamma"].numpy(),
                                  tensors["net.LayerNorm.gamma"].astype("float32"))
    assert variables["dense/kernel"].dtype == "float32"


def test_missing_keys_are_all_named_and_nothing_is_assigned():
    _, variables = model()
    before = {p: np.array(v.numpy()) for p, v in variables.items()}
    tensors = torch_tensors()
    del tensors["net.fc.bias"], tensors["net.LayerNorm.beta"]
    porter = Porter(tensors, "test checkpoint", prefix="net.",
                    aliases=porting.LAYER_NORM_GAMMA_BETA, variables=variables)
    port_all(porter)
    with pytest.raises(MissingWeightError) as error:
        porter.apply()
    message = str(error.value)
    assert "'fc.bias'" in message and "'net.fc.bias'" in message and "dense/bias" in message
    assert "'net.LayerNorm.beta'" in message and "norm/beta" in message  # the alias was tried
    assert "Nothing was assigned" in message
    for path, variable in variables.items():
        np.testing.assert_array_equal(variable.numpy(), before[path])


def test_shape_mismatch_names_variable_key_and_both_shapes():
    _, variables = model()
    before = np.array(variables["dense/kernel"].numpy())
    tensors = torch_tensors()
    tensors["net.LayerNorm.gamma"] = np.ones(5, "float32")
    porter = Porter(tensors, "test checkpoint", prefix="net.",
                    aliases=porting.LAYER_NORM_GAMMA_BETA, variables=variables)
    port_all(porter)
    with pytest.raises(ValueError, match=r"'net\.LayerNorm\.gamma' has shape \(5,\) but zoo "
                                         r"variable 'norm/gamma' has shape \(6,\)"):
        porter.apply()
    np.testing.assert_array_equal(variables["dense/kernel"].numpy(), before)  # untouched
    porter = Porter({"fc.weight": np.ones((4, 6), "float32")}, variables=variables)
    porter.port("dense/kernel", "fc.weight", porting.dense_kernel)  # not transposed in file
    with pytest.raises(ValueError, match=r"\(4, 6\) \(dense_kernel: \(6, 4\)\).*\(4, 6\)"):
        porter.apply()


def test_transforms_split_heads():
    kernel = np.arange(24, dtype="float32").reshape(6, 4)  # torch (out=6, in=4)
    assert porting.dense_kernel.result_shape((6, 4), (4, 2, 3)) == (4, 2, 3)
    np.testing.assert_array_equal(porting.dense_kernel(kernel, (4, 2, 3)),
                                  kernel.T.reshape(4, 2, 3))
    out = np.arange(24, dtype="float32").reshape(4, 6)  # attention output: (out=4, in=6)
    assert porting.heads_output_kernel.result_shape((4, 6), (2, 3, 4)) == (2, 3, 4)
    assert porting.heads_output_kernel.result_shape((4, 6), (3, 3, 4)) == (6, 4)
    np.testing.assert_array_equal(porting.heads_output_kernel(out, (2, 3, 4)),
                                  out.T.reshape(2, 3, 4))
    assert porting.reshape.result_shape((6,), (2, 3)) == (2, 3)
    assert porting.reshape.result_shape((5,), (2, 3)) == (5,)


def test_find_prefix_and_unknown_variable():
    tensors = torch_tensors()
    assert porting.find_prefix(tensors, ("model.", "net.", ""), "fc.weight") == "net."
    with pytest.raises(KeyError, match="no fc.weight under any of the prefixes"):
        porting.find_prefix({"x": np.zeros(1)}, ("net.", ""), "fc.weight")
    _, variables = model()
    porter = Porter(tensors, "test", prefix="net.", variables=variables)
    porter.port("dense/nope", "fc.weight")
    with pytest.raises(KeyError, match="has no variable 'dense/nope'"):
        porter.apply()


def test_checkpoint_reader_shapes_come_from_the_header(tmp_path):
    from safetensors.numpy import save_file

    save_file(torch_tensors(), str(tmp_path / "model.safetensors"))
    reader = CheckpointReader(str(tmp_path))
    assert reader.shape("net.fc.weight") == (6, 4)
    with pytest.raises(KeyError, match="'nope' is not in the checkpoint"):
        reader.shape("nope")
    _, variables = model()
    with Porter(reader, "test checkpoint", prefix="net.", aliases=porting.LAYER_NORM_GAMMA_BETA,
                variables=variables) as porter:
        port_all(porter)
    np.testing.assert_array_equal(variables["dense/bias"].numpy(), reader["net.fc.bias"])
    porter = Porter(reader, "test checkpoint", variables=variables)
    porter.port("dense/bias", "gone")
    with pytest.raises(KeyError, match=r"test checkpoint '.*': no weight 'gone'"):
        porter.apply()  # names the checkpoint's path
