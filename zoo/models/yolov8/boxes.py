"""YOLOv8 box utilities: anchor points, DFL decoding, distance <-> box conversion.

Anchors are grid-cell centres ``(x + 0.5, y + 0.5)`` in feature-map units, level by level
(stride 8 first), row-major within a level; ``strides`` gives each anchor's stride. These are
the pieces a loss/assigner (task-aligned assigner, DFL + CIoU) reuses: ``bbox_to_distance``
is the inverse of ``distance_to_bbox`` for making DFL targets.
"""
import numpy as np

from zoo import ops
from zoo.backend.common.symbolic import SymbolicTensor
from zoo.layers.layer import Layer


def make_anchors(feature_shapes, strides, offset=0.5):
    """[(H, W), ...], [s, ...] -> anchor points (A, 2) as (x, y) and strides (A, 1), NumPy."""
    points, stride_list = [], []
    for (h, w), s in zip(feature_shapes, strides):
        ys, xs = np.meshgrid(np.arange(h, dtype="float32") + offset,
                             np.arange(w, dtype="float32") + offset, indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()], -1))
        stride_list.append(np.full((h * w, 1), s, dtype="float32"))
    return np.concatenate(points, 0), np.concatenate(stride_list, 0)


def dfl_decode(box_logits, reg_max=16):
    """(..., 4 * reg_max) logits -> (..., 4) expected distances (softmax over bins, times 0..reg_max-1)."""
    shape = tuple(box_logits.shape[:-1])
    x = ops.reshape(box_logits, shape + (4, reg_max))
    x = ops.softmax(ops.cast(x, "float32"), axis=-1)
    bins = ops.convert_to_tensor(np.arange(reg_max, dtype="float32"))
    return ops.sum(ops.multiply(x, bins), axis=-1)


def distance_to_bbox(distance, anchor_points):
    """(..., 4) left/top/right/bottom distances + (A, 2) anchors -> (..., 4) xyxy."""
    lt, rb = distance[..., :2], distance[..., 2:]
    return ops.concatenate([ops.subtract(anchor_points, lt), ops.add(anchor_points, rb)], -1)


def bbox_to_distance(anchor_points, bbox, reg_max=16):
    """(A, 2) anchors + (..., 4) xyxy -> (..., 4) ltrb distances clipped to [0, reg_max - 1.01]."""
    lt = ops.subtract(anchor_points, bbox[..., :2])
    rb = ops.subtract(bbox[..., 2:], anchor_points)
    return ops.clip(ops.concatenate([lt, rb], -1), 0.0, reg_max - 1.01)


class YOLOv8Decode(Layer):
    """Head maps -> pre-NMS predictions.

    inputs: {"boxes": [(B, H_i, W_i, 4 * reg_max)], "classes": [(B, H_i, W_i, num_classes)]}
    for strides 8, 16, 32 (the two branches apart: no concatenation to split again)
    outputs: {"boxes": (B, A, 4) xyxy in input pixels, "scores": (B, A, num_classes) sigmoid}
    """

    def __init__(self, num_classes, reg_max=16, strides=(8, 16, 32), **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.reg_max = int(reg_max)
        self.strides = tuple(int(s) for s in strides)
        self.built = True

    def compute_output_spec(self, maps):
        features = maps["classes"]
        b = features[0].shape[0]
        sizes = [f.shape[1] * f.shape[2] if None not in f.shape[1:3] else None
                 for f in features]
        a = None if None in sizes else sum(sizes)
        return {"boxes": SymbolicTensor((b, a, 4), "float32"),
                "scores": SymbolicTensor((b, a, self.num_classes), "float32")}

    def call(self, maps):
        shapes = [tuple(f.shape[1:3]) for f in maps["classes"]]
        points, strides = make_anchors(shapes, self.strides)

        def flat(features):  # levels -> (B, A, channels) in float32
            rows = [ops.reshape(f, (f.shape[0], f.shape[1] * f.shape[2], f.shape[3]))
                    for f in features]
            return ops.cast(ops.concatenate(rows, axis=1), "float32")

        distances = dfl_decode(flat(maps["boxes"]), self.reg_max)     # (B, A, 4)
        boxes = distance_to_bbox(distances, ops.convert_to_tensor(points))
        boxes = ops.multiply(boxes, ops.convert_to_tensor(strides))
        return {"boxes": boxes, "scores": ops.sigmoid(flat(maps["classes"]))}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "reg_max": self.reg_max, "strides": list(self.strides)}
