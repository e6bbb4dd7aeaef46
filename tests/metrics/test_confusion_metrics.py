"""Precision, Recall, F1Score and AUC against NumPy references."""
import numpy as np
import pytest

from zoo import metrics, ops


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _counts(y_true, y_pred, thresholds, w=None):
    """(tp, fp, tn, fn) per threshold over the flattened inputs."""
    t, p = (y_true.reshape(-1) != 0), y_pred.reshape(-1)
    w = np.ones_like(p) if w is None else np.broadcast_to(w, y_pred.shape).reshape(-1)
    pos = p[None, :] > np.asarray(thresholds)[:, None]
    return [((a & b) * w).sum(1) for a, b in
            [(pos, t), (pos, ~t), (~pos, ~t), (~pos, t)]]


def _div(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def _data(n=40, c=1):
    y_true = (np.random.rand(n, c) > 0.6).astype("float32")
    y_pred = np.clip(0.35 * y_true + 0.65 * np.random.rand(n, c), 0, 1).astype("float32")
    return y_true, y_pred


def test_precision_recall_default_threshold():
    y_true, y_pred = _data()
    tp, fp, _, fn = _counts(y_true, y_pred, [0.5])
    p, r = metrics.Precision(), metrics.Recall()
    p.update_state(y_true[:25], y_pred[:25])
    p.update_state(y_true[25:], y_pred[25:])
    r.update_state(y_true, y_pred)
    assert _np(p.result()).shape == ()
    np.testing.assert_allclose(_np(p.result()), tp[0] / (tp[0] + fp[0]), rtol=1e-6)
    np.testing.assert_allclose(_np(r.result()), tp[0] / (tp[0] + fn[0]), rtol=1e-6)


def test_precision_recall_thresholds_weights_class_id():
    y_true, y_pred = _data(30, 3)
    w = np.random.rand(30).astype("float32")
    thresholds = [0.1, 0.5, 0.9]
    tp, fp, _, fn = _counts(y_true[:, 2], y_pred[:, 2], thresholds, w)
    p = metrics.Precision(thresholds=thresholds, class_id=2)
    p.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(_np(p.result()), _div(tp, tp + fp), rtol=1e-5)
    r = metrics.Recall(thresholds=thresholds, class_id=2)
    r.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(_np(r.result()), _div(tp, tp + fn), rtol=1e-5)


def test_precision_top_k():
    y_true = np.array([[0, 1, 1, 0], [1, 0, 0, 1]], "float32")
    y_pred = np.array([[0.9, 0.8, 0.7, 0.1], [0.6, 0.95, 0.2, 0.55]], "float32")
    p = metrics.Precision(top_k=2)  # positives: {0, 1} and {1, 0}
    p.update_state(y_true, y_pred)
    np.testing.assert_allclose(_np(p.result()), 2 / 4)


def test_precision_no_positives_is_zero():
    p = metrics.Precision()
    p.update_state(np.zeros((3, 1)), np.zeros((3, 1)))
    assert float(_np(p.result())) == 0.0


def _f1_reference(y_true, y_pred, threshold, average, w=None, beta=1.0):
    if threshold is None:
        pred = (y_pred >= y_pred.max(-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
    else:
        pred = y_pred > threshold
    pred = pred.astype("float64")
    w = np.ones((len(y_true), 1)) if w is None else w[:, None]
    axis = None if average == "micro" else 0
    tp = (pred * y_true * w).sum(axis)
    fp = (pred * (1 - y_true) * w).sum(axis)
    fn = ((1 - pred) * y_true * w).sum(axis)
    p, r = _div(tp, tp + fp), _div(tp, tp + fn)
    f = (1 + beta ** 2) * _div(p * r, beta ** 2 * p + r)
    if average == "macro":
        return f.mean()
    if average == "weighted":
        support = (y_true * w).sum(0)
        return (f * support).sum() / support.sum()
    return f


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.45])
def test_f1_score(average, threshold):
    labels = np.random.randint(0, 4, 24)
    y_true = np.eye(4, dtype="float32")[labels]
    y_pred = np.random.rand(24, 4).astype("float32") + 0.3 * y_true
    w = np.random.rand(24).astype("float32")
    m = metrics.F1Score(average=average, threshold=threshold)
    m.update_state(y_true[:10], y_pred[:10], sample_weight=w[:10])
    m.update_state(y_true[10:], y_pred[10:], sample_weight=w[10:])
    want = _f1_reference(y_true, y_pred, threshold, average, w)
    np.testing.assert_allclose(_np(m.result()), want, rtol=1e-5)
    fb = metrics.FBetaScore(average=average, beta=2.0, threshold=threshold)
    fb.update_state(y_true, y_pred)
    np.testing.assert_allclose(_np(fb.result()),
                               _f1_reference(y_true, y_pred, threshold, average, beta=2.0),
                               rtol=1e-5)


def _auc_reference(y_true, y_pred, num_thresholds, curve, method, w=None):
    eps = 1e-7
    thresholds = [-eps] + [(i + 1) / (num_thresholds - 1)
                           for i in range(num_thresholds - 2)] + [1 + eps]
    tp, fp, tn, fn = (c.astype("float64") for c in _counts(y_true, y_pred, thresholds, w))
    if curve == "PR" and method == "interpolation":
        # integrate precision over recall numerically, tp linear in predicted positives
        area = 0.0
        for i in range(num_thresholds - 1):
            p0, p1 = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            if p0 == p1 or tp[i + 1] + fn[i + 1] == 0:
                continue
            ps = np.linspace(p1, p0, 20001)
            tps = tp[i + 1] + (tp[i] - tp[i + 1]) * (ps - p1) / (p0 - p1)
            precision = _div(tps, ps)
            recall = tps / (tp[i + 1] + fn[i + 1])
            area += np.sum(np.diff(recall) * (precision[1:] + precision[:-1]) / 2)
        return area
    recall = _div(tp, tp + fn)
    x, y = (_div(fp, fp + tn), recall) if curve == "ROC" else (recall, _div(tp, tp + fp))
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[method]
    return np.sum((x[:-1] - x[1:]) * heights)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc_matches_reference(curve, method):
    y_true, y_pred = _data(60)
    w = np.random.rand(60, 1).astype("float32")
    m = metrics.AUC(num_thresholds=30, curve=curve, summation_method=method)
    m.update_state(y_true[:30], y_pred[:30], sample_weight=w[:30])
    m.update_state(y_true[30:], y_pred[30:], sample_weight=w[30:])
    want = _auc_reference(y_true, y_pred, 30, curve, method, w)
    np.testing.assert_allclose(_np(m.result()), want, rtol=1e-4, atol=1e-6)


def test_roc_auc_approaches_rank_statistic():
    y_true, y_pred = _data(200)
    y_pred = np.round(y_pred * 100) / 100 + 0.002  # distinct buckets for 1001 thresholds
    pos, neg = y_pred[y_true == 1], y_pred[y_true == 0]
    exact = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    m = metrics.AUC(num_thresholds=1001)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(_np(m.result()), exact, atol=1e-4)


def test_auc_perfect_and_logits():
    y_true = np.array([0, 0, 1, 1], "float32")
    for curve in ("ROC", "PR"):
        m = metrics.AUC(curve=curve)
        m.update_state(y_true, np.array([0.1, 0.3, 0.6, 0.9], "float32"))
        np.testing.assert_allclose(_np(m.result()), 1.0, atol=1e-6)
    logits = np.array([-2.0, 1.0, -0.5, 3.0], "float32")
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(y_true, logits)
    b.update_state(y_true, 1 / (1 + np.exp(-logits)))
    np.testing.assert_allclose(_np(a.result()), _np(b.result()), rtol=1e-6)


def test_auc_multiclass_is_flattened():
    labels = np.random.randint(0, 3, 30)
    y_true = np.eye(3, dtype="float32")[labels]
    y_pred = np.random.rand(30, 3).astype("float32")
    a, b = metrics.AUC(num_thresholds=20), metrics.AUC(num_thresholds=20)
    a.update_state(y_true, y_pred)
    b.update_state(y_true.reshape(-1, 1), y_pred.reshape(-1, 1))
    np.testing.assert_allclose(_np(a.result()), _np(b.result()), rtol=1e-6)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="thresholds"):
        metrics.Precision(thresholds=[1.5])
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="samples")
