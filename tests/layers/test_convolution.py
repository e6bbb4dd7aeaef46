"""Conv1D / Conv2D / DepthwiseConv2D against a direct NumPy convolution."""
import numpy as np
import pytest

from zoo import layers

from tests.layers.helpers import assert_close, run_layer_test, to_numpy


def conv_ref(x, kernel, strides, padding, dilation, groups=1):
    """Channels-last N-D convolution, TensorFlow "same" padding, grouped channels."""
    n = x.ndim - 2
    spatial = x.shape[1:-1]
    ks = kernel.shape[:n]
    eff = [(k - 1) * d + 1 for k, d in zip(ks, dilation)]
    if padding == "same":
        out = [-(-s // st) for s, st in zip(spatial, strides)]
        total = [max((o - 1) * st + e - s, 0) for o, st, e, s in zip(out, strides, eff, spatial)]
        pads = [(t // 2, t - t // 2) for t in total]
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
        spatial = x.shape[1:-1]
    elif padding != "valid":  # explicit (before, after) pairs
        x = np.pad(x, [(0, 0)] + [tuple(p) for p in padding] + [(0, 0)])
        spatial = x.shape[1:-1]
    out_shape = [(s - e) // st + 1 for s, e, st in zip(spatial, eff, strides)]
    cin_g = kernel.shape[-2]
    cout = kernel.shape[-1]
    cout_g = cout // groups
    y = np.zeros((x.shape[0], *out_shape, cout), dtype=np.float64)
    for idx in np.ndindex(*out_shape):
        window = tuple(slice(i * st, i * st + e, d)
                       for i, st, e, d in zip(idx, strides, eff, dilation))
        patch = x[(slice(None),) + window]  # (B, *ks, Cin)
        for g in range(groups):
            p = patch[..., g * cin_g:(g + 1) * cin_g].reshape(x.shape[0], -1)
            k = kernel[..., g * cout_g:(g + 1) * cout_g].reshape(-1, cout_g)
            y[(slice(None),) + idx + (slice(g * cout_g, (g + 1) * cout_g),)] = p @ k
    return y


@pytest.mark.parametrize("kwargs,in_shape,out_shape", [
    ({"filters": 4, "kernel_size": 3}, (2, 9, 3), (2, 7, 4)),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3), (2, 5, 4)),
    ({"filters": 4, "kernel_size": 2, "dilation_rate": 2, "padding": "same"}, (2, 8, 3),
     (2, 8, 4)),
    ({"filters": 6, "kernel_size": 3, "groups": 3}, (2, 8, 6), (2, 6, 6)),
])
def test_conv1d(kwargs, in_shape, out_shape):
    layer, out = run_layer_test(layers.Conv1D, kwargs, input_shape=in_shape,
                                expected_output_shape=out_shape,
                                expected_num_trainable_weights=2)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (layer.kernel_size[0], in_shape[-1] // layer.groups, layer.filters)
    x = np.random.RandomState(0).randn(*in_shape).astype("float32")
    want = conv_ref(x, kernel, layer.strides, layer.padding, layer.dilation_rate,
                    layer.groups) + bias
    assert_close(out, want, atol=1e-4)


def test_conv1d_causal():
    layer, out = run_layer_test(layers.Conv1D, {"filters": 2, "kernel_size": 3,
                                                "padding": "causal", "dilation_rate": 2},
                                input_shape=(2, 7, 3), expected_output_shape=(2, 7, 2),
                                expected_num_trainable_weights=2)
    kernel, bias = layer.get_weights()
    x = np.random.RandomState(0).randn(2, 7, 3).astype("float32")
    padded = np.pad(x, [(0, 0), (4, 0), (0, 0)])
    assert_close(out, conv_ref(padded, kernel, (1,), "valid", (2,)) + bias, atol=1e-4)
    # output t does not depend on inputs after t
    x2 = x.copy()
    x2[:, 5:] += 10
    np.testing.assert_allclose(to_numpy(layer(x2))[:, :5], to_numpy(out)[:, :5], atol=1e-5)


@pytest.mark.parametrize("kwargs,in_shape,out_shape", [
    ({"filters": 4, "kernel_size": 3, "activation": "relu"}, (2, 6, 7, 3), (2, 4, 5, 4)),
    ({"filters": 4, "kernel_size": (3, 2), "strides": (2, 1), "padding": "same"},
     (2, 7, 6, 3), (2, 4, 6, 4)),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": (2, 1)}, (1, 8, 6, 2), (1, 4, 4, 2)),
    ({"filters": 4, "kernel_size": 1, "groups": 2, "use_bias": False}, (2, 3, 3, 4),
     (2, 3, 3, 4)),
    ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": 1}, (1, 6, 8, 2), (1, 3, 4, 3)),
    ({"filters": 2, "kernel_size": (3, 1), "padding": [[2, 0], [0, 1]]}, (1, 4, 3, 2),
     (1, 4, 4, 2)),
])
def test_conv2d(kwargs, in_shape, out_shape):
    n_weights = 2 if kwargs.get("use_bias", True) else 1
    layer, out = run_layer_test(layers.Conv2D, kwargs, input_shape=in_shape,
                                expected_output_shape=out_shape,
                                expected_num_trainable_weights=n_weights)
    weights = layer.get_weights()
    x = np.random.RandomState(0).randn(*in_shape).astype("float32")
    want = conv_ref(x, weights[0], layer.strides, layer.padding, layer.dilation_rate,
                    layer.groups)
    if n_weights == 2:
        want = want + weights[1]
    if kwargs.get("activation") == "relu":
        want = np.maximum(want, 0)
    assert_close(out, want, atol=1e-4)


def test_depthwise_conv2d():
    layer, out = run_layer_test(layers.DepthwiseConv2D,
                                {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
                                input_shape=(2, 5, 5, 3), expected_output_shape=(2, 5, 5, 6),
                                expected_num_trainable_weights=2,
                                expected_variable_shapes=[(3, 3, 3, 2), (6,)])
    kernel, bias = layer.get_weights()
    x = np.random.RandomState(0).randn(2, 5, 5, 3).astype("float32")
    # channel c * 2 + m comes from input channel c with kernel[..., c, m]
    grouped = kernel.reshape(3, 3, 1, 6)
    want = conv_ref(x, grouped, (1, 1), "same", (1, 1), groups=3) + bias
    assert_close(out, want, atol=1e-4)


def test_conv_errors():
    with pytest.raises(ValueError, match="groups"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 4, 4, 3), "float32"))
    with pytest.raises(ValueError, match="rank 4"):
        layers.Conv2D(4, 3)(np.zeros((1, 4, 3), "float32"))
    with pytest.raises(ValueError, match="channels-last"):
        layers.Conv2D(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="before, after"):
        layers.Conv2D(4, 3, padding=(1, 2, 3))


def test_conv3d_and_depthwise_conv1d():
    layer, out = run_layer_test(layers.Conv3D, {"filters": 3, "kernel_size": 2},
                                input_shape=(1, 4, 4, 4, 2), expected_output_shape=(1, 3, 3, 3, 3),
                                expected_num_trainable_weights=2)
    kernel, bias = layer.get_weights()
    x = np.random.RandomState(0).randn(1, 4, 4, 4, 2).astype("float32")
    assert_close(out, conv_ref(x, kernel, (1, 1, 1), "valid", (1, 1, 1)) + bias, atol=1e-4)
    layer, out = run_layer_test(layers.DepthwiseConv1D, {"kernel_size": 3, "use_bias": False},
                                input_shape=(2, 6, 4), expected_output_shape=(2, 4, 4),
                                expected_num_trainable_weights=1)
    x = np.random.RandomState(0).randn(2, 6, 4).astype("float32")
    kernel = layer.get_weights()[0]
    assert_close(out, conv_ref(x, kernel.reshape(3, 1, 4), (1,), "valid", (1,), groups=4),
                 atol=1e-4)



def test_conv_follows_new_weights_after_inference():
    """Outside autograd, torch keeps each kernel's laid-out copy between calls: assigning
    new weights must show in the next call (the copy follows the kernel's version)."""
    import contextlib

    from tests.conftest import BACKEND

    layer = layers.Conv2D(4, 3, padding="same")
    x = np.random.RandomState(0).randn(1, 6, 6, 3).astype("float32")
    no_grad = contextlib.nullcontext
    if BACKEND == "torch":
        import torch

        no_grad = torch.no_grad
    for step in range(3):
        with no_grad():
            out = to_numpy(layer(x))
        kernel, bias = layer.get_weights()
        assert_close(out, conv_ref(x, kernel, (1, 1), "same", (1, 1)) + bias, atol=1e-4)
        layer.kernel.assign(kernel * -2.0 + step)
