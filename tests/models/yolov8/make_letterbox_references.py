"""Reference letterboxes for test_image_converter.py, made by ultralytics itself
(``python make_letterbox_references.py OUT_DIR``; tests/stand_ins is on the path for the
torchvision version lookup).

Writes OUT_DIR/letterbox.npz and OUT_DIR/cases.json (the case names, the asset files'
paths). Per case NAME, all
images RGB uint8 (ultralytics works on BGR: inputs are flipped to BGR before it and its
outputs back to RGB):
    NAME/input           the image given to ultralytics (for the two asset JPEGs, what
                         cv2.imread decoded from ultralytics/assets/NAME.jpg)
    NAME/auto, NAME/full LetterBox(new_shape=640, auto=True / False, stride=32)(image=...)
    NAME/noscaleup       the same, auto=True, scaleup=False
    NAME/boxes           random xyxy boxes (20, 4) in the auto letterbox's pixels (some
                         past its edges), and NAME/scaled: ops.scale_boxes of them to the
                         original image; NAME/full_boxes, NAME/full_scaled the same for the
                         full (auto=False) letterbox
and "mixed/NAME": BasePredictor.pre_transform on the list of every case's input (the
predictor's own rule: auto only when all shapes are equal), "same/NAME" on two copies of
the first asset.
"""
import json
import os
import sys
import types

import cv2
import numpy as np

import ultralytics
from ultralytics.data.augment import LetterBox
from ultralytics.engine.predictor import BasePredictor
from ultralytics.utils import ops

OUT = sys.argv[1]
ASSETS = os.path.join(os.path.dirname(ultralytics.__file__), "assets")
ASSETS_USED = ("bus", "zidane")
RANDOM_SHAPES = {"odd_37x91": (37, 91), "odd_480x271": (480, 271), "thin_1x300": (1, 300),
                 "tall_700x20": (700, 20), "big_960x1280": (960, 1280),
                 "big_1003x1517": (1003, 1517), "small_150x200": (150, 200),
                 "square_640": (640, 640)}


def inputs():
    """{name: RGB uint8 image}: the two asset JPEGs as cv2 decodes them, random images."""
    images = {name: cv2.imread(os.path.join(ASSETS, f"{name}.jpg"))[..., ::-1]
              for name in ASSETS_USED}
    rng = np.random.default_rng(0)
    for name, shape in RANDOM_SHAPES.items():
        images[name] = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    return images


def letterbox(rgb, **kwargs):
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    return LetterBox(new_shape=640, stride=32, **kwargs)(image=bgr)[..., ::-1]


def random_boxes(rng, shape, count=20):
    """(count, 4) xyxy boxes over an image of ``shape`` (h, w) and 10% past its edges."""
    h, w = shape
    corners = rng.uniform(-0.1, 1.1, (count, 2, 2)) * np.array([w, h])
    return np.concatenate([corners.min(1), corners.max(1)], -1).astype(np.float32)


def predictor_pre_transform(images):
    """BasePredictor.pre_transform as a .pt model's predictor runs it (rect, stride 32)."""
    predictor = types.SimpleNamespace(
        imgsz=(640, 640), args=types.SimpleNamespace(rect=True), scale_fill=False,
        model=types.SimpleNamespace(format="pt", stride=32))
    bgr = [np.ascontiguousarray(x[..., ::-1]) for x in images]
    return [x[..., ::-1] for x in BasePredictor.pre_transform(predictor, bgr)]


def main():
    images = inputs()
    rng = np.random.default_rng(1)
    out = {}
    for name, rgb in images.items():
        out[f"{name}/input"] = rgb
        out[f"{name}/auto"] = auto = letterbox(rgb, auto=True)
        out[f"{name}/full"] = full = letterbox(rgb, auto=False)
        out[f"{name}/noscaleup"] = letterbox(rgb, auto=True, scaleup=False)
        out[f"{name}/boxes"] = boxes = random_boxes(rng, auto.shape[:2])
        out[f"{name}/scaled"] = ops.scale_boxes(auto.shape[:2], boxes.copy(), rgb.shape[:2])
        out[f"{name}/full_boxes"] = boxes = random_boxes(rng, full.shape[:2])
        out[f"{name}/full_scaled"] = ops.scale_boxes(full.shape[:2], boxes.copy(), rgb.shape[:2])
    for name, x in zip(images, predictor_pre_transform(list(images.values()))):
        out[f"mixed/{name}"] = x
    for i, x in enumerate(predictor_pre_transform([images["bus"]] * 2)):
        out[f"same/{i}"] = x
    np.savez_compressed(os.path.join(OUT, "letterbox.npz"),
                        **{k: np.ascontiguousarray(v) for k, v in out.items()})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"cases": list(images),
                   "assets": {name: os.path.join(ASSETS, f"{name}.jpg") for name in ASSETS_USED},
                   "cv2": cv2.__version__, "ultralytics": ultralytics.__version__}, f)


if __name__ == "__main__":
    main()
