"""YOLOv8Detector: PAN-FPN neck + anchor-free decoupled head with DFL (ultralytics' yolov8.yaml,
layers 10-22) on a YOLOv8Backbone.

    images (B, H, W, 3) in [0, 1] -> backbone {"P3", "P4", "P5"}
    top-down: up(P5) ++ P4 -> C2f 512 (model_12); up ++ P3 -> C2f 256 (model_15)   = N3
    bottom-up: conv s2 ++ model_12 -> C2f 512 (model_18) = N4; conv s2 ++ P5 -> C2f 1024 = N5
    head per level i: box branch conv3, conv3, 1x1 -> 4 * reg_max; class branch conv3, conv3,
    1x1 -> num_classes (neck C2f without shortcuts)
outputs {"boxes": (B, A, 4) xyxy input pixels, "scores": (B, A, num_classes) after sigmoid}.
"""
import math

from zoo import layers, ops
from zoo.layers import initializers
from zoo.layers.convolution.csp_blocks import c2f, conv_bn_act
from zoo.models.task import Task
from zoo.models.yolov8.backbone import YOLOv8Backbone, scaled_channels, scaled_depth
from zoo.models.yolov8.boxes import YOLOv8Decode

STRIDES = (8, 16, 32)


class YOLOv8Detector(Task):
    backbone_cls = YOLOv8Backbone
    preprocessor_cls = None

    def __init__(self, backbone, num_classes, class_names=None, reg_max=16,
                 score_threshold=0.25, iou_threshold=0.7, max_detections=300,
                 preprocessor=None, dtype=None, name=None, **kwargs):
        num_classes = int(num_classes)
        if num_classes < 1:
            raise ValueError(f"YOLOv8Detector: num_classes must be >= 1, got {num_classes}.")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"YOLOv8Detector: class_names has {len(class_names)} names for "
                             f"num_classes={num_classes}.")
        dtype = dtype or backbone.dtype_policy
        w, d, mc = backbone.width_multiple, backbone.depth_multiple, backbone.max_channels
        ch = lambda c: scaled_channels(c, w, mc)  # noqa: E731
        n = scaled_depth(3, d)
        images = layers.Input((None, None, 3), name="images")
        feats = backbone(images)
        p3, p4, p5 = feats["P3"], feats["P4"], feats["P5"]
        up = lambda x, i: layers.UpSampling2D(2, name=f"model_{i}_upsample",  # noqa: E731
                                              dtype=dtype)(x)
        cat = lambda xs, i: layers.Concatenate(axis=-1, name=f"model_{i}_concat",  # noqa: E731
                                               dtype=dtype)(xs)
        x12 = c2f(cat([up(p5, 10), p4], 11), ch(512), n, False, prefix="model_12", dtype=dtype)
        n3 = c2f(cat([up(x12, 13), p3], 14), ch(256), n, False, prefix="model_15", dtype=dtype)
        x = conv_bn_act(n3, ch(256), 3, 2, prefix="model_16", dtype=dtype)
        n4 = c2f(cat([x, x12], 17), ch(512), n, False, prefix="model_18", dtype=dtype)
        x = conv_bn_act(n4, ch(512), 3, 2, prefix="model_19", dtype=dtype)
        n5 = c2f(cat([x, p5], 20), ch(1024), n, False, prefix="model_21", dtype=dtype)

        levels = [n3, n4, n5]
        box_ch = max(16, n3.shape[-1] // 4, reg_max * 4)
        cls_ch = max(n3.shape[-1], min(num_classes, 100))
        head_maps = []
        for i, (f, stride) in enumerate(zip(levels, STRIDES)):
            b = conv_bn_act(f, box_ch, 3, prefix=f"model_22_cv2_{i}_0", dtype=dtype)
            b = conv_bn_act(b, box_ch, 3, prefix=f"model_22_cv2_{i}_1", dtype=dtype)
            b = layers.Conv2D(4 * reg_max, 1, bias_initializer=initializers.Constant(2.0),
                              name=f"model_22_cv2_{i}_2", dtype=dtype)(b)
            c = conv_bn_act(f, cls_ch, 3, prefix=f"model_22_cv3_{i}_0", dtype=dtype)
            c = conv_bn_act(c, cls_ch, 3, prefix=f"model_22_cv3_{i}_1", dtype=dtype)
            class_bias = math.log(5 / num_classes / (640 / stride) ** 2)
            c = layers.Conv2D(num_classes, 1, bias_initializer=initializers.Constant(class_bias),
                              name=f"model_22_cv3_{i}_2", dtype=dtype)(c)
            head_maps.append(layers.Concatenate(axis=-1, name=f"model_22_level_{i}",
                                                dtype=dtype)([b, c]))
        outputs = YOLOv8Decode(num_classes, reg_max, STRIDES, name="decode",
                               dtype=dtype)(head_maps)
        super().__init__(inputs=images, outputs=outputs, name=name or "yolov8_detector",
                         **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = num_classes
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.reg_max = int(reg_max)
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = int(max_detections)

    def detect(self, images, score_threshold=None, iou_threshold=None, max_detections=None,
               class_agnostic=False):
        """Decoded predictions of ``images`` (B, H, W, 3) in [0, 1], then
        ``zoo.ops.non_max_suppression`` -> ``{"boxes": (B, D, 4) xyxy input pixels,
        "scores": (B, D), "classes": (B, D) int32, "num_detections": (B,)}``, D =
        max_detections, rows past num_detections -1. Unset thresholds are the detector's."""
        predictions = self(images)
        return ops.non_max_suppression(
            predictions["boxes"], predictions["scores"],
            iou_threshold=self.iou_threshold if iou_threshold is None else iou_threshold,
            score_threshold=self.score_threshold if score_threshold is None
            else score_threshold,
            max_detections=self.max_detections if max_detections is None else max_detections,
            class_agnostic=class_agnostic)
