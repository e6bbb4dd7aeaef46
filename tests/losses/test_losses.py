"""Loss classes and functions against NumPy references, on the active backend."""
import numpy as np
import pytest

from zoo import losses, ops

EPS = 1e-7


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _rand(*shape):
    return np.random.rand(*shape).astype("float32")


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _huber(t, p, delta):
    e = np.abs(p - t)
    return np.where(e <= delta, 0.5 * e ** 2, delta * (e - 0.5 * delta))


REFERENCES = {  # name -> (class, per-sample reference)
    "mse": (losses.MeanSquaredError, lambda t, p: np.mean((p - t) ** 2, -1)),
    "mae": (losses.MeanAbsoluteError, lambda t, p: np.mean(np.abs(p - t), -1)),
    "huber": (losses.Huber, lambda t, p: np.mean(_huber(t, p, 1.0), -1)),
    "binary_crossentropy": (losses.BinaryCrossentropy, lambda t, p: np.mean(_bce(t, p), -1)),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_dense_losses_match_numpy(name):
    cls, reference = REFERENCES[name]
    y_true = np.round(_rand(6, 4)) if "crossentropy" in name else _rand(6, 4) * 3
    y_pred = _rand(6, 4)
    want = reference(y_true, y_pred)
    np.testing.assert_allclose(_np(cls(reduction="none")(y_true, y_pred)), want, rtol=1e-5)
    np.testing.assert_allclose(_np(cls()(y_true, y_pred)), want.mean(), rtol=1e-5)
    np.testing.assert_allclose(_np(cls(reduction="sum")(y_true, y_pred)), want.sum(), rtol=1e-5)
    fn = getattr(losses, name)
    np.testing.assert_allclose(_np(fn(y_true, y_pred)), want, rtol=1e-5)


def test_huber_delta():
    y_true, y_pred = _rand(5, 3) * 4, _rand(5, 3)
    want = np.mean(_huber(y_true, y_pred, 0.3), -1).mean()
    np.testing.assert_allclose(_np(losses.Huber(delta=0.3)(y_true, y_pred)), want, rtol=1e-5)


def test_sample_weight_and_reductions():
    y_true, y_pred = _rand(4, 3), _rand(4, 3)
    w = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    per = np.mean((y_pred - y_true) ** 2, -1)
    cases = {"sum_over_batch_size": (per * w).sum() / 4, "mean": (per * w).sum() / 4,
             "sum": (per * w).sum(), "mean_with_sample_weight": (per * w).sum() / w.sum()}
    for reduction, want in cases.items():
        got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=w)
        np.testing.assert_allclose(_np(got), want, rtol=1e-5, err_msg=reduction)
    got = losses.MeanSquaredError(reduction="none")(y_true, y_pred, w[:, None])
    np.testing.assert_allclose(_np(got), per * w, rtol=1e-5)


def test_rank_one_targets_weigh_each_sample():
    y_true, y_pred, w = _rand(5), _rand(5), _rand(5)
    got = losses.MeanSquaredError()(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(_np(got), np.mean((y_pred - y_true) ** 2 * w), rtol=1e-5)
    # (batch,) targets against (batch, 1) predictions are fine
    got = losses.BinaryCrossentropy()(np.round(y_true), y_pred[:, None])
    np.testing.assert_allclose(_np(got), _bce(np.round(y_true), y_pred).mean(), rtol=1e-5)


def test_binary_crossentropy_logits_and_label_smoothing():
    y_true, logits = np.round(_rand(6, 2)), np.random.randn(6, 2).astype("float32")
    probs = 1 / (1 + np.exp(-logits))
    got = losses.BinaryCrossentropy(from_logits=True)(y_true, logits)
    np.testing.assert_allclose(_np(got), _bce(y_true, probs).mean(), rtol=1e-5)
    smooth = y_true * 0.8 + 0.1
    got = losses.BinaryCrossentropy(label_smoothing=0.2)(y_true, probs)
    np.testing.assert_allclose(_np(got), _bce(smooth, probs).mean(), rtol=1e-5)


def test_categorical_crossentropy():
    logits = np.random.randn(5, 4).astype("float32")
    y_true = np.eye(4, dtype="float32")[[0, 3, 1, 1, 2]]
    log_p = np.log(_softmax(logits))
    got = losses.CategoricalCrossentropy(from_logits=True)(y_true, logits)
    np.testing.assert_allclose(_np(got), -(y_true * log_p).sum(-1).mean(), rtol=1e-5)
    got = losses.CategoricalCrossentropy()(y_true, _softmax(logits))
    np.testing.assert_allclose(_np(got), -(y_true * log_p).sum(-1).mean(), rtol=1e-4)
    smooth = y_true * 0.9 + 0.1 / 4
    got = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(y_true, logits)
    np.testing.assert_allclose(_np(got), -(smooth * log_p).sum(-1).mean(), rtol=1e-5)


def test_sparse_categorical_crossentropy():
    logits = np.random.randn(6, 5).astype("float32")
    labels = np.array([0, 4, 2, 2, 1, 3])
    want = -np.log(_softmax(logits))[np.arange(6), labels]
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(_np(loss(labels, logits)), want.mean(), rtol=1e-5)
    np.testing.assert_allclose(_np(loss(labels[:, None], logits)), want.mean(), rtol=1e-5)
    np.testing.assert_allclose(_np(loss(labels.astype("float32"), logits)), want.mean(),
                               rtol=1e-5)
    probs = losses.SparseCategoricalCrossentropy(reduction="none")(labels, _softmax(logits))
    np.testing.assert_allclose(_np(probs), want, rtol=1e-4)


@pytest.mark.parametrize("ignore_class", [-100, 0])
def test_ignore_class_masks_loss_and_denominator(ignore_class):
    logits = np.random.randn(3, 7, 6).astype("float32")  # (batch, seq, vocab)
    labels = np.random.randint(1, 6, (3, 7))
    labels[0, 4:] = ignore_class
    labels[2, 1:] = ignore_class
    valid = labels != ignore_class
    ce = -np.log(_softmax(logits))[np.arange(3)[:, None], np.arange(7), np.where(valid, labels, 0)]
    ce = np.where(valid, ce, 0.0)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore_class)
    np.testing.assert_allclose(_np(loss(labels, logits)), ce.sum() / valid.sum(), rtol=1e-5)
    # a per-sequence weight: still divided by the number of valid tokens
    w = np.array([1.0, 2.0, 0.5], "float32")
    got = loss(labels, logits, sample_weight=w)
    np.testing.assert_allclose(_np(got), (ce * w[:, None]).sum() / valid.sum(), rtol=1e-5)
    none = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore_class,
                                                reduction="none")(labels, logits)
    np.testing.assert_allclose(_np(none), ce, rtol=1e-5, atol=1e-7)
    fn = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True,
                                                ignore_class=ignore_class)
    np.testing.assert_allclose(_np(fn), ce, rtol=1e-5, atol=1e-7)


def test_all_tokens_ignored_gives_zero():
    labels = np.full((2, 3), -100)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)
    assert float(_np(loss(labels, np.random.randn(2, 3, 4).astype("float32")))) == 0.0


@pytest.mark.parametrize("half", ["bfloat16", "float16"])
def test_half_precision_predictions_computed_in_float32(half):
    logits = np.random.randn(64, 10).astype("float32") * 4
    labels = np.random.randint(0, 10, 64)
    low = ops.cast(ops.convert_to_tensor(logits), half)
    rounded = _np(ops.cast(low, "float32"))
    want = -np.log(_softmax(rounded.astype("float64")))[np.arange(64), labels].mean()
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, low)
    assert ops.dtype(got) == "float32"
    np.testing.assert_allclose(_np(got), want, rtol=1e-6)
    y_true = _rand(64, 10)
    got = losses.MeanSquaredError()(y_true, low)
    assert ops.dtype(got) == "float32"
    np.testing.assert_allclose(_np(got), np.mean((rounded - y_true) ** 2), rtol=1e-6)
    assert ops.dtype(losses.mean_absolute_error(y_true, low)) == "float32"


@pytest.mark.parametrize("cls", [losses.MeanSquaredError, losses.MeanAbsoluteError,
                                 losses.Huber, losses.BinaryCrossentropy,
                                 losses.CategoricalCrossentropy])
def test_shape_mismatch_error_names_loss_and_shapes(cls):
    with pytest.raises(ValueError) as info:
        cls()(np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32"))
    message = str(info.value)
    assert cls.__name__ in message and "(8, 3)" in message and "(8, 1)" in message
    with pytest.raises(ValueError, match=r"\(8, 3\).*\(8, 1\)"):
        getattr(losses, losses.get(cls.__name__).fn.__name__)(np.zeros((8, 3)), np.zeros((8, 1)))


def test_class_ids_to_categorical_crossentropy_hint():
    with pytest.raises(ValueError, match="SparseCategoricalCrossentropy"):
        losses.CategoricalCrossentropy()(np.zeros((8,)), np.zeros((8, 4)))


def test_sparse_shape_mismatch():
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy.*\(4, 3\).*\(4, 5\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros((4, 3)), np.zeros((4, 5)))


def test_get_names():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("mean_squared_error"), losses.MeanSquaredError)
    assert isinstance(losses.get("MeanAbsoluteError"), losses.MeanAbsoluteError)
    assert isinstance(losses.get("sparse_categorical_crossentropy"),
                      losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get(losses.huber), losses.Huber)
    loss = losses.Huber()
    assert losses.get(loss) is loss and losses.get(None) is None
    custom = losses.get(lambda t, p: ops.mean(ops.abs(ops.subtract(t, p)), axis=-1))
    assert isinstance(custom, losses.LossFunctionWrapper)
    np.testing.assert_allclose(_np(custom(np.ones((2, 2)), np.zeros((2, 2)))), 1.0)
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.get("nope")


@pytest.mark.parametrize("loss", [
    losses.MeanSquaredError(reduction="sum"), losses.MeanAbsoluteError(name="l1"),
    losses.Huber(delta=2.0), losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, axis=-1),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100),
    losses.LossFunctionWrapper(losses.mean_absolute_error, reduction="none"),
])
def test_config_round_trip(loss):
    import json

    config = json.loads(json.dumps(losses.serialize(loss)))
    clone = losses.deserialize(config)
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    assert type(loss.from_config(loss.get_config())) is type(loss)
    y_true, y_pred = np.eye(3, dtype="float32")[[0, 2]], _softmax(np.random.randn(2, 3))
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        y_true = np.array([0, 2])
    np.testing.assert_allclose(_np(clone(y_true, y_pred)), _np(loss(y_true, y_pred)))


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_gradient_through_masked_sparse_loss():
    from tests.autodiff import grad
    from tests.conftest import BACKEND

    if BACKEND == "numpy":
        pytest.skip("the numpy backend has no autodiff")
    logits = np.random.randn(2, 3, 4).astype("float32")
    labels = np.array([[1, 2, -100], [0, -100, -100]])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)
    (got,) = grad(lambda p: loss(labels, p), [logits])
    valid = labels != -100
    want = (_softmax(logits) - np.eye(4)[np.where(valid, labels, 0)]) * valid[..., None] / 3
    np.testing.assert_allclose(got, want, atol=1e-6)
    y_true, y_pred = _rand(4, 3), _rand(4, 3)
    (got,) = grad(lambda p: losses.MeanSquaredError()(y_true, p), [y_pred])
    np.testing.assert_allclose(got, 2 * (y_pred - y_true) / 12, rtol=1e-5, atol=1e-7)
