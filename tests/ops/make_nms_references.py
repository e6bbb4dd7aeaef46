"""Write ultralytics' non_max_suppression results for tests/ops/test_non_max_suppression.py.

    python tests/ops/make_nms_references.py OUT_DIR

Run in its own process with tests/stand_ins on PYTHONPATH (ultralytics imports torch and
looks torchvision's version up; with torchvision absent from sys.modules its NMS is its own
torch one). Random, heavily overlapping boxes (integer centres, even sizes: xywh -> xyxy is
exact in float32) and 80 classes of distinct, skewed scores; OUT_DIR/nms.npz holds boxes (B, A, 4)
xyxy, scores (B, A, C) and, per case "<conf>_<iou>_<agnostic>", the kept rows (x1, y1, x2,
y2, score, class) of each image, padded with -1 to max_det rows, and their counts.
"""
import os
import sys

import numpy as np
import torch

from ultralytics.utils.nms import non_max_suppression

CASES = [(0.25, 0.7, False), (0.001, 0.7, False), (0.001, 0.7, True), (0.05, 0.45, False)]
MAX_DET = 300


def main(out_dir):
    assert "torchvision" not in sys.modules
    rng = np.random.default_rng(0)
    batch, anchors, classes = 2, 2000, 80
    centres = rng.integers(20, 620, size=(batch, anchors, 2)).astype(np.float32)
    sizes = 2 * rng.integers(5, 60, size=(batch, anchors, 2)).astype(np.float32)
    # distinct scores (a permutation of an even grid, skewed): the order of ties is arbitrary
    grid = np.linspace(1e-3, 1.0, batch * anchors * classes) ** 6
    scores = rng.permutation(grid).reshape(batch, anchors, classes).astype(np.float32)
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], -1)
    prediction = torch.from_numpy(np.concatenate([centres, sizes, scores], -1)).permute(0, 2, 1)
    arrays = {"boxes": boxes, "scores": scores}
    for conf, iou, agnostic in CASES:
        out = non_max_suppression(prediction.contiguous(), conf_thres=conf, iou_thres=iou,
                                  agnostic=agnostic, max_det=MAX_DET, max_time_img=1000.0)
        rows = np.full((batch, MAX_DET, 6), -1.0, np.float32)
        counts = np.zeros(batch, np.int32)
        for b, kept in enumerate(out):
            rows[b, :len(kept)] = kept.numpy()
            counts[b] = len(kept)
        key = f"{conf}_{iou}_{agnostic}"
        arrays[key + "/rows"], arrays[key + "/counts"] = rows, counts
    np.savez(os.path.join(out_dir, "nms.npz"), **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
