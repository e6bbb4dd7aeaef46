"""YOLOv8Preprocessor: raw images -> letterboxed pixels for YOLOv8Detector, and boxes back.

    preprocessor = YOLOv8Preprocessor(YOLOv8ImageConverter(image_size=640))
    pixels = preprocessor(["bus.jpg", pil_image])        (B, H, W, 3) float32 in [0, 1]
    pixels, letterbox = preprocessor.letterbox(images)
    boxes = preprocessor.boxes_to_original(boxes, letterbox, num_detections)

Raw images are file paths, PIL images, uint8 arrays (H, W, C) or (B, H, W, C), and lists of
them (zoo/models/image_io.py). A float array is not raw: it is taken as prepared pixels in
[0, 1], which the detector runs as they are.
"""
import os

import numpy as np

from zoo.models.preprocessing import Preprocessor
from zoo.models.yolov8.image_converter import YOLOv8ImageConverter
from zoo.saving import serialization


def _is_prepared(x):
    """A float NumPy array, or a backend tensor (anything with a dtype that is not an
    integer NumPy array): pixels already in the detector's form."""
    if isinstance(x, np.ndarray):
        return x.dtype.kind == "f"
    return hasattr(x, "dtype") and hasattr(x, "shape")


@serialization.register_builtin
class YOLOv8Preprocessor(Preprocessor):
    image_converter_cls = YOLOv8ImageConverter

    def __init__(self, image_converter=None):
        if isinstance(image_converter, dict):
            image_converter = serialization.deserialize(image_converter)
        self.image_converter = image_converter

    @classmethod
    def default(cls):
        """ultralytics' predictor settings: 640, stride 32, grey 114 padding."""
        return cls(YOLOv8ImageConverter())

    def accepts_raw(self, x):
        """Paths (any name: a file that is not an image is an error naming it), PIL images,
        integer arrays and lists of them; not float arrays or tensors (prepared pixels)."""
        first = x[0] if isinstance(x, (list, tuple)) and x else x
        if _is_prepared(first):
            return False
        if isinstance(first, (str, os.PathLike)):
            return True
        return super().accepts_raw(x)

    def _converter(self):
        if self.image_converter is None:
            raise ValueError("YOLOv8Preprocessor has no image_converter; pass one or load it "
                             "with YOLOv8Preprocessor.from_preset(...).")
        return self.image_converter

    def letterbox(self, images):
        """-> (pixels (B, H, W, 3) float32 in [0, 1], LetterboxInfo)."""
        return self._converter().letterbox(images)

    def boxes_to_original(self, boxes, letterbox, num_detections=None):
        """(B, D, 4) xyxy letterboxed pixels -> each image's pixels (padding rows stay -1)."""
        return self._converter().boxes_to_original(boxes, letterbox, num_detections)

    def __call__(self, x, y=None, sample_weight=None):
        pixels = self._converter()(x)
        return pixels if y is None and sample_weight is None else (pixels, y, sample_weight)
