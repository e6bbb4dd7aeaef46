"""End to end against ultralytics' predictor on its own sample images (bus.jpg, zidane.jpg,
shipped in its wheel): zoo reads the image file, letterboxes it, runs the fused detector and
NMS, and maps the boxes back; make_predictor_references.py ran ``YOLO(...).predict`` on the
same files with the same random checkpoint. The pipeline and ``zoo run --save`` on top.

Tolerances: the same count and classes, IoU >= 0.995 and scores within 1e-3 per box (the
issue asks 0.98 and 0.02; measured: IoU >= 0.9997, scores within 1e-5, the letterbox within
one grey level of OpenCV's)."""
import json
import os

import numpy as np
import pytest

import zoo
from tests.references import reference_fixture
from zoo import cli

HERE = os.path.dirname(os.path.abspath(__file__))
STAND_INS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "stand_ins")
predictor_references = reference_fixture(
    os.path.join(HERE, "make_predictor_references.py"), requires=("ultralytics", "torch"),
    python_path=[STAND_INS], name="predictor_references")


@pytest.fixture(scope="module")
def reference(predictor_references):
    with open(os.path.join(predictor_references, "predictions.json")) as f:
        ref = json.load(f)
    ref["checkpoint"] = os.path.join(predictor_references, "predictor.pt")
    return ref


@pytest.fixture(scope="module")
def detector(reference):
    return zoo.Model.from_preset(reference["checkpoint"])


def iou(a, b):
    """Row-wise IoU of two (N, 4) xyxy arrays."""
    lt, rb = np.maximum(a[:, :2], b[:, :2]), np.minimum(a[:, 2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), -1)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], -1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def assert_same_detections(boxes, scores, classes, rows, what):
    rows = np.asarray(rows)
    assert len(boxes) == len(rows) >= 15, f"{what}: {len(boxes)} boxes, ultralytics {len(rows)}"
    np.testing.assert_array_equal(classes, rows[:, 5].astype(int), err_msg=what)
    np.testing.assert_allclose(scores, rows[:, 4], atol=1e-3, err_msg=what)
    assert iou(np.asarray(boxes, np.float64), rows[:, :4]).min() >= 0.995, what


def test_detect_on_each_file_matches_the_predictor(detector, reference):
    for name, path in reference["assets"].items():
        out = detector.detect(path)
        n = int(out["num_detections"][0])
        assert_same_detections(out["boxes"][0, :n], out["scores"][0, :n],
                               out["classes"][0, :n], reference["single"][name], name)


def test_a_batch_of_two_sizes_matches_the_predictor(detector, reference):
    """Mixed sizes: both padded to 640 x 640, as the predictor pads them."""
    out = detector.detect(list(reference["assets"].values()))
    for i, name in enumerate(reference["assets"]):
        n = int(out["num_detections"][i])
        assert_same_detections(out["boxes"][i, :n], out["scores"][i, :n],
                               out["classes"][i, :n], reference["batch"][name], name)


def test_pipeline_gives_transformers_format(reference):
    detect = zoo.pipeline("object-detection", preset=reference["checkpoint"])
    path = reference["assets"]["bus"]
    results = detect(path)
    rows = np.asarray(reference["single"]["bus"])
    assert len(results) == len(rows)
    first = results[0]
    assert set(first) == {"score", "label", "box"}
    assert set(first["box"]) == {"xmin", "ymin", "xmax", "ymax"}
    assert all(isinstance(v, int) for v in first["box"].values())
    assert [r["label"] for r in results] == [f"thing_{int(c)}" for c in rows[:, 5]]
    boxes = np.array([[r["box"][k] for k in ("xmin", "ymin", "xmax", "ymax")] for r in results])
    assert np.abs(boxes - rows[:, :4]).max() <= 0.5 + 0.05
    both = detect([path, reference["assets"]["zidane"]], threshold=0.5)
    assert len(both) == 2 and all(r["score"] > 0.5 for image in both for r in image)
    assert len(detect(path, threshold=0.5, max_detections=3)) == 3


def test_zoo_run_prints_and_draws(reference, tmp_path, capsys):
    paths = list(reference["assets"].values())
    out = tmp_path / "drawn"
    assert cli.main(["run", "object-detection", "--preset", reference["checkpoint"], *paths,
                     "--save", str(out), "-o", "threshold=0.5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["input"] for line in lines] == paths
    assert all(d["score"] > 0.5 for line in lines for d in line["output"])
    from PIL import Image

    for path in paths:
        drawn = out / (os.path.splitext(os.path.basename(path))[0] + ".png")
        original = np.asarray(Image.open(path).convert("RGB"))
        image = np.asarray(Image.open(drawn))
        assert image.shape == original.shape
        assert (image != original).any(axis=-1).mean() > 0.001  # boxes were drawn
    assert sorted(os.listdir(out)) == ["bus.png", "zidane.png"]  # no temporary files left


def test_zoo_run_save_is_for_detection_only(capsys):
    assert cli.main(["run", "fill-mask", "--preset", "x", "a [MASK]", "--save", "d"]) == 1
    assert "object-detection" in capsys.readouterr().err


def test_bad_images_through_the_pipeline_name_the_file(reference, tmp_path):
    detect = zoo.pipeline("object-detection", preset=reference["checkpoint"])
    with open(reference["assets"]["bus"], "rb") as f:
        data = f.read()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[:len(data) // 3])
    with pytest.raises(ValueError, match="cut.jpg"):
        detect(str(cut))
    with pytest.raises(ValueError, match="directory"):
        detect(str(tmp_path))
    with pytest.raises(ValueError, match="images"):
        detect(np.zeros((0, 5, 3), np.uint8))
