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


def ultralytics_boxes_scores(checkpoints, name="trainer"):
    """ultralytics' inference output (1, 4 + nc, A) of checkpoint ``name``: xywh in pixels,
    sigmoid scores -> (x NHWC, boxes xyxy (1, A, 4), scores (1, A, nc))."""
    ref = np.load(os.path.join(checkpoints, name + "_io.npz"))
    y = ref["y"].transpose(0, 2, 1)
    xy, wh = y[..., :2], y[..., 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=-1)
    return ref["x"].transpose(0, 2, 3, 1), boxes, y[..., 4:]


def assert_matches_ultralytics(detector, checkpoints, name="trainer"):
    x, boxes, scores = ultralytics_boxes_scores(checkpoints, name)
    out = detector(x)
    got_boxes, got_scores = to_numpy(out["boxes"]), to_numpy(out["scores"])
    assert got_boxes.shape == boxes.shape and got_scores.shape == scores.shape
    scale = max(1.0, float(np.abs(boxes).max()))
    assert np.abs(got_boxes - boxes).max() <= 1e-4 * scale
    assert np.abs(got_scores - scores).max() <= 1e-4


def trainer_path(checkpoints):
    return os.path.join(checkpoints, "trainer.pt")


# -- what the reader gives is ultralytics' model (checked without zoo's YOLOv8) -------------

def conv2d(x, w, b=None, stride=1):
    """x (N, C, H, W), w (O, C, k, k), zero padding k // 2 -> (N, O, H / stride, W / stride)."""
    k = w.shape[-1]
    x = np.pad(x, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    y = np.einsum("nchwij,ocij->nohw", windows[:, :, ::stride, ::stride], w, optimize=True)
    return y if b is None else y + b[None, :, None, None]


def silu(x):
    return x / (1 + np.exp(-x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class PlainYOLOv8:
    """yolov8.yaml's network in float64 NumPy (NCHW), from a state_dict and the yaml: an
    oracle, independent of zoo's YOLOv8, that what the reader returns is ultralytics'
    model. ``__call__(x, strides)`` -> (boxes (N, A, 4) xyxy pixels, scores (N, A, nc))."""

    def __init__(self, state_dict, yaml):
        self.sd = {k: v.astype(np.float64) for k, v in state_dict.items()}
        self.yaml = yaml

    def conv(self, x, name, stride=1):  # Conv: conv (no bias) + BatchNorm (eps 1e-3) + SiLU
        y = conv2d(x, self.sd[name + ".conv.weight"], stride=stride)
        g, b, m, v = (self.sd[f"{name}.bn.{t}"][:, None, None]
                      for t in ("weight", "bias", "running_mean", "running_var"))
        return silu((y - m) / np.sqrt(v + 1e-3) * g + b)

    def c2f(self, x, name, shortcut):
        y = self.conv(x, name + ".cv1")
        parts = [y[:, :y.shape[1] // 2], y[:, y.shape[1] // 2:]]
        j = 0
        while f"{name}.m.{j}.cv1.conv.weight" in self.sd:
            h = self.conv(self.conv(parts[-1], f"{name}.m.{j}.cv1"), f"{name}.m.{j}.cv2")
            parts.append(parts[-1] + h if shortcut else h)
            j += 1
        return self.conv(np.concatenate(parts, 1), name + ".cv2")

    def sppf(self, x, name):
        pooled = [self.conv(x, name + ".cv1")]
        for _ in range(3):  # max pool 5, stride 1, padding 2
            padded = np.pad(pooled[-1], ((0, 0), (0, 0), (2, 2), (2, 2)),
                            constant_values=-np.inf)
            windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 5), axis=(2, 3))
            pooled.append(windows.max((-1, -2)))
        return self.conv(np.concatenate(pooled, 1), name + ".cv2")

    def detect(self, features, name, strides, nc):
        boxes, scores = [], []
        for i, f in enumerate(features):
            def branch(which):
                h = self.conv(self.conv(f, f"{name}.{which}.{i}.0"), f"{name}.{which}.{i}.1")
                return conv2d(h, self.sd[f"{name}.{which}.{i}.2.weight"],
                              self.sd[f"{name}.{which}.{i}.2.bias"])
            distribution, logits = branch("cv2"), branch("cv3")
            n, _, height, width = distribution.shape
            d = distribution.reshape(n, 4, 16, height * width)
            d = np.exp(d - d.max(2, keepdims=True))
            distance = (d / d.sum(2, keepdims=True) * np.arange(16)[:, None]).sum(2)  # ltrb
            ys, xs = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5,
                                 indexing="ij")
            anchor = np.stack([xs.ravel(), ys.ravel()])[None]
            boxes.append(np.concatenate([anchor - distance[:, :2], anchor + distance[:, 2:]],
                                        1) * strides[i])
            scores.append(sigmoid(logits.reshape(n, nc, -1)))
        return (np.concatenate(boxes, 2).transpose(0, 2, 1),
                np.concatenate(scores, 2).transpose(0, 2, 1))

    def __call__(self, x, strides):
        backbone_layers = len(self.yaml["backbone"])
        outputs = []
        for i, (source, _, kind, args) in enumerate(self.yaml["backbone"] + self.yaml["head"]):
            def take(j):
                return (outputs[-1] if outputs else x) if j == -1 else outputs[j]
            inputs = take(source) if isinstance(source, int) else [take(j) for j in source]
            name = f"model.{i}"
            if kind == "Conv":
                y = self.conv(inputs, name, stride=args[2])
            elif kind == "C2f":  # shortcut in the backbone (args[1]), none in the neck
                y = self.c2f(inputs, name, i < backbone_layers and len(args) > 1 and args[1])
            elif kind == "SPPF":
                y = self.sppf(inputs, name)
            elif kind == "nn.Upsample":
                y = inputs.repeat(2, 2).repeat(2, 3)
            elif kind == "Concat":
                y = np.concatenate(inputs, 1)
            else:  # Detect
                return self.detect(inputs, name, strides, self.yaml["nc"])
            outputs.append(y)


def test_the_weights_read_reproduce_ultralytics_in_plain_numpy(checkpoints):
    checkpoint = uc.read_checkpoint(trainer_path(checkpoints))
    x, boxes, scores = ultralytics_boxes_scores(checkpoints)
    got_boxes, got_scores = PlainYOLOv8(checkpoint.state_dict, checkpoint.yaml)(
        x.transpose(0, 3, 1, 2).astype(np.float64), checkpoint.stride)
    assert np.abs(got_boxes - boxes).max() <= 1e-4 * max(1.0, float(np.abs(boxes).max()))
    assert np.abs(got_scores - scores).max() <= 1e-4
    assert got_scores.std() > 0.1  # the class branch and BN statistics matter


def test_a_dfl_that_is_not_the_fixed_projection_is_refused(checkpoints):
    checkpoint = uc.read_checkpoint(trainer_path(checkpoints))
    state = dict(checkpoint.state_dict)
    state["model.22.dfl.conv.weight"] = state["model.22.dfl.conv.weight"] * 2
    with pytest.raises(ValueError, match="model.22.dfl.conv.weight"):
        uc.check_dfl(state, "x.pt")


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


def test_local_pt_matches_ultralytics(checkpoints):
    from zoo.models.yolov8.detector import YOLOv8Detector

    detector = YOLOv8Detector.from_preset(trainer_path(checkpoints))
    assert isinstance(detector, YOLOv8Detector)
    assert list(detector.class_names) == [f"thing_{i}" for i in range(5)]
    assert_matches_ultralytics(detector, checkpoints)
    generic = zoo.Model.from_preset(trainer_path(checkpoints))
    assert type(generic) is YOLOv8Detector


def test_from_preset_overrides_reach_the_head_and_the_backbone_loads_alone(checkpoints):
    """The loader plans like every CheckpointLoader: head settings are overridable, what
    the checkpoint fixes is refused by name, and YOLOv8Backbone.from_preset gives the
    checkpoint's modules 0-9 with their weights."""
    from zoo.models.yolov8.backbone import YOLOv8Backbone
    from zoo.models.yolov8.detector import YOLOv8Detector

    path = trainer_path(checkpoints)
    detector = YOLOv8Detector.from_preset(path, score_threshold=0.4, max_detections=9)
    assert (detector.score_threshold, detector.max_detections) == (0.4, 9)
    assert detector.preprocessor is not None and detector.preprocessor.image_converter
    assert_matches_ultralytics(detector, checkpoints)
    for fixed in ({"num_classes": 3}, {"class_names": ["a"] * 5}):
        with pytest.raises(PresetError, match="set by the checkpoint"):
            YOLOv8Detector.from_preset(path, **fixed)
    backbone = YOLOv8Backbone.from_preset(path)
    assert type(backbone) is YOLOv8Backbone
    mine = {p: to_numpy(v.value) for p, v in backbone.variable_paths().items()}
    theirs = {p: to_numpy(v.value) for p, v in detector.backbone.variable_paths().items()}
    assert mine.keys() == theirs.keys() and len(mine) > 50
    for name in mine:
        np.testing.assert_array_equal(mine[name], theirs[name])
    with pytest.raises(PresetError, match="converts to YOLOv8Backbone, not a"):
        from zoo.models.bert import BertBackbone

        BertBackbone.from_preset(path)


def test_scale_m_with_seven_classes_matches_ultralytics(checkpoints):
    """A second scale (m: depth 0.67, width 0.75, max_channels 768), random weights, BN
    statistics and head biases, 7 classes, a 96 x 64 input."""
    from zoo.models.yolov8.detector import YOLOv8Detector

    detector = YOLOv8Detector.from_preset(os.path.join(checkpoints, "trainer_m.pt"))
    assert detector.num_classes == 7 and detector.backbone.max_channels == 768
    assert_matches_ultralytics(detector, checkpoints, "trainer_m")
    _, _, scores = ultralytics_boxes_scores(checkpoints, "trainer_m")
    assert scores.std() > 0.1  # the class branch and BN statistics matter


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


def test_a_registry_name_downloads_only_its_file(checkpoints, fake_hub):  # noqa: F811
    """yolov8n -> hf://Ultralytics/YOLOv8/yolov8n.pt (the registry's hf_file): that file only."""
    data = open(trainer_path(checkpoints), "rb").read()
    fake_hub.add_files("Ultralytics/YOLOv8", {"yolov8n.pt": data, "yolov8s.pt": b"not fetched"})
    resolved = download.resolve("yolov8n")
    assert resolved.files == ("yolov8n.pt",) and resolved.entry.name == "yolov8_n_coco"
    assert not os.path.exists(os.path.join(os.path.dirname(resolved.path), "yolov8s.pt"))
    assert_matches_ultralytics(zoo.Model.from_preset("yolov8n"), checkpoints)


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
