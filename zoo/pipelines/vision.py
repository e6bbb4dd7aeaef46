"""The object-detection pipeline: ``zoo.pipeline("object-detection", preset=...)``.

    detect = zoo.pipeline("object-detection", preset="yolov8n")
    detect("bus.jpg")
    # [{"score": 0.87, "label": "bus", "box": {"xmin": 22, "ymin": 231, "xmax": 805, "ymax": 756}}, ...]
    detect(["a.jpg", pil_image, uint8_array], threshold=0.5)   -> one list per image

Inputs: image file paths, PIL images, uint8 (H, W, 3) arrays, or lists of them (any sizes).
Outputs in transformers' format, boxes in each original image's pixels (integers), highest
score first. Options: ``threshold`` (default: the model's score threshold, ultralytics'
0.25), ``iou_threshold``, ``max_detections``. ``draw_detections`` draws them on the image
(``zoo run object-detection ... --save DIR``).
"""
import os

import numpy as np

from zoo.models import image_io
from zoo.pipelines.base import Pipeline, register_pipeline


@register_pipeline("object-detection")
class ObjectDetectionPipeline(Pipeline):
    batch_size = 8

    def is_single(self, inputs):
        if isinstance(inputs, (str, os.PathLike)) or image_io.is_pil_image(inputs):
            return True
        return isinstance(inputs, np.ndarray) and inputs.ndim in (2, 3)

    def labels(self):
        names = getattr(self.model, "class_names", None)
        return list(names) if names else [f"LABEL_{i}" for i in range(self.model.num_classes)]

    def run_batch(self, items, threshold=None, iou_threshold=None, max_detections=None):
        out = self.model.detect(list(items), score_threshold=threshold,
                                iou_threshold=iou_threshold, max_detections=max_detections)
        labels = self.labels()
        results = []
        for boxes, scores, classes, count in zip(out["boxes"], out["scores"], out["classes"],
                                                 out["num_detections"]):
            results.append([
                {"score": float(score), "label": labels[int(label)],
                 "box": dict(zip(("xmin", "ymin", "xmax", "ymax"),
                                 (int(round(float(v))) for v in box)))}
                for box, score, label in zip(boxes[:count], scores[:count], classes[:count])])
        return results


def draw_detections(image, detections, width=None):
    """A PIL image: ``image`` (anything the pipeline takes, one image) with each detection's
    box and "label score" drawn in a colour per label."""
    from PIL import Image, ImageDraw, ImageFont

    rgb = image_io.load_images(image)[0][0]
    canvas = Image.fromarray(rgb)
    draw = ImageDraw.Draw(canvas)
    width = width or max(2, round(max(canvas.size) / 300))
    try:
        font = ImageFont.load_default(size=max(11, 6 * width))  # pillow with FreeType
    except (TypeError, OSError, ImportError):
        font = ImageFont.load_default()
    for detection in detections:
        box = detection["box"]
        colour = _colour(detection["label"])
        corners = (box["xmin"], box["ymin"], box["xmax"], box["ymax"])
        draw.rectangle(corners, outline=colour, width=width)
        text = f"{detection['label']} {detection['score']:.2f}"
        left, top, right, bottom = draw.textbbox((corners[0], corners[1]), text, font=font)
        lift = bottom - top + 2 * width
        y = corners[1] - lift if corners[1] >= lift else corners[1]
        draw.rectangle((left, y, right + 2 * width, y + lift), fill=colour)
        draw.text((corners[0] + width, y + width - (top - corners[1])), text,
                  fill=(255, 255, 255), font=font)
    return canvas


def _colour(label):
    """A stable, dark-enough colour per label (white text stays readable on it)."""
    seed = sum(ord(c) * 31 ** i for i, c in enumerate(str(label))) % (2 ** 32)
    return tuple(int(c) for c in np.random.default_rng(seed).integers(30, 180, 3))
