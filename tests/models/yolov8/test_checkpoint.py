"""ultralytics ``.pt`` checkpoints as from_preset handles: a local path and
``hf://org/repo/file.pt`` (the loopback Hub of tests/hub), ``zoo convert`` and
scripts/convert_yolov8.py; checkpoints made by ultralytics itself
(make_checkpoint_references.py), its inference output the reference."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from tests.hub.conftest import fake_hub, hf_home  # noqa: F401  (loopback Hub, empty cache)
from tests.hub.conftest import snapshot_files
from tests.references import reference_fixture
from tests.testing import to_numpy
from zoo.hub import download, handles
from zoo.hub.preset_format import PresetError
from zoo.models.yolov8 import ultralytics_checkpoint as uc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REPO = "Ultralytics/YOLOv8-test"
ultralytics_checkpoints = reference_fixture(
    os.path.join(HERE, "make_checkpoint_references.py"), requires=("ultralytics", "torch"),
    python_path=[os.path.join(ROOT, "stand_ins")], name="checkpoints")

try:
    from zoo.models.yolov8 import convert as _convert  # noqa: F401  (helper A's converter)
    HAVE_CONVERTER = hasattr(_convert, "detector_from_state_dict")
except ImportError:
    HAVE_CONVERTER = False
needs_converter = pytest.mark.skipif(not HAVE_CONVERTER, reason="zoo.models.yolov8.convert."
                                     "detector_from_state_dict is not there yet")


def ultralytics_boxes_scores(checkpoints):
    """ultralytics' inference output (1, 4 + nc, A): xywh in pixels, sigmoid scores ->
    (x NHWC, boxes xyxy (1, A, 4), scores (1, A, nc))."""
    ref = np.load(os.path.join(checkpoints, "trainer_io.npz"))
    y = ref["y"].transpose(0, 2, 1)
    xy, wh = y[..., :2], y[..., 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=-1)
    return ref["x"].transpose(0, 2, 3, 1), boxes, y[..., 4:]


def assert_matches_ultralytics(detector, checkpoints):
    x, boxes, scores = ultralytics_boxes_scores(checkpoints)
    out = detector(x)
    got_boxes, got_scores = to_numpy(out["boxes"]), to_numpy(out["scores"])
    assert got_boxes.shape == boxes.shape and got_scores.shape == scores.shape
    scale = max(1.0, float(np.abs(boxes).max()))
    assert np.abs(got_boxes - boxes).max() <= 1e-4 * scale
    assert np.abs(got_scores - scores).max() <= 1e-4


def trainer_path(checkpoints):
    return os.path.join(checkpoints, "trainer.pt")


# -- handles --------------------------------------------------------------------------------

def test_hf_handles_address_single_file_checkpoints():
    parsed = handles.parse("hf://Ultralytics/YOLOv8/weights/yolov8n.pt@v8.1")
    assert (parsed.repo_id, parsed.filename, parsed.revision) == \
        ("Ultralytics/YOLOv8", "weights/yolov8n.pt", "v8.1")
    assert handles.parse("hf://Ultralytics/YOLOv8").filename is None
    with pytest.raises(ValueError, match="hf://a/b/c.*file.pt"):
        handles.parse("hf://a/b/c")
    with pytest.raises(ValueError, match=r"'\.\./x\.pt'"):
        handles.parse("hf://a/b/../x.pt")


def test_hf_file_handle_downloads_only_that_file(checkpoints, fake_hub):  # noqa: F811
    data = open(trainer_path(checkpoints), "rb").read()
    fake_hub.add_files(REPO, {"yolov8n.pt": data, "other.pt": b"x" * 10,
                              "README.md": b"# weights\n"})
    resolved = download.resolve(f"hf://{REPO}/yolov8n.pt")
    assert os.path.isfile(resolved.path) and resolved.path.endswith("yolov8n.pt")
    assert snapshot_files(os.path.dirname(resolved.path)) == ["yolov8n.pt"]
    assert uc.looks_like_checkpoint(resolved.path)
    with pytest.raises(download.PresetDownloadError, match="no file 'absent.pt'.*other.pt"):
        download.resolve(f"hf://{REPO}/absent.pt")


# -- the loader -----------------------------------------------------------------------------

def test_the_loader_claims_ultralytics_files_only(checkpoints, tmp_path):
    from zoo.hub.loaders import registry

    assert registry.find_loader(trainer_path(checkpoints)) is uc.UltralyticsLoader
    fake = tmp_path / "x.pt"
    fake.write_bytes(b"not a zip")
    assert not uc.UltralyticsLoader.claims(str(fake))


@pytest.mark.parametrize("kind,what", [("cls", "image classification"),
                                       ("seg", "instance segmentation")])
def test_from_preset_refuses_other_tasks_saying_what_they_are(checkpoints, kind, what):
    path = os.path.join(checkpoints, kind + ".pt")
    with pytest.raises(PresetError, match=what):
        zoo.Model.from_preset(path)


def test_from_preset_of_a_truncated_pt_names_the_file(checkpoints, tmp_path):
    data = open(trainer_path(checkpoints), "rb").read()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises((PresetError, ValueError), match="cut.pt"):
        zoo.Model.from_preset(str(path))


@needs_converter
def test_local_pt_matches_ultralytics(checkpoints):
    from zoo.models.yolov8.detector import YOLOv8Detector

    detector = YOLOv8Detector.from_preset(trainer_path(checkpoints))
    assert isinstance(detector, YOLOv8Detector)
    assert list(detector.class_names) == [f"thing_{i}" for i in range(5)]
    assert_matches_ultralytics(detector, checkpoints)
    generic = zoo.Model.from_preset(trainer_path(checkpoints))
    assert type(generic) is YOLOv8Detector


@needs_converter
def test_hf_pt_handle_loads_and_converts(checkpoints, fake_hub, tmp_path):  # noqa: F811
    fake_hub.add_files(REPO, {"yolov8n.pt": open(trainer_path(checkpoints), "rb").read()})
    detector = zoo.Model.from_preset(f"hf://{REPO}/yolov8n.pt")
    assert_matches_ultralytics(detector, checkpoints)
    from zoo import cli

    out = tmp_path / "converted"
    assert cli.main(["convert", f"hf://{REPO}/yolov8n.pt", str(out)]) in (0, None)
    reloaded = zoo.Model.from_preset(str(out))
    assert list(reloaded.class_names) == [f"thing_{i}" for i in range(5)]
    assert_matches_ultralytics(reloaded, checkpoints)


@needs_converter
def test_convert_script_writes_a_preset(checkpoints, tmp_path):
    out = tmp_path / "preset"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(ROOT)}
    result = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(ROOT), "scripts", "convert_yolov8.py"),
         trainer_path(checkpoints), str(out), "--size", "64"], env=env, capture_output=True,
        text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "5 classes" in result.stdout
    with open(out / "config.json") as f:
        assert "thing_4" in json.dumps(json.load(f))


def test_describe_a_file_handle(checkpoints, fake_hub):  # noqa: F811
    data = open(trainer_path(checkpoints), "rb").read()
    fake_hub.add_files(REPO, {"yolov8n.pt": data})
    desc = download.describe(f"hf://{REPO}/yolov8n.pt")
    assert desc.problem is None and desc.repo_id == REPO
    assert desc.files == [("yolov8n.pt", len(data), None)]
    resolved = download.resolve(f"hf://{REPO}/yolov8n.pt")
    assert download.describe(f"hf://{REPO}/yolov8n.pt").files[0][2] == resolved.path
