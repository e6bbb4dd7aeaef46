"""zoo.ops.non_max_suppression against ultralytics' non_max_suppression (the same kept
boxes, scores and classes, in the same order), its padded static layout, and compilation."""
import os

import numpy as np
import pytest

import zoo
from zoo import ops
from tests.references import reference_fixture

HERE = os.path.dirname(os.path.abspath(__file__))
STAND_INS = os.path.join(os.path.dirname(HERE), "stand_ins")
BACKEND = zoo.config.backend()

nms_references = reference_fixture(os.path.join(HERE, "make_nms_references.py"),
                                   requires=("ultralytics", "torch"), python_path=(STAND_INS,))
CASES = [(0.25, 0.7, False), (0.001, 0.7, False), (0.001, 0.7, True), (0.05, 0.45, False)]


def _load(directory):
    return dict(np.load(os.path.join(directory, "nms.npz")))


@pytest.mark.parametrize("conf,iou,agnostic", CASES)
def test_keeps_what_ultralytics_keeps(nms_references, conf, iou, agnostic):
    ref = _load(nms_references)
    key = f"{conf}_{iou}_{agnostic}"
    rows, counts = ref[key + "/rows"], ref[key + "/counts"]
    out = {k: ops.convert_to_numpy(v) for k, v in ops.non_max_suppression(
        ref["boxes"], ref["scores"], iou_threshold=iou, score_threshold=conf,
        max_detections=300, class_agnostic=agnostic).items()}
    np.testing.assert_array_equal(out["num_detections"], counts)
    assert counts.min() >= 20, "the case keeps too few boxes to prove much"
    for b in range(len(counts)):
        n = counts[b]
        np.testing.assert_allclose(out["boxes"][b, :n], rows[b, :n, :4], atol=1e-4)
        np.testing.assert_allclose(out["scores"][b, :n], rows[b, :n, 4], atol=1e-6)
        np.testing.assert_array_equal(out["classes"][b, :n], rows[b, :n, 5].astype(np.int32))
        assert (out["boxes"][b, n:] == -1).all() and (out["classes"][b, n:] == -1).all()
        assert (out["scores"][b, n:] == -1).all()


def test_low_threshold_keeps_hundreds(nms_references):
    counts = _load(nms_references)["0.001_0.7_False/counts"]
    assert (counts == 300).all(), counts  # capped at max_detections


def test_padding_when_few_candidates():
    boxes = np.array([[[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]]], np.float32)
    scores = np.array([[[0.9, 0.1], [0.8, 0.1], [0.1, 0.7]]], np.float32)
    out = ops.non_max_suppression(boxes, scores, iou_threshold=0.5, score_threshold=0.25,
                                  max_detections=5)
    np.testing.assert_array_equal(ops.convert_to_numpy(out["num_detections"]), [2])
    np.testing.assert_array_equal(ops.convert_to_numpy(out["classes"]), [[0, 1, -1, -1, -1]])
    np.testing.assert_allclose(ops.convert_to_numpy(out["scores"]),
                               [[0.9, 0.7, -1, -1, -1]], atol=1e-6)
    same_class = ops.non_max_suppression(boxes, scores, iou_threshold=0.5, max_detections=5,
                                         class_agnostic=True)
    assert int(ops.convert_to_numpy(same_class["num_detections"])[0]) == 2


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"boxes must be \(batch, anchors, 4\)"):
        ops.non_max_suppression(np.zeros((2, 5), np.float32), np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match="scores must be"):
        ops.non_max_suppression(np.zeros((1, 5, 4), np.float32), np.zeros((1, 6, 3), np.float32))


@pytest.mark.skipif(BACKEND not in ("jax", "tensorflow"), reason="jax.jit / tf.function")
def test_compiles(nms_references):
    ref = _load(nms_references)
    key = "0.25_0.7_False"
    if BACKEND == "jax":
        import jax

        fn = jax.jit(lambda b, s: ops.non_max_suppression(b, s, score_threshold=0.25))
    else:
        import tensorflow as tf

        fn = tf.function(lambda b, s: ops.non_max_suppression(b, s, score_threshold=0.25))
    out = fn(ref["boxes"], ref["scores"])
    np.testing.assert_array_equal(ops.convert_to_numpy(out["num_detections"]),
                                  ref[key + "/counts"])
    np.testing.assert_array_equal(ops.convert_to_numpy(out["classes"]).shape, (2, 300))


def _greedy_reference(boxes, scores, iou_threshold):
    """Sequential greedy NMS of one class, boxes already in score order -> kept indices."""
    kept = []
    for i, box in enumerate(boxes):
        ok = True
        for j in kept:
            lt, rb = np.maximum(box[:2], boxes[j][:2]), np.minimum(box[2:], boxes[j][2:])
            inter = np.prod(np.clip(rb - lt, 0, None))
            union = np.prod(box[2:] - box[:2]) + np.prod(boxes[j][2:] - boxes[j][:2]) - inter
            ok = ok and not inter > union * iou_threshold
        if ok:
            kept.append(i)
    return kept


@pytest.mark.parametrize("tile", [3, 5, 256])
def test_chains_of_suppression_across_and_within_tiles(monkeypatch, tile):
    """Box i overlaps i + 1 only (each step 4 px on a 10 px box): greedy keeps every other
    box, which the tile's fixed point reaches only after a chain of rounds; two chains of
    different classes interleave in score order."""
    from zoo.ops import detection

    monkeypatch.setattr(detection, "TILE", tile)
    n = 13
    x = np.arange(n, dtype=np.float32) * 4
    chain = np.stack([x, np.zeros(n), x + 10, np.full(n, 10.0)], -1).astype(np.float32)
    boxes = np.concatenate([chain, chain + 100])[None]                    # (1, 26, 4)
    order = np.linspace(0.9, 0.3, 2 * n, dtype=np.float32)
    scores = np.zeros((1, 2 * n, 2), np.float32)
    scores[0, :n, 0] = order[0::2]  # the two chains alternate in score order
    scores[0, n:, 1] = order[1::2]
    out = {k: ops.convert_to_numpy(v) for k, v in ops.non_max_suppression(
        boxes, scores, iou_threshold=0.3, score_threshold=0.1, max_detections=20).items()}
    want = sorted([(order[0::2][i], 0) for i in _greedy_reference(chain, None, 0.3)] +
                  [(order[1::2][i], 1) for i in _greedy_reference(chain, None, 0.3)],
                  reverse=True)
    assert int(out["num_detections"][0]) == len(want) == 14
    np.testing.assert_allclose(out["scores"][0, :14], [s for s, _ in want], atol=1e-6)
    np.testing.assert_array_equal(out["classes"][0, :14], [c for _, c in want])
