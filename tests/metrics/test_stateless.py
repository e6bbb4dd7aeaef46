"""The stateless metric API equals the stateful one and traces under jax.jit / tf.function;
losses trace too."""
import numpy as np
import pytest

from tests.conftest import BACKEND
from zoo import losses, metrics, ops


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _case(name):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 12)
    onehot = np.eye(4, dtype="float32")[labels]
    probs = rng.random((12, 4)).astype("float32")
    binary, scores = (rng.random((12, 1)) > 0.5).astype("float32"), rng.random((12, 1))
    w = rng.random(12).astype("float32")
    cases = {
        "mean": (metrics.Mean, (probs[:, 0],), w),
        "sum": (metrics.Sum, (probs[:, 0],), w),
        "mse": (metrics.MeanSquaredError, (onehot, probs), w),
        "mae": (metrics.MeanAbsoluteError, (onehot, probs), None),
        "accuracy": (metrics.Accuracy, (labels, probs.argmax(-1)), None),
        "binary_accuracy": (metrics.BinaryAccuracy, (binary, scores.astype("float32")), w),
        "categorical_accuracy": (metrics.CategoricalAccuracy, (onehot, probs), w),
        "sparse_categorical_accuracy": (metrics.SparseCategoricalAccuracy, (labels, probs), w),
        "top_k": (lambda: metrics.TopKCategoricalAccuracy(k=2), (onehot, probs), None),
        "sparse_top_k": (lambda: metrics.SparseTopKCategoricalAccuracy(k=2), (labels, probs), w),
        "precision": (lambda: metrics.Precision(thresholds=[0.3, 0.6]), (binary, scores), w),
        "recall": (metrics.Recall, (onehot, probs), w),
        "f1": (lambda: metrics.F1Score(average="weighted"), (onehot, probs), w),
        "f1_none": (metrics.F1Score, (onehot, probs), None),
        "auc": (lambda: metrics.AUC(num_thresholds=20), (binary, scores.astype("float32")), w),
        "auc_pr": (lambda: metrics.AUC(curve="PR"), (onehot, probs), None),
    }
    factory, args, weight = cases[name]
    return factory, args, weight


NAMES = ["mean", "sum", "mse", "mae", "accuracy", "binary_accuracy", "categorical_accuracy",
         "sparse_categorical_accuracy", "top_k", "sparse_top_k", "precision", "recall", "f1",
         "f1_none", "auc", "auc_pr"]


def _halves(args, weight):
    first = tuple(a[:7] for a in args), None if weight is None else weight[:7]
    second = tuple(a[7:] for a in args), None if weight is None else weight[7:]
    return first, second


def _build(metric, args):
    if len(args) == 2:
        metric.build(np.shape(args[0]), np.shape(args[1]))


def _compile(fn):
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    return fn


@pytest.mark.parametrize("name", NAMES)
def test_stateless_equals_stateful(name):
    factory, args, weight = _case(name)
    stateful = factory()
    for part, w in _halves(args, weight):
        stateful.update_state(*part, sample_weight=w)
    want = _np(stateful.result())

    metric = factory()
    _build(metric, args)
    initial = [_np(v) for v in metric.variables]
    values = metric.stateless_reset_state()
    for part, w in _halves(args, weight):
        values = metric.stateless_update_state(values, *part, sample_weight=w)
    np.testing.assert_allclose(_np(metric.stateless_result(values)), want, rtol=1e-5, atol=1e-7)
    # the metric's own variables are untouched
    for variable, before in zip(metric.variables, initial):
        np.testing.assert_array_equal(_np(variable), before)
    # reset
    stateful.reset_state()
    for variable, fresh in zip(stateful.variables, metric.stateless_reset_state()):
        np.testing.assert_array_equal(_np(variable), _np(fresh))
        assert not np.any(_np(fresh))


@pytest.mark.parametrize("name", NAMES)
def test_stateless_api_compiles(name):
    """jax.jit / tf.function; eager elsewhere."""
    factory, args, weight = _case(name)
    stateful = factory()
    for part, w in _halves(args, weight):
        stateful.update_state(*part, sample_weight=w)
    metric = factory()
    _build(metric, args)
    update = _compile(lambda v, a, w: metric.stateless_update_state(v, *a, sample_weight=w))
    result = _compile(metric.stateless_result)
    values = [v.value for v in metric.variables]
    if BACKEND == "tensorflow":
        values = [ops.convert_to_tensor(v) for v in values]
    for part, w in _halves(args, weight):
        values = update(values, part, w)
    np.testing.assert_allclose(_np(result(values)), _np(stateful.result()), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("name", ["mse", "sparse_categorical_accuracy", "precision", "f1", "auc"])
def test_stateful_update_under_tf_function(name):
    if BACKEND != "tensorflow":
        pytest.skip("tf.function only")
    import tensorflow as tf

    factory, args, weight = _case(name)
    eager, traced = factory(), factory()
    _build(traced, args)
    specs = [tf.TensorSpec((None,) + np.shape(a)[1:], tf.as_dtype(np.asarray(a).dtype))
             for a in args]
    step = tf.function(lambda *a: traced.update_state(*a[:-1], sample_weight=a[-1]),
                       input_signature=specs + [tf.TensorSpec((None,), tf.float32)])
    for part, w in _halves(args, weight):
        w = np.ones(len(part[0]), "float32") if w is None else w
        eager.update_state(*part, sample_weight=w)
        step(*part, w)
    np.testing.assert_allclose(_np(traced.result()), _np(eager.result()), rtol=1e-5)


def test_stateless_wrong_number_of_values():
    with pytest.raises(ValueError, match="expected 2 metric variable values"):
        metrics.Mean().stateless_update_state([0.0], np.ones(3))
    with pytest.raises(ValueError, match="build"):
        metrics.F1Score().stateless_result([])


@pytest.mark.parametrize("loss", [
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100),
    losses.CategoricalCrossentropy(label_smoothing=0.1),
    losses.BinaryCrossentropy(from_logits=True),
    losses.Huber(),
])
def test_losses_compile(loss):
    """jax.jit / tf.function; eager elsewhere."""
    logits = np.random.randn(3, 5, 4).astype("float32")
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        y_true = np.random.randint(0, 4, (3, 5))
        y_true[0, 2:] = -100
    else:
        y_true = np.eye(4, dtype="float32")[np.random.randint(0, 4, (3, 5))]
        logits = np.abs(logits) / np.abs(logits).sum(-1, keepdims=True)
    w = np.random.rand(3).astype("float32")
    compiled = _compile(lambda t, p, w: loss(t, p, sample_weight=w))
    np.testing.assert_allclose(_np(compiled(y_true, logits, w)), _np(loss(y_true, logits, w)),
                               rtol=1e-5)
