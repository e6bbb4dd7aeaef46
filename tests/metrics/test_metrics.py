"""Mean-based metrics (reductions, accuracies, regression) against NumPy references."""
import json

import numpy as np
import pytest

from zoo import metrics, ops


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _rand(*shape):
    return np.random.rand(*shape).astype("float32")


def _update(metric, batches):
    for args in batches:
        metric.update_state(*args[:2], sample_weight=args[2] if len(args) > 2 else None)
    return _np(metric.result())


def test_mean_and_sum_with_weights():
    values, w = _rand(6), _rand(6)
    m = metrics.Mean()
    m.update_state(values[:4], sample_weight=w[:4])
    m.update_state(values[4:], sample_weight=w[4:])
    np.testing.assert_allclose(_np(m.result()), (values * w).sum() / w.sum(), rtol=1e-6)
    s = metrics.Sum()
    s.update_state(values, sample_weight=w)
    s.update_state(2.0)
    np.testing.assert_allclose(_np(s.result()), (values * w).sum() + 2, rtol=1e-6)
    m.reset_state()
    assert float(_np(m.result())) == 0.0
    m.update_state(np.ones((3, 4)))  # three samples of value 1
    m.update_state(np.zeros((1, 4)))
    np.testing.assert_allclose(_np(m.result()), 0.75)


def test_mean_of_sequences_with_token_weights():
    values, w = _rand(2, 5), np.round(_rand(2, 5))
    w[0, 0] = 1
    m = metrics.Mean()
    m.update_state(values, sample_weight=w)
    np.testing.assert_allclose(_np(m.result()), (values * w).sum() / w.sum(), rtol=1e-6)


def test_regression_metrics():
    y_true, y_pred, w = _rand(8, 3), _rand(8, 3), _rand(8)
    per_mse = ((y_pred - y_true) ** 2).mean(-1)
    per_mae = np.abs(y_pred - y_true).mean(-1)
    got = _update(metrics.MeanSquaredError(), [(y_true[:5], y_pred[:5]), (y_true[5:], y_pred[5:])])
    np.testing.assert_allclose(got, per_mse.mean(), rtol=1e-5)
    got = _update(metrics.get("mae"), [(y_true, y_pred, w)])
    np.testing.assert_allclose(got, (per_mae * w).sum() / w.sum(), rtol=1e-5)
    got = _update(metrics.RootMeanSquaredError(), [(y_true, y_pred)])
    np.testing.assert_allclose(got, np.sqrt(per_mse.mean()), rtol=1e-5)
    # (batch,) targets count one value per sample, also across batches of different sizes
    a, b = _rand(7), _rand(7)
    got = _update(metrics.get("mse"), [(a[:5], b[:5]), (a[5:], b[5:])])
    np.testing.assert_allclose(got, ((a - b) ** 2).mean(), rtol=1e-5)


def test_accuracies():
    logits = np.random.randn(10, 4).astype("float32")
    labels = np.random.randint(0, 4, 10)
    labels[:3] = logits[:3].argmax(-1)
    want = (logits.argmax(-1) == labels).mean()
    np.testing.assert_allclose(
        _update(metrics.SparseCategoricalAccuracy(), [(labels, logits)]), want)
    np.testing.assert_allclose(
        _update(metrics.SparseCategoricalAccuracy(), [(labels[:, None], logits)]), want)
    np.testing.assert_allclose(
        _update(metrics.CategoricalAccuracy(), [(np.eye(4)[labels], logits)]), want)
    y_true, p = np.round(_rand(10, 1)), _rand(10, 1)
    np.testing.assert_allclose(_update(metrics.BinaryAccuracy(), [(y_true, p)]),
                               ((p > 0.5) == y_true).mean())
    np.testing.assert_allclose(_update(metrics.BinaryAccuracy(threshold=0.8), [(y_true[:, 0], p)]),
                               ((p > 0.8) == y_true).mean())
    np.testing.assert_allclose(
        _update(metrics.Accuracy(), [(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4]))]), 0.75)


def test_sparse_accuracy_on_sequences_with_padding_weights():
    logits = np.random.randn(2, 6, 5).astype("float32")
    labels = np.random.randint(0, 5, (2, 6))
    mask = np.ones((2, 6), "float32")
    mask[1, 3:] = 0
    hits = logits.argmax(-1) == labels
    got = _update(metrics.SparseCategoricalAccuracy(), [(labels, logits, mask)])
    np.testing.assert_allclose(got, (hits * mask).sum() / mask.sum(), rtol=1e-6)


def test_top_k_accuracies():
    scores = np.random.rand(20, 6).astype("float32")
    labels = np.random.randint(0, 6, 20)
    rank = (scores > scores[np.arange(20), labels][:, None]).sum(-1)
    for k in (1, 2, 5):
        want = (rank < k).mean()
        np.testing.assert_allclose(
            _update(metrics.SparseTopKCategoricalAccuracy(k=k), [(labels, scores)]), want)
        np.testing.assert_allclose(
            _update(metrics.TopKCategoricalAccuracy(k=k), [(np.eye(6)[labels], scores)]), want)
    # ties at the boundary count as inside the top k
    tied = np.array([[0.5, 0.5, 0.5, 0.1]], "float32")
    np.testing.assert_allclose(
        _update(metrics.SparseTopKCategoricalAccuracy(k=1), [(np.array([2]), tied)]), 1.0)


def test_mean_metric_wrapper_with_custom_function():
    def max_error(y_true, y_pred):
        return ops.max(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)

    y_true, y_pred = _rand(4, 3), _rand(4, 3)
    m = metrics.get(max_error)
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "max_error"
    np.testing.assert_allclose(_update(m, [(y_true, y_pred)]),
                               np.abs(y_true - y_pred).max(-1).mean(), rtol=1e-6)


def test_get_names():
    for name, cls in [("mae", metrics.MeanAbsoluteError), ("mse", metrics.MeanSquaredError),
                      ("accuracy", metrics.Accuracy), ("acc", metrics.Accuracy),
                      ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
                      ("AUC", metrics.AUC), ("auc", metrics.AUC), ("f1_score", metrics.F1Score),
                      ("Precision", metrics.Precision)]:
        metric = metrics.get(name)
        assert type(metric) is cls, name
    assert metrics.get("mae").name == "mae"
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("nope")


def test_resolve_accuracy():
    from zoo import losses

    r = metrics.resolve_accuracy
    assert type(r("binary_crossentropy")) is metrics.BinaryAccuracy
    assert type(r(losses.SparseCategoricalCrossentropy(from_logits=True))) \
        is metrics.SparseCategoricalAccuracy
    assert type(r(losses.CategoricalCrossentropy())) is metrics.CategoricalAccuracy
    assert type(r("mse", (8, 1), (8, 1))) is metrics.BinaryAccuracy
    assert type(r(None, (8,), (8, 10))) is metrics.SparseCategoricalAccuracy
    assert type(r(None, (8, 1), (8, 10))) is metrics.SparseCategoricalAccuracy
    assert type(r(None, (4, 16), (4, 16, 100))) is metrics.SparseCategoricalAccuracy
    assert type(r(None, (8, 10), (8, 10))) is metrics.CategoricalAccuracy
    assert type(r()) is metrics.Accuracy
    assert r("sparse_categorical_crossentropy", name="acc").name == "acc"


@pytest.mark.parametrize("metric", [
    metrics.Mean(name="m"), metrics.Sum(), metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.3),
    metrics.CategoricalAccuracy(), metrics.SparseCategoricalAccuracy(name="acc"),
    metrics.TopKCategoricalAccuracy(k=3), metrics.SparseTopKCategoricalAccuracy(k=2),
    metrics.MeanSquaredError(), metrics.MeanAbsoluteError(), metrics.RootMeanSquaredError(),
    metrics.Precision(thresholds=[0.2, 0.7], class_id=1), metrics.Recall(top_k=2),
    metrics.F1Score(average="macro", threshold=0.4), metrics.FBetaScore(beta=2.0),
    metrics.AUC(num_thresholds=50, curve="PR", summation_method="minoring"),
    metrics.AUC(thresholds=[0.25, 0.5, 0.75], from_logits=True),
    metrics.MeanMetricWrapper(metrics.binary_accuracy, name="ba", threshold=0.6),
])
def test_config_round_trip(metric):
    config = json.loads(json.dumps(metrics.serialize(metric)))
    clone = metrics.deserialize(config)
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    assert clone.name == metric.name
    assert [v.shape for v in clone.variables] == [v.shape for v in metric.variables]
