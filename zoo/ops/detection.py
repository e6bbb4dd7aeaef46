"""Object-detection ops: batched non-maximum suppression with a static output shape.

``non_max_suppression`` is made of zoo ops only (``top_k``, ``take_along_axis``,
``while_loop``, element-wise arithmetic), so it runs on every backend and compiles inside
``jax.jit`` and ``tf.function``: its outputs have a fixed size (``max_detections``), padded
with -1. It follows ultralytics' ``non_max_suppression`` for predictions (one label per
box, ``multi_label=False``):

    boxes (B, A, 4) xyxy, scores (B, A, C)
      -> per box its best class and that score; boxes scoring <= score_threshold dropped
      -> the rest sorted by score, the first max_candidates kept           (B, K)
      -> per class (boxes shifted by class * 7680 px, so classes never overlap) or
         class_agnostic, greedy suppression: in score order, a box that is still kept
         removes every later box whose IoU with it is > iou_threshold
      -> the first max_detections kept boxes, in score order

The greedy pass is a loop over the candidates in score order, each step vectorised over
the batch and all candidates; it stops once every image has max_detections boxes or its
candidates are exhausted.
"""
from zoo import backend
from zoo.ops import array, control_flow, core
from zoo.ops import math as ops_math
from zoo.ops import numpy as np_ops
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = ["non_max_suppression"]

CLASS_OFFSET = 7680.0  # px: ultralytics' max_wh, larger than any image side it handles


def _nms_rule(boxes, scores, iou_threshold=0.7, score_threshold=0.25, max_detections=300,
              class_agnostic=False, max_candidates=30000):
    batch = rules.shape_of(boxes)[0]
    dtype = rules.dtype_of(boxes)
    return {"boxes": rules.symbolic((batch, max_detections, 4), dtype),
            "scores": rules.symbolic((batch, max_detections), dtype),
            "classes": rules.symbolic((batch, max_detections), "int32"),
            "num_detections": rules.symbolic((batch,), "int32")}


def _take(x, indices):
    return array.take_along_axis(x, indices, axis=1)


@op(_nms_rule)
def non_max_suppression(boxes, scores, iou_threshold=0.7, score_threshold=0.25,
                        max_detections=300, class_agnostic=False, max_candidates=30000):
    """Batched NMS (see the module docstring): ``boxes`` (B, A, 4) xyxy, ``scores`` (B, A, C)
    -> ``{"boxes": (B, D, 4), "scores": (B, D), "classes": (B, D) int32,
    "num_detections": (B,) int32}`` with D = ``max_detections``, rows past
    ``num_detections`` set to -1."""
    box_shape, score_shape = tuple(boxes.shape), tuple(scores.shape)
    if len(box_shape) != 3 or box_shape[-1] != 4:
        raise ValueError(f"non_max_suppression: boxes must be (batch, anchors, 4) xyxy, got "
                         f"shape {box_shape}.")
    if len(score_shape) != 3 or tuple(score_shape[:2]) != tuple(box_shape[:2]):
        raise ValueError(f"non_max_suppression: scores must be (batch, anchors, classes) "
                         f"with the anchors of boxes {box_shape}, got shape {score_shape}.")
    if int(max_detections) < 1 or int(max_candidates) < 1:
        raise ValueError("non_max_suppression: max_detections and max_candidates must be "
                         f">= 1, got {max_detections} and {max_candidates}.")
    anchors = box_shape[1]
    dtype = core.dtype(boxes)
    boxes = backend.core.cast(boxes, "float32")
    scores = backend.core.cast(scores, "float32")
    k = min(int(max_candidates), anchors)

    best = np_ops.max(scores, axis=-1)                                     # (B, A)
    label = backend.core.cast(np_ops.argmax(scores, axis=-1), "int32")
    valid = np_ops.greater(best, float(score_threshold))
    ranked = np_ops.where(valid, best, -1.0)
    top, order = ops_math.top_k(ranked, k)                                 # (B, K), by score
    alive = _take(valid, order)
    labels = _take(label, order)
    corners = [_take(core.get_item(boxes, (Ellipsis, c)), order) for c in range(4)]
    offset = 0.0 if class_agnostic else np_ops.multiply(
        backend.core.cast(labels, "float32"), CLASS_OFFSET)
    x1, y1, x2, y2 = (np_ops.add(c, offset) for c in corners)
    area = np_ops.multiply(np_ops.subtract(x2, x1), np_ops.subtract(y2, y1))
    positions = array.arange(k, dtype="int32")                             # (K,)
    steps = np_ops.max(np_ops.sum(backend.core.cast(alive, "int32"), axis=1))
    kept = array.zeros_like(np_ops.sum(backend.core.cast(alive, "int32"), axis=1))

    def going(i, alive, kept):
        return np_ops.logical_and(np_ops.less(i, steps),
                                  np_ops.any(np_ops.less(kept, int(max_detections))))

    def step(i, alive, kept):
        here = np_ops.equal(positions, i)                                  # (K,) one-hot

        def at_i(v):
            return np_ops.sum(np_ops.where(here, v, 0.0), axis=1, keepdims=True)  # (B, 1)

        keeps = np_ops.any(np_ops.logical_and(here, alive), axis=1, keepdims=True)
        width = np_ops.maximum(np_ops.subtract(np_ops.minimum(x2, at_i(x2)),
                                               np_ops.maximum(x1, at_i(x1))), 0.0)
        height = np_ops.maximum(np_ops.subtract(np_ops.minimum(y2, at_i(y2)),
                                                np_ops.maximum(y1, at_i(y1))), 0.0)
        inter = np_ops.multiply(width, height)
        union = np_ops.subtract(np_ops.add(area, at_i(area)), inter)
        overlaps = np_ops.greater(inter, np_ops.multiply(union, float(iou_threshold)))
        later = np_ops.greater(positions, i)
        suppress = np_ops.logical_and(np_ops.logical_and(overlaps, later), keeps)
        alive = np_ops.logical_and(alive, np_ops.logical_not(suppress))
        kept = np_ops.add(kept, backend.core.cast(array.squeeze(keeps, 1), "int32"))
        return np_ops.add(i, 1), alive, kept

    start = backend.core.convert_to_tensor(0, "int32")
    _, alive, _ = control_flow.while_loop(going, step, (start, alive, kept))

    # the first max_detections kept candidates, in score (= candidate) order
    width = min(int(max_detections), k)
    rank = np_ops.where(alive, positions, np_ops.add(positions, k))
    _, chosen = ops_math.top_k(np_ops.negative(backend.core.cast(rank, "float32")), width)
    chosen_alive = _take(alive, chosen)
    count = np_ops.minimum(np_ops.sum(backend.core.cast(alive, "int32"), axis=1),
                           int(max_detections))

    def pick(v, fill):
        return np_ops.where(chosen_alive, _take(v, chosen), fill)

    out_boxes = array.stack([pick(c, -1.0) for c in corners], axis=-1)
    out_scores = pick(top, -1.0)
    out_classes = pick(labels, -1)
    if width < int(max_detections):  # fewer candidates than max_detections: pad
        missing = int(max_detections) - width
        batch = core.shape(out_scores)[0]
        out_boxes = array.concatenate(
            [out_boxes, array.full((batch, missing, 4), -1.0, "float32")], axis=1)
        out_scores = array.concatenate(
            [out_scores, array.full((batch, missing), -1.0, "float32")], axis=1)
        out_classes = array.concatenate(
            [out_classes, array.full((batch, missing), -1, "int32")], axis=1)
    return {"boxes": backend.core.cast(out_boxes, dtype),
            "scores": backend.core.cast(out_scores, dtype),
            "classes": backend.core.cast(out_classes, "int32"),
            "num_detections": backend.core.cast(count, "int32")}
