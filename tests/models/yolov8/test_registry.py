"""The YOLOv8 registry entries (zoo/presets/yolov8.toml): one ultralytics .pt file per scale
in Ultralytics/YOLOv8, AGPL-3.0, and the parameter counts ultralytics reports (n and s are
also the built YOLOv8Detector's: test_backbone.py)."""
import zoo

COUNTS = {"n": 3_157_200, "s": 11_166_560, "m": 25_902_640, "l": 43_691_520,
          "x": 68_229_648}  # ultralytics' DetectionModel(yolov8<scale>.yaml, nc=80)


def test_every_scale_from_its_file_with_its_license():
    found = {e.name: e for e in zoo.presets.list() if e.family == "yolov8"}
    assert sorted(found) == sorted(f"yolov8_{s}_coco" for s in COUNTS)
    for scale, count in COUNTS.items():
        entry = found[f"yolov8_{scale}_coco"]
        assert entry.handle == f"hf://Ultralytics/YOLOv8/yolov8{scale}.pt"
        assert entry.source_format == "ultralytics" and entry.license == "agpl-3.0"
        assert entry.class_name == "YOLOv8Detector" and f"yolov8{scale}" in entry.aliases
        assert entry.parameter_count == count
        assert zoo.presets.get(f"yolov8{scale}").name == entry.name
