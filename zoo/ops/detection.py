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

The greedy pass goes over the candidates in tiles of ``TILE`` (in score order), each tile
vectorised over the batch:

    1. a candidate is suppressed by an earlier tile's kept box: IoU against the kept boxes,
       held in a (B, max_detections) buffer (only kept boxes suppress, and the pass stops
       once max_detections are kept, so the buffer never overflows);
    2. within the tile, the greedy rule keep_i = candidate_i and no kept j < i overlaps i is
       solved by iterating it from keep = candidate until nothing changes: after n rounds
       the first n + 1 entries are final, and the fixed point is unique, so this is exactly
       the sequential greedy result, in as many rounds as the longest chain of
       suppressions in the tile (a few);
    3. the tile's kept boxes are appended to the buffer.

It stops once every image has max_detections boxes or its candidates are exhausted. Per
tile that is a few (B, TILE, TILE) and (B, TILE, max_detections) array ops, so eager
backends run a few dozen ops per tile rather than per box.
"""
from zoo import backend
from zoo.ops import array, control_flow, core
from zoo.ops import math as ops_math
from zoo.ops import numpy as np_ops
from zoo.ops import shape_rules as rules
from zoo.ops.operation import op

__all__ = ["non_max_suppression"]

CLASS_OFFSET = 7680.0  # px: ultralytics' max_wh, larger than any image side it handles
TILE = 256  # candidates resolved together
FAR = -1e9  # the empty slots of the kept-box buffer: a point nothing overlaps


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
    anchors, max_detections = box_shape[1], int(max_detections)
    dtype = core.dtype(boxes)
    boxes = backend.core.cast(boxes, "float32")
    scores = backend.core.cast(scores, "float32")
    k = min(int(max_candidates), anchors)

    best = np_ops.max(scores, axis=-1)                                     # (B, A)
    label = backend.core.cast(np_ops.argmax(scores, axis=-1), "int32")
    valid = np_ops.greater(best, float(score_threshold))
    top, order = ops_math.top_k(np_ops.where(valid, best, -1.0), k)        # (B, K), by score
    alive = _take(valid, order)
    labels = _take(label, order)
    corners = [_take(core.get_item(boxes, (Ellipsis, c)), order) for c in range(4)]
    offset = 0.0 if class_agnostic else np_ops.multiply(
        backend.core.cast(labels, "float32"), CLASS_OFFSET)
    shifted = [np_ops.add(c, offset) for c in corners]                    # 4 x (B, K)
    keep = _greedy(shifted, alive, float(iou_threshold), max_detections)   # (B, K)
    return _first_kept(keep, corners, top, labels, max_detections, dtype)


def _area(x1, y1, x2, y2):
    return np_ops.multiply(np_ops.subtract(x2, x1), np_ops.subtract(y2, y1))


def _overlaps(a, b, threshold):
    """IoU(a_i, b_j) > threshold for boxes a = (x1, y1, x2, y2, area) of (B, N) and b of
    (B, M) -> (B, N, M) bool (inter > union * threshold: no division, 0-area safe)."""
    a = [array.expand_dims(v, 2) for v in a]
    b = [array.expand_dims(v, 1) for v in b]
    width = np_ops.maximum(np_ops.subtract(np_ops.minimum(a[2], b[2]),
                                           np_ops.maximum(a[0], b[0])), 0.0)
    height = np_ops.maximum(np_ops.subtract(np_ops.minimum(a[3], b[3]),
                                            np_ops.maximum(a[1], b[1])), 0.0)
    inter = np_ops.multiply(width, height)
    union = np_ops.subtract(np_ops.add(a[4], b[4]), inter)
    return np_ops.greater(inter, np_ops.multiply(union, threshold))


def _greedy(corners, alive, threshold, max_detections):
    """The greedy pass over candidates in order, tile by tile (module docstring):
    corners 4 x (B, K), alive (B, K) -> kept (B, K) bool."""
    batch, k = core.shape(alive)
    tile = min(TILE, k)
    tiles = -(-k // tile)
    padding = tiles * tile - k
    if padding:  # whole tiles: the padding is dead candidates
        corners = [array.concatenate([c, array.zeros((batch, padding), "float32")], 1)
                   for c in corners]
        alive = array.concatenate([alive, array.zeros((batch, padding), "bool")], 1)
    boxes = corners + [_area(*corners)]                                    # 5 x (B, K')
    index = array.arange(tile, dtype="int32")
    earlier = array.expand_dims(np_ops.less(array.expand_dims(index, 0),
                                            array.expand_dims(index, 1)), 0)  # (1, T, T) j < i
    slots = array.arange(max_detections, dtype="int32")
    kept_boxes = [array.full((batch, max_detections), FAR, "float32") for _ in range(4)]
    kept_boxes.append(array.zeros((batch, max_detections), "float32"))      # area
    count = array.zeros((batch,), "int32")
    kept = array.zeros((batch, tiles * tile), "bool")

    # candidates are sorted: past the most any image has alive, every tile is dead
    needed = np_ops.max(np_ops.sum(backend.core.cast(alive, "int32"), axis=1))
    tiles_needed = np_ops.minimum(np_ops.floor_divide(np_ops.add(needed, tile - 1), tile), tiles)

    def going(t, count, kept, *buffer):
        return np_ops.logical_and(np_ops.less(t, tiles_needed),
                                  np_ops.any(np_ops.less(count, max_detections)))

    def step(t, count, kept, *buffer):
        start = np_ops.multiply(t, tile)
        here = [control_flow.slice(v, (0, start), (batch, tile)) for v in boxes]
        candidate = control_flow.slice(alive, (0, start), (batch, tile))
        by_kept = np_ops.any(_overlaps(here, list(buffer), threshold), axis=2)   # (B, T)
        candidate = np_ops.logical_and(candidate, np_ops.logical_not(by_kept))
        inside = np_ops.logical_and(_overlaps(here, here, threshold), earlier)  # (B, T, T)

        def unsettled(keep, changed):
            return changed

        def settle(keep, changed):
            blocked = np_ops.any(np_ops.logical_and(inside, array.expand_dims(keep, 1)), axis=2)
            new = np_ops.logical_and(candidate, np_ops.logical_not(blocked))
            return new, np_ops.any(np_ops.not_equal(new, keep))

        keep, _ = control_flow.while_loop(unsettled, settle,
                                          (candidate, np_ops.any(candidate)))
        # append the tile's kept boxes to the buffer, in order
        position = np_ops.add(array.expand_dims(count, 1),
                              np_ops.subtract(np_ops.cumsum(backend.core.cast(keep, "int32"),
                                                            axis=1), 1))  # (B, T)
        goes = np_ops.logical_and(
            np_ops.equal(array.expand_dims(position, 2), slots),
            array.expand_dims(keep, 2))                                    # (B, T, D)
        written = np_ops.any(goes, axis=1)                                 # (B, D)
        weights = backend.core.cast(goes, "float32")
        buffer = [np_ops.where(written, np_ops.einsum("btd,bt->bd", weights, v), old)
                  for v, old in zip(here, buffer)]
        count = np_ops.add(count, np_ops.sum(backend.core.cast(keep, "int32"), axis=1))
        kept = control_flow.slice_update(kept, (0, start), keep)
        return (np_ops.add(t, 1), count, kept, *buffer)

    start = backend.core.convert_to_tensor(0, "int32")
    out = control_flow.while_loop(going, step, (start, count, kept, *kept_boxes))
    return core.get_item(out[2], (slice(None), slice(0, k))) if padding else out[2]


def _first_kept(keep, corners, scores, labels, max_detections, dtype):
    """The first max_detections kept candidates in score (= candidate) order, padded with
    -1 -> the op's output dict."""
    k = core.shape(keep)[1]
    positions = array.arange(k, dtype="int32")
    width = min(max_detections, k)
    rank = np_ops.where(keep, positions, np_ops.add(positions, k))
    _, chosen = ops_math.top_k(np_ops.negative(backend.core.cast(rank, "float32")), width)
    chosen_kept = _take(keep, chosen)
    count = np_ops.minimum(np_ops.sum(backend.core.cast(keep, "int32"), axis=1),
                           max_detections)

    def pick(v, fill):
        return np_ops.where(chosen_kept, _take(v, chosen), fill)

    out_boxes = array.stack([pick(c, -1.0) for c in corners], axis=-1)
    out_scores = pick(scores, -1.0)
    out_classes = pick(labels, -1)
    if width < max_detections:  # fewer candidates than max_detections: pad
        missing = max_detections - width
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
