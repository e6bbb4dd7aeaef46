"""YOLOv8Detector beyond its forward pass: fuse(), detect() on raw images, predict(),
bfloat16, and presets (with the letterbox preprocessor) on every backend."""
import numpy as np
import pytest

from tests.models.helpers import run_backbone_test, run_preset_test
from tests.testing import to_numpy
from zoo.models.yolov8 import (YOLOv8Backbone, YOLOv8Detector, YOLOv8ImageConverter,
                               YOLOv8Preprocessor)


def randomized(detector, seed=0):
    """Random BatchNorm statistics and affine terms (so that folding them matters) and
    class biases that put scores around 0.5 (so that NMS keeps boxes)."""
    rng = np.random.default_rng(seed)
    for v in detector.variables:
        name = v.path.rsplit("/", 1)[-1]
        if name == "moving_variance":
            v.assign(rng.random(v.shape).astype("float32") + 0.5)
        elif name in ("moving_mean", "beta"):
            v.assign(rng.normal(size=v.shape).astype("float32") * 0.3)
        elif name == "gamma":
            v.assign(rng.normal(1.0, 0.3, size=v.shape).astype("float32"))
        elif name == "bias" and "_cv3_" in v.path:
            v.assign(np.zeros(v.shape, "float32"))
    return detector


@pytest.fixture(scope="module")
def detector():
    backbone = YOLOv8Backbone(**YOLOv8Backbone.scale_config("n"))
    return randomized(YOLOv8Detector(backbone, num_classes=3, class_names=["a", "b", "c"],
                                     preprocessor=YOLOv8Preprocessor(
                                         YOLOv8ImageConverter(image_size=96))))


def images(seed=1, shape=(2, 64, 96)):
    return np.random.default_rng(seed).random(shape + (3,), dtype="float32")


def test_backbone_standard_checks():
    run_backbone_test(YOLOv8Backbone, YOLOv8Backbone.scale_config("n"), images(),
                      {"P3": (2, 8, 12, 64), "P4": (2, 4, 6, 128), "P5": (2, 2, 3, 256)},
                      variable_image_size=(32, 64))


def test_fuse_folds_batch_norm_into_the_convs(detector):
    fused = detector.fuse()
    assert fused is detector.fuse(), "made once and kept"
    assert fused.backbone.fused and fused.fuse() is fused
    assert not any("_bn/" in v.path for v in fused.variables)
    assert len(fused.variables) < len(detector.variables)
    x = images()
    want, got = detector(x), fused(x)
    boxes = to_numpy(want["boxes"])
    np.testing.assert_allclose(to_numpy(got["boxes"]), boxes, atol=1e-4 * np.abs(boxes).max())
    np.testing.assert_allclose(to_numpy(got["scores"]), to_numpy(want["scores"]), atol=1e-4)
    assert fused.get_config()["class_names"] == ["a", "b", "c"]


def test_changing_weights_drops_the_fused_form(detector):
    fused = detector.fuse()
    detector.set_weights(detector.get_weights())
    assert detector.fuse() is not fused


def test_detect_on_raw_images_maps_boxes_back(detector):
    rng = np.random.default_rng(2)
    raw = [rng.integers(0, 256, (150, 90, 3), dtype=np.uint8),
           rng.integers(0, 256, (70, 120, 3), dtype=np.uint8)]
    out = detector.detect(raw, score_threshold=0.3)
    pixels, letterbox = detector.preprocessor.letterbox(raw)
    assert pixels.shape == (2, 96, 96, 3)  # mixed sizes: the full square
    manual = detector.detect(pixels, score_threshold=0.3)
    np.testing.assert_array_equal(out["num_detections"], manual["num_detections"])
    assert out["num_detections"].min() > 0
    want = detector.preprocessor.boxes_to_original(manual["boxes"], letterbox,
                                                   manual["num_detections"])
    np.testing.assert_allclose(out["boxes"], want, atol=1e-3)
    for i, (h, w) in enumerate([(150, 90), (70, 120)]):
        n = out["num_detections"][i]
        boxes = out["boxes"][i, :n]
        assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= w).all() and \
            (boxes[:, [1, 3]] <= h).all()
        assert (out["boxes"][i, n:] == -1).all()


def test_predict_is_detect_with_the_defaults(detector):
    x = images(3, (3, 64, 96))
    got = detector.predict(x, batch_size=2)
    want = detector.detect(x)
    assert set(got) == {"boxes", "scores", "classes", "num_detections"}
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-4)
    assert got["boxes"].shape == (3, detector.max_detections, 4)


def test_bfloat16_detector_agrees_with_float32(detector):
    backbone = YOLOv8Backbone.from_config({**detector.backbone.get_config(),
                                           "dtype": "bfloat16"})
    half = YOLOv8Detector.from_config({**detector.get_config(), "backbone": backbone,
                                       "dtype": "bfloat16"})
    half.set_weights(detector.get_weights())
    assert half.compute_dtype == "bfloat16"
    x = images()
    want, got = detector(x), half(x)
    assert str(to_numpy(got["scores"]).dtype) == "float32"  # decoded in float32
    scores, want_scores = to_numpy(got["scores"]), to_numpy(want["scores"])
    assert np.abs(scores - want_scores).mean() < 0.02
    top = want_scores.max(-1) > 0.5
    assert (scores.argmax(-1) == want_scores.argmax(-1))[top].mean() > 0.9
    out = half.detect(x, score_threshold=0.3)
    assert out["num_detections"].min() > 0


def test_preset_round_trip_with_its_preprocessor(detector, tmp_path):
    rng = np.random.default_rng(4)
    raw = [rng.integers(0, 256, (100, 80, 3), dtype=np.uint8)]
    loaded = run_preset_test(detector, images(), tmp_path, raw_inputs=raw, atol=1e-4)
    assert loaded.class_names == ["a", "b", "c"]
    assert loaded.preprocessor.image_converter.image_size == (96, 96)
    np.testing.assert_allclose(loaded.detect(raw)["scores"], detector.detect(raw)["scores"],
                               atol=1e-4)
