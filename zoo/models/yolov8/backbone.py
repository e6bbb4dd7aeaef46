"""YOLOv8Backbone: CSP-Darknet with C2f blocks and SPPF (ultralytics' yolov8.yaml, layers 0-9).

    images (B, H, W, 3) float in [0, 1], H and W divisible by 32
    0 conv 64 s2 -> 1 conv 128 s2 -> 2 C2f 128 x3 -> 3 conv 256 s2 -> 4 C2f 256 x6   = P3 (/8)
    -> 5 conv 512 s2 -> 6 C2f 512 x6                                               = P4 (/16)
    -> 7 conv 1024 s2 -> 8 C2f 1024 x3 -> 9 SPPF 1024                                 = P5 (/32)
    (channels: make_divisible(min(c, max_channels) * width_multiple, 8); repeats:
    max(round(n * depth_multiple), 1); C2f with shortcuts)
outputs {"P3", "P4", "P5"}. Layer names are ``model_{i}_...`` after ultralytics' indices.
``fused=True`` builds the inference form: each conv's BatchNorm folded into a conv bias
(``YOLOv8Detector.fuse()`` makes one from a trained detector).
"""
import math

from zoo import layers
from zoo.layers.convolution.csp_blocks import c2f, conv_bn_act, sppf
from zoo.models.backbone import Backbone

SCALES = {"n": (0.33, 0.25, 1024), "s": (0.33, 0.50, 1024), "m": (0.67, 0.75, 768),
          "l": (1.00, 1.00, 512), "x": (1.00, 1.25, 512)}


def scaled_channels(channels, width_multiple, max_channels):
    """ultralytics' make_divisible(min(c, max_channels) * width, 8)."""
    return int(math.ceil(min(channels, max_channels) * width_multiple / 8) * 8)


def scaled_depth(repeats, depth_multiple):
    return max(round(repeats * depth_multiple), 1) if repeats > 1 else repeats


class YOLOv8Backbone(Backbone):
    def __init__(self, depth_multiple, width_multiple, max_channels, fused=False, dtype=None,
                 name=None, **kwargs):
        ch = lambda c: scaled_channels(c, width_multiple, max_channels)  # noqa: E731
        n = lambda r: scaled_depth(r, depth_multiple)  # noqa: E731
        images = layers.Input((None, None, 3), name="images")
        opts = {"dtype": dtype, "fused": bool(fused)}
        x = conv_bn_act(images, ch(64), 3, 2, prefix="model_0", **opts)
        x = conv_bn_act(x, ch(128), 3, 2, prefix="model_1", **opts)
        x = c2f(x, ch(128), n(3), True, prefix="model_2", **opts)
        x = conv_bn_act(x, ch(256), 3, 2, prefix="model_3", **opts)
        p3 = c2f(x, ch(256), n(6), True, prefix="model_4", **opts)
        x = conv_bn_act(p3, ch(512), 3, 2, prefix="model_5", **opts)
        p4 = c2f(x, ch(512), n(6), True, prefix="model_6", **opts)
        x = conv_bn_act(p4, ch(1024), 3, 2, prefix="model_7", **opts)
        x = c2f(x, ch(1024), n(3), True, prefix="model_8", **opts)
        p5 = sppf(x, ch(1024), 5, prefix="model_9", **opts)
        super().__init__(inputs=images, outputs={"P3": p3, "P4": p4, "P5": p5},
                         name=name or "yolov8_backbone", dtype=dtype, **kwargs)
        self.depth_multiple = float(depth_multiple)
        self.width_multiple = float(width_multiple)
        self.max_channels = int(max_channels)
        self.fused = bool(fused)

    @staticmethod
    def scale_config(scale):
        """"n" | "s" | "m" | "l" | "x" -> the constructor's kwargs (yolov8.yaml's scales)."""
        if scale not in SCALES:
            raise ValueError(f"YOLOv8Backbone.scale_config: unknown scale {scale!r}; "
                             f"expected one of {sorted(SCALES)}.")
        d, w, c = SCALES[scale]
        return {"depth_multiple": d, "width_multiple": w, "max_channels": c}
