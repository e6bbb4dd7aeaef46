"""YOLOv8's image preprocessing: ultralytics' letterbox, and boxes mapped back.

An image is scaled by r = min(target_h / h, target_w / w) (never above 1 without
``scaleup``) to (new_h, new_w) = (max(round(h r), 1), max(round(w r), 1)), resized
bilinearly, and padded with ``pad_value`` grey to the target size, the padding split
between the two sides (left = round(d / 2 - 0.1), right = d - left). With ``auto``, the
padding of each axis is cut to its remainder modulo ``stride`` (the minimum rectangle the
network takes) when every image of the call has the same size, as ultralytics' predictor
does; a batch of mixed sizes is padded to the full target so it stacks.

The resize is OpenCV's ``cv2.resize(..., INTER_LINEAR)`` on uint8, computed in float32
NumPy: half-pixel centres (source coordinate (i + 0.5) in / out - 0.5, clamped to the
edges), no antialiasing, the result rounded to uint8. OpenCV works in fixed point, so a
pixel can differ from it by one level.
"""
import dataclasses

import numpy as np

from zoo.models import image_io
from zoo.models.preprocessing import ImageConverter
from zoo.saving.serialization import register_builtin


@dataclasses.dataclass(frozen=True)
class LetterboxInfo:
    """Where each image of a letterboxed batch went, for mapping boxes back.

    original_shapes: (B, 2) int, each image's (h, w) before the letterbox.
    gains: (B, 2) float, (new_w / w, new_h / h): the scale of each axis (the resized size
        is rounded, so the two can differ slightly).
    padding: (B, 2) int, (left, top) padding in pixels.
    shape: (H, W) of the letterboxed batch.
    """
    original_shapes: np.ndarray
    gains: np.ndarray
    padding: np.ndarray
    shape: tuple


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"YOLOv8ImageConverter: {name} must be a positive integer, got "
                         f"{value!r}.")
    return int(value)


def _size(size):
    """image_size: an int or a (height, width) pair -> (height, width)."""
    pair = (size, size) if isinstance(size, (int, np.integer)) else size
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise ValueError(f"YOLOv8ImageConverter: image_size must be an int or a pair "
                         f"(height, width), got {size!r}.")
    return tuple(_positive_int(s, "image_size") for s in pair)


def _taps(in_size, out_size):
    """Bilinear taps of one axis, OpenCV's INTER_LINEAR: -> (first (out,), second (out,)
    source indices, float32 weight of the second (out,))."""
    scale = in_size / out_size
    coords = ((np.arange(out_size) + 0.5) * scale - 0.5).astype(np.float32)
    coords = np.clip(coords, 0, in_size - 1)
    first = np.floor(coords).astype(np.int64)
    second = np.minimum(first + 1, in_size - 1)
    return first, second, coords - first


def resize_bilinear(image, height, width):
    """uint8 (h, w, C) -> uint8 (height, width, C), bilinear as cv2.resize INTER_LINEAR:
    rows then columns, each a weighted sum of two gathered slices."""
    y0, y1, wy = _taps(image.shape[0], height)
    x0, x1, wx = _taps(image.shape[1], width)
    top, bottom = image[y0].astype(np.float32), image[y1].astype(np.float32)  # (height, w, C)
    rows = top + (bottom - top) * wy[:, None, None]  # (height, w, C)
    out = rows[:, x0] + (rows[:, x1] - rows[:, x0]) * wx[None, :, None]  # (height, width, C)
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


@register_builtin
class YOLOv8ImageConverter(ImageConverter):
    """Args:
        image_size: the target (height, width), or one int for a square (640).
        stride: the network's largest stride; with ``auto``, padding is cut to its
            remainder modulo stride (32).
        pad_value: the grey level of the padding, on every channel (114).
        scaleup: whether smaller images are enlarged (True); without it images are only
            shrunk, as ultralytics' validation does.
        auto: the minimum rectangle (padding modulo stride) for a call whose images all
            have one size (True, as ultralytics' predictor); False pads to image_size.

    Calling it gives float32 pixels (B, H, W, 3) in [0, 1], what ``YOLOv8Detector``
    takes; ``letterbox`` also returns the ``LetterboxInfo`` that ``boxes_to_original``
    needs to map detections back to each image's pixels.
    """

    def __init__(self, image_size=640, stride=32, pad_value=114, scaleup=True, auto=True):
        self.image_size = _size(image_size)
        self.stride = _positive_int(stride, "stride")
        if isinstance(pad_value, bool) or not isinstance(pad_value, (int, np.integer)) \
                or not 0 <= pad_value <= 255:
            raise ValueError(f"YOLOv8ImageConverter: pad_value must be a grey level in "
                             f"[0, 255], got {pad_value!r}.")
        self.pad_value = int(pad_value)
        self.scaleup = bool(scaleup)
        self.auto = bool(auto)

    def get_config(self):
        return {"image_size": list(self.image_size), "stride": self.stride,
                "pad_value": self.pad_value, "scaleup": self.scaleup, "auto": self.auto}

    def load(self, images):
        """Raw images -> (list of uint8 RGB (h, w, 3), whether it was a batch)."""
        return image_io.load_images(images)

    def _geometry(self, shape, minimum_rectangle):
        """(h, w) -> ((new_h, new_w) resized size, (top, bottom, left, right) padding)."""
        (h, w), (target_h, target_w) = shape, self.image_size
        r = min(target_h / h, target_w / w)
        if not self.scaleup:
            r = min(r, 1.0)
        new_h, new_w = max(round(h * r), 1), max(round(w * r), 1)
        dh, dw = target_h - new_h, target_w - new_w
        if minimum_rectangle:
            dh, dw = dh % self.stride, dw % self.stride
        top, left = round(dh / 2 - 0.1), round(dw / 2 - 0.1)
        return (new_h, new_w), (top, dh - top, left, dw - left)

    def _letterbox_one(self, image, minimum_rectangle):
        """uint8 (h, w, 3) -> (uint8 (H, W, 3), (new_h, new_w), (left, top))."""
        (new_h, new_w), (top, bottom, left, right) = self._geometry(image.shape[:2],
                                                                    minimum_rectangle)
        if (new_h, new_w) != image.shape[:2]:
            image = resize_bilinear(image, new_h, new_w)
        out = np.full((new_h + top + bottom, new_w + left + right, 3), self.pad_value,
                      np.uint8)
        out[top:top + new_h, left:left + new_w] = image
        return out, (new_h, new_w), (left, top)

    def letterbox(self, images):
        """Raw images (one or a batch) -> (float32 pixels (B, H, W, 3) in [0, 1],
        LetterboxInfo). B = 1 for one image."""
        loaded, _ = self.load(images)
        minimum_rectangle = self.auto and len({x.shape for x in loaded}) == 1
        results = [self._letterbox_one(x, minimum_rectangle) for x in loaded]
        pixels = np.stack([out for out, _, _ in results]).astype(np.float32) / 255.0
        shapes = np.array([x.shape[:2] for x in loaded], np.int64)  # (B, 2) (h, w)
        resized = np.array([size for _, size, _ in results], np.int64)  # (B, 2) (h, w)
        info = LetterboxInfo(original_shapes=shapes,
                             gains=(resized / shapes)[:, ::-1].copy(),  # (new_w/w, new_h/h)
                             padding=np.array([pad for _, _, pad in results], np.int64),
                             shape=tuple(pixels.shape[1:3]))
        return pixels, info

    def __call__(self, images):
        """Raw images -> float32 pixels (B, H, W, 3) in [0, 1] (see ``letterbox``)."""
        return self.letterbox(images)[0]

    def boxes_to_original(self, boxes, info, num_detections=None):
        """xyxy boxes in letterboxed pixels -> each image's original pixels: the padding
        subtracted, divided by the per-axis gain, clipped to [0, w] x [0, h].

        boxes: (B, D, 4), or (D, 4) for a batch of one image, as NumPy or any array
            ``np.asarray`` reads.
        num_detections: optional (B,) (or an int for one image), the valid rows of each
            image (``YOLOv8Detector.detect``'s): rows past it are padding and stay -1.
            Without it every row is mapped.
        Returns float32 of the shape of ``boxes``, computed in float32 as ultralytics'
        scale_boxes does.
        """
        boxes = np.asarray(boxes, np.float32)
        single = boxes.ndim == 2
        batch = boxes[None] if single else boxes  # (B, D, 4)
        if batch.ndim != 3 or batch.shape[-1] != 4 or len(batch) != len(info.gains):
            raise ValueError(f"boxes_to_original: expected boxes (B, D, 4) for the "
                             f"{len(info.gains)} letterboxed images (or (D, 4) for one), "
                             f"got shape {boxes.shape}.")
        xyxy = [0, 1, 0, 1]  # the (x, y) column of each of the four box coordinates
        padding = info.padding[:, None, xyxy].astype(np.float32)  # (B, 1, 4)
        gains = info.gains[:, None, xyxy].astype(np.float32)  # (B, 1, 4)
        limits = info.original_shapes[:, None, ::-1][..., xyxy]  # (B, 1, 4) w, h, w, h
        out = np.clip((batch - padding) / gains, 0, limits).astype(np.float32)
        if num_detections is not None:
            counts = np.reshape(np.asarray(num_detections), (-1, 1))  # (B, 1)
            out[np.arange(batch.shape[1])[None, :] >= counts] = -1.0
        return out[0] if single else out
