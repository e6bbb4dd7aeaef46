"""YOLOv8Detector: PAN-FPN neck + anchor-free decoupled head with DFL (ultralytics' yolov8.yaml,
layers 10-22) on a YOLOv8Backbone.

    images (B, H, W, 3) in [0, 1] -> backbone {"P3", "P4", "P5"}
    top-down: up(P5) ++ P4 -> C2f 512 (model_12); up ++ P3 -> C2f 256 (model_15)   = N3
    bottom-up: conv s2 ++ model_12 -> C2f 512 (model_18) = N4; conv s2 ++ P5 -> C2f 1024 = N5
    head per level i: box branch conv3, conv3, 1x1 -> 4 * reg_max; class branch conv3, conv3,
    1x1 -> num_classes (neck C2f without shortcuts)
outputs {"boxes": (B, A, 4) xyxy input pixels, "scores": (B, A, num_classes) after sigmoid}.

``detect`` / ``predict`` add non-maximum suppression (``zoo.ops.non_max_suppression``) and
run the fused form of the detector (``fuse()``), compiled once per input shape.
"""
import math

import numpy as np

from zoo import layers, ops
from zoo.layers import initializers
from zoo.layers.convolution.csp_blocks import c2f, conv_bn_act, conv_bn_pairs, fold_batch_norm
from zoo.models.task import Task
from zoo.models.yolov8.backbone import YOLOv8Backbone, scaled_channels, scaled_depth
from zoo.models.yolov8.boxes import YOLOv8Decode
from zoo.models.yolov8.preprocessor import YOLOv8Preprocessor

STRIDES = (8, 16, 32)


class YOLOv8Detector(Task):
    """Args:
        backbone: a YOLOv8Backbone (its ``fused`` decides whether the head is fused too).
        num_classes: classes of the class branch; ``class_names`` their names.
        reg_max: DFL bins per box side (16).
        score_threshold, iou_threshold, max_detections: ``detect`` / ``predict`` defaults
            (ultralytics' predictor's: 0.25, 0.7, 300).
        preprocessor: a YOLOv8Preprocessor (letterbox) for raw images.
    """
    backbone_cls = YOLOv8Backbone
    preprocessor_cls = YOLOv8Preprocessor
    pipeline_tag = "object-detection"

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
        opts = {"dtype": dtype, "fused": backbone.fused}
        images = layers.Input((None, None, 3), name="images")
        feats = backbone(images)
        p3, p4, p5 = feats["P3"], feats["P4"], feats["P5"]
        up = lambda x, i: layers.UpSampling2D(2, name=f"model_{i}_upsample",  # noqa: E731
                                              dtype=dtype)(x)
        cat = lambda xs, i: layers.Concatenate(axis=-1, name=f"model_{i}_concat",  # noqa: E731
                                               dtype=dtype)(xs)
        x12 = c2f(cat([up(p5, 10), p4], 11), ch(512), n, False, prefix="model_12", **opts)
        n3 = c2f(cat([up(x12, 13), p3], 14), ch(256), n, False, prefix="model_15", **opts)
        x = conv_bn_act(n3, ch(256), 3, 2, prefix="model_16", **opts)
        n4 = c2f(cat([x, x12], 17), ch(512), n, False, prefix="model_18", **opts)
        x = conv_bn_act(n4, ch(512), 3, 2, prefix="model_19", **opts)
        n5 = c2f(cat([x, p5], 20), ch(1024), n, False, prefix="model_21", **opts)

        levels = [n3, n4, n5]
        box_ch = max(16, n3.shape[-1] // 4, reg_max * 4)
        cls_ch = max(n3.shape[-1], min(num_classes, 100))
        box_maps, class_maps = [], []
        for i, (f, stride) in enumerate(zip(levels, STRIDES)):
            b = conv_bn_act(f, box_ch, 3, prefix=f"model_22_cv2_{i}_0", **opts)
            b = conv_bn_act(b, box_ch, 3, prefix=f"model_22_cv2_{i}_1", **opts)
            b = layers.Conv2D(4 * reg_max, 1, bias_initializer=initializers.Constant(2.0),
                              name=f"model_22_cv2_{i}_2", dtype=dtype)(b)
            c = conv_bn_act(f, cls_ch, 3, prefix=f"model_22_cv3_{i}_0", **opts)
            c = conv_bn_act(c, cls_ch, 3, prefix=f"model_22_cv3_{i}_1", **opts)
            class_bias = math.log(5 / num_classes / (640 / stride) ** 2)
            c = layers.Conv2D(num_classes, 1, bias_initializer=initializers.Constant(class_bias),
                              name=f"model_22_cv3_{i}_2", dtype=dtype)(c)
            box_maps.append(b)
            class_maps.append(c)
        outputs = YOLOv8Decode(num_classes, reg_max, STRIDES, name="decode",
                               dtype=dtype)({"boxes": box_maps, "classes": class_maps})
        super().__init__(inputs=images, outputs=outputs, name=name or "yolov8_detector",
                         dtype=dtype, **kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.num_classes = num_classes
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.reg_max = int(reg_max)
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = int(max_detections)
        self._fused_detector = None

    # -- inference ------------------------------------------------------------------------
    def fuse(self):
        """This detector in its inference form: each conv + BatchNorm folded into one conv
        with a bias (ultralytics' ``model.fuse()``), the same outputs up to rounding, fewer
        ops. Made once from the current weights and kept for ``detect`` / ``predict``;
        ``fit``, ``load_weights`` and ``set_weights`` drop it (after assigning variables
        another way, call ``refresh_fused()``). A fused detector returns itself."""
        if self.backbone.fused:
            return self
        if self._fused_detector is None:
            self._fused_detector = _fused_copy(self)
        return self._fused_detector

    def refresh_fused(self):
        """Forget the fused form: the next ``detect`` / ``fuse()`` folds the weights again."""
        self._fused_detector = None

    def detect(self, images, score_threshold=None, iou_threshold=None, max_detections=None,
               class_agnostic=False):
        """Detections after non-maximum suppression, as NumPy arrays: ``{"boxes": (B, D, 4)
        xyxy, "scores": (B, D), "classes": (B, D) int32, "num_detections": (B,) int32}``,
        D = ``max_detections``, rows past ``num_detections`` set to -1. Unset thresholds
        are the detector's.

        ``images`` are either prepared pixels, a float (B, H, W, 3) array in [0, 1] with H
        and W divisible by 32 (boxes in its pixels), or raw images: file paths, PIL images,
        uint8 arrays, lists of them of any sizes, letterboxed by the preprocessor (boxes in
        each original image's pixels, clipped to it)."""
        options = (self.score_threshold if score_threshold is None else float(score_threshold),
                   self.iou_threshold if iou_threshold is None else float(iou_threshold),
                   self.max_detections if max_detections is None else int(max_detections),
                   bool(class_agnostic))
        preprocessor = self.preprocessor or YOLOv8Preprocessor.default()
        letterbox = None
        if preprocessor.accepts_raw(images):
            images, letterbox = preprocessor.letterbox(images)
        out = _detect_function(self.fuse(), options)(ops.convert_to_tensor(images))
        out = {k: np.asarray(ops.convert_to_numpy(v)) for k, v in out.items()}
        if letterbox is not None:
            out["boxes"] = preprocessor.boxes_to_original(out["boxes"], letterbox,
                                                          out["num_detections"])
        return out

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        """``detect`` with the detector's defaults, ``batch_size`` images (32) at a time:
        one padded NumPy dict for all of ``x`` (raw images or prepared pixels)."""
        batched = isinstance(x, (list, tuple)) or len(getattr(x, "shape", ())) == 4
        if not batched:
            return self.detect(x)
        batch_size = int(batch_size or 32)
        parts = [self.detect(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    # -- weights changes drop the fused form -----------------------------------------------
    def fit(self, *args, **kwargs):
        self.refresh_fused()
        return super().fit(*args, **kwargs)

    def load_weights(self, filepath):
        self.refresh_fused()
        return super().load_weights(filepath)

    def set_weights(self, weights):
        self.refresh_fused()
        return super().set_weights(weights)


def _detect_function(detector, options):
    """The detector's forward pass, then NMS of its predictions: two compiled functions
    (per input shape on jax and tensorflow; eager on torch and numpy), the NMS one per
    (thresholds, agnostic). Two, because on TensorFlow the convolutions run fastest on its
    own (oneDNN) kernels and the NMS loop under XLA (YOLOv8n 640: forward 47 ms in a graph
    against 57 under XLA; NMS at conf 0.25 2.6 ms under XLA against 5.0 in a graph)."""
    functions = detector.__dict__.setdefault("_detect_functions", {})
    if "forward" not in functions:
        functions["forward"] = detector.make_generate_function(
            lambda images: detector(images), library_kernels=True)
    if options not in functions:
        score, iou, max_detections, agnostic = options

        def suppress(boxes, scores):
            return ops.non_max_suppression(
                boxes, scores, iou_threshold=iou, score_threshold=score,
                max_detections=max_detections, class_agnostic=agnostic)

        functions[options] = detector.make_generate_function(suppress)
    forward, suppress = functions["forward"], functions[options]

    def run(images):
        predictions = forward(images)
        return suppress(predictions["boxes"], predictions["scores"])

    return run


def _fused_copy(detector):
    """A fused YOLOv8Detector (same config, ``fused`` backbone) with ``detector``'s weights,
    each BatchNorm folded into the conv before it."""
    backbone = YOLOv8Backbone.from_config({**detector.backbone.get_config(), "fused": True})
    config = {**detector.get_config(), "backbone": backbone,
              "preprocessor": detector.preprocessor}
    fused = type(detector).from_config(config)
    pairs = conv_bn_pairs(detector)
    sources = {layer.name: layer for layer in detector._flatten_layers(include_self=False)}
    for layer in fused._flatten_layers(include_self=False):
        if not layer.weights or layer is backbone or layer.name not in sources:
            continue
        prefix = layer.name[:-len("_conv")]
        if layer.name.endswith("_conv") and prefix in pairs:
            conv, bn = pairs[prefix]
            kernel, bias = fold_batch_norm(
                conv.kernel.numpy(), bn.gamma.numpy(), bn.beta.numpy(),
                bn.moving_mean.numpy(), bn.moving_variance.numpy(), bn.epsilon)
            layer.set_weights([kernel, bias])
        else:
            layer.set_weights(sources[layer.name].get_weights())
    return fused
