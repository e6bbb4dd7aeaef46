"""YOLOv8Backbone / YOLOv8Detector build and run; parameter counts of the COCO models (nc=80)
equal ultralytics' (n 3,157,200; s 11,166,560) once DFL's fixed 16-bin projection, a
constant in zoo, is added. Numerical parity with ultralytics is not tested here yet."""
import numpy as np
import pytest

from zoo import ops
from zoo.models.yolov8 import YOLOv8Backbone, YOLOv8Detector

DFL_FIXED_PARAMS = 16


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def test_backbone_pyramid_shapes():
    backbone = YOLOv8Backbone(**YOLOv8Backbone.scale_config("n"))
    out = backbone(np.random.default_rng(0).random((1, 64, 96, 3), dtype="float32"))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "P3": (1, 8, 12, 64), "P4": (1, 4, 6, 128), "P5": (1, 2, 3, 256)}


def test_scale_config_rejects_unknown_scale():
    with pytest.raises(ValueError, match="unknown scale"):
        YOLOv8Backbone.scale_config("q")


@pytest.mark.parametrize("scale,expected", [("n", 3_157_200), ("s", 11_166_560)])
def test_coco_parameter_counts(scale, expected):
    detector = YOLOv8Detector(YOLOv8Backbone(**YOLOv8Backbone.scale_config(scale)), 80)
    assert trainable_count(detector) + DFL_FIXED_PARAMS == expected


def test_detector_output_shapes():
    detector = YOLOv8Detector(YOLOv8Backbone(**YOLOv8Backbone.scale_config("n")), 3)
    out = detector(np.random.default_rng(1).random((2, 64, 96, 3), dtype="float32"))
    anchors = 8 * 12 + 4 * 6 + 2 * 3
    assert tuple(out["boxes"].shape) == (2, anchors, 4)
    assert tuple(out["scores"].shape) == (2, anchors, 3)
    scores = ops.convert_to_numpy(out["scores"])
    assert np.all((scores >= 0) & (scores <= 1))


def test_detect_is_nms_of_the_predictions():
    backbone = YOLOv8Backbone(**YOLOv8Backbone.scale_config("n"))
    detector = YOLOv8Detector(backbone, num_classes=3, score_threshold=0.2, max_detections=7)
    images = np.random.default_rng(1).random((2, 64, 96, 3)).astype("float32")
    predictions = detector(images)
    want = ops.non_max_suppression(predictions["boxes"], predictions["scores"],
                                   iou_threshold=0.7, score_threshold=0.2, max_detections=7)
    got = detector.detect(images)
    for key in want:
        np.testing.assert_allclose(ops.convert_to_numpy(got[key]), ops.convert_to_numpy(want[key]),
                                   atol=1e-5)
    assert ops.convert_to_numpy(got["classes"]).shape == (2, 7)
    loose = detector.detect(images, score_threshold=0.0, max_detections=3, class_agnostic=True)
    assert ops.convert_to_numpy(loose["scores"]).shape == (2, 3)
